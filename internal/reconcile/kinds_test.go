package reconcile

import (
	"context"
	"testing"

	"github.com/mhhs-sit/datacut/internal/universe"
)

// testEngine is an engine whose statements are given, not read: cols by
// Item.String().
func testEngine(clear map[string]bool, cols map[string]*column) *engine {
	e := &engine{rules: &Rules{Senders: map[string]string{"registration": "P", "ees": "X"}},
		clear:   func(ref string) bool { return clear[ref] },
		sources: []universe.Source{{Cut: "registration", MPID: "EELC", Version: 2}, {Cut: "ees", MPID: "BRGT", Version: 3}, {Cut: "registration", MPID: "LOND", Version: 1}},
		files:   []string{"F1", "F2"}, dict: map[uint64]string{}, cache: cols}
	return e
}

// col builds a column of (core, source, value) rows, in core order.
func col(e *engine, rows ...any) *column {
	c := &column{}
	for i := 0; i+2 < len(rows); i += 3 {
		v := rows[i+2].(string)
		h := hashValue(v)
		if h != 0 {
			e.dict[h] = v
		}
		c.cores = append(c.cores, rows[i].(uint64))
		c.src = append(c.src, uint16(rows[i+1].(int)))
		c.file = append(c.file, uint32(rows[i+1].(int)%2))
		c.line = append(c.line, int32(10+i))
		c.val = append(c.val, h)
	}
	return c
}

// compare: a clear item shows both values; an authority with no value for
// an MPAN (a cut published before manifests named D0204's recipient)
// states nothing; a masked item shows only "differs".
func TestCompareKind(t *testing.T) {
	auth, other := Item{Cut: "registration", Table: "d0204_440", Item: ItemRecipient}, Item{Cut: "ees", Table: "ees_portfolio", Item: "J0084"}
	e := testEngine(map[string]bool{"J0084": true}, map[string]*column{})
	e.cache[auth.String()] = col(e, uint64(1000000000011), 0, "BRGT", uint64(1000000000022), 0, "", uint64(1000000000033), 0, "CRWN")
	e.cache[other.String()] = col(e, uint64(1000000000011), 1, "BRGT", uint64(1000000000022), 1, "CRWN", uint64(1000000000033), 1, "BRGT")
	r := &Rule{Name: "supplier", Kind: KindCompare, Severity: SevError, Authority: &auth, Others: []Item{other}}
	if err := compareKind.check(context.Background(), e, r); err != nil {
		t.Fatal(err)
	}
	if len(e.out) != 1 {
		t.Fatalf("findings %+v, want one", e.out)
	}
	f := e.out[0]
	if f.MPAN != "1000000000033" || f.MPID != "BRGT" || f.Role != "X" || f.Version != 3 || f.OtherMPID != "EELC" || f.OtherRole != "P" ||
		f.Value != "BRGT" || f.OtherValue != "CRWN" || f.FileID != "F2" || f.Line == 0 {
		t.Fatalf("finding %+v", f)
	}
	// The same with a masked item: only "differs".
	e = testEngine(map[string]bool{}, map[string]*column{})
	e.cache[auth.String()] = col(e, uint64(1000000000033), 0, "S12A")
	e.cache[other.String()] = col(e, uint64(1000000000033), 1, "S12B")
	if err := compareKind.check(context.Background(), e, r); err != nil {
		t.Fatal(err)
	}
	if len(e.out) != 1 || e.out[0].Value != Differs || e.out[0].OtherValue != "" {
		t.Fatalf("masked: %+v", e.out)
	}
}

// linked: partners listing each other with different suppliers are one
// finding, for the registration service holding the higher core's record.
func TestLinkedKindSuppliers(t *testing.T) {
	links := Item{Cut: "registration", Table: "d0204_48m"}
	sup := Item{Cut: "registration", Table: "d0204_440", Item: ItemRecipient}
	a, b := uint64(1000000000011), uint64(1000000000022)
	e := testEngine(map[string]bool{}, map[string]*column{})
	prim := &column{cores: []uint64{a, b}, src: []uint16{0, 2}, file: []uint32{0, 1}, line: []int32{5, 7}, val: []uint64{a + 1, a + 1}}
	sec := &column{cores: []uint64{a, b}, src: []uint16{0, 2}, file: []uint32{0, 1}, line: []int32{5, 7}, val: []uint64{b + 1, b + 1}}
	e.cache[Item{Cut: links.Cut, Table: links.Table, Item: "J2243"}.String()] = prim
	e.cache[Item{Cut: links.Cut, Table: links.Table, Item: "J2244"}.String()] = sec
	e.cache[sup.String()] = col(e, a, 0, "BRGT", b, 2, "CRWN")
	r := &Rule{Name: "linked", Kind: KindLinked, Severity: SevError, Links: &links, Primary: "J2243", Secondary: "J2244", Supplier: &sup}
	if err := linkedKind.check(context.Background(), e, r); err != nil {
		t.Fatal(err)
	}
	if len(e.out) != 1 {
		t.Fatalf("findings %+v, want one", e.out)
	}
	if f := e.out[0]; f.MPAN != "1000000000022" || f.MPID != "LOND" || f.OtherMPID != "BRGT" || f.Value != "CRWN" || f.OtherValue != "BRGT" {
		t.Fatalf("finding %+v", f)
	}
	// One partner not listing the other back: a finding for its holder.
	e.out = nil
	sec.val[1] = b + 1
	prim.val[1] = b + 1
	if err := linkedKind.check(context.Background(), e, r); err != nil {
		t.Fatal(err)
	}
	if len(e.out) != 1 || e.out[0].MPAN != "1000000000022" || e.out[0].MPID != "LOND" || e.out[0].Line != 7 || e.out[0].OtherMPID != "EELC" {
		t.Fatalf("not listed back: %+v", e.out)
	}
}
