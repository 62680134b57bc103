package reconcile

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/store"
)

// A market reconciled in many passes (a tiny passBytes) has the findings,
// in the order, of one pass: cross faults of every kind, linked MPANs
// whose partners fall in other partitions among them. The passes' files
// are removed.
func TestPassesFindTheSame(t *testing.T) {
	st, _, set := market(t, 3000, 0.06)
	var passes int
	passesHook = func(n int) { passes = n }
	defer func() { passesHook = nil }()
	one := reconcile(t, st, set, builtIn(t))
	if passes != 1 {
		t.Fatalf("%d passes at the default passBytes, want 1", passes)
	}
	if len(one.Findings) < 100 {
		t.Fatalf("only %d findings", len(one.Findings))
	}
	kinds := map[string]int{}
	for _, f := range one.Findings {
		kinds[f.Kind]++
	}
	if kinds[KindLinked] == 0 || kinds[KindCompare] == 0 || kinds[KindMissing] == 0 || kinds[KindOrphan] == 0 || kinds[KindCustomerMissing] == 0 {
		t.Fatalf("findings by kind %v: a kind has none", kinds)
	}
	defer func(n int) { passBytes = n }(passBytes)
	for _, budget := range []int{600 << 10, 60 << 10, 15 << 10} {
		passBytes = budget
		got := reconcile(t, st, set, builtIn(t))
		if passes < 2 {
			t.Fatalf("passBytes %d: %d passes", budget, passes)
		}
		if len(got.Findings) != len(one.Findings) {
			t.Errorf("%d passes: %d findings, %d in one pass", passes, len(got.Findings), len(one.Findings))
		}
		for i := range min(len(got.Findings), len(one.Findings)) {
			if !reflect.DeepEqual(got.Findings[i], one.Findings[i]) {
				t.Errorf("%d passes: finding %d is %+v, in one pass %+v", passes, i, got.Findings[i], one.Findings[i])
				break
			}
		}
		if got.ID != one.ID {
			t.Errorf("%d passes: run id %s, %s in one pass", passes, got.ID, one.ID)
		}
		left, err := os.ReadDir(store.TempDir(st))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, d := range left {
			t.Errorf("%d passes left %s in the store's temp directory", passes, d.Name())
		}
		t.Logf("passBytes %d: %d passes, %d findings", budget, passes, len(got.Findings))
	}
}

// Each partition's rows of every statement the rules read, one partition
// after another, are the one-pass column's, row for row: core, source,
// value and read position (rows of one core in read order).
func TestPartitionsConcatenateToTheTable(t *testing.T) {
	st, _, set := market(t, 3000, 0.06)
	ctx := context.Background()
	dpia := set.Rules(pipeline.DefaultRules)
	o := Options{Store: st, Rules: builtIn(t), Clear: func(ref string) bool { return !dpia.Sensitive(ref) }}
	one, _, err := newEngine(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	one.cache, one.tables = map[string]*column{}, map[string]*table{}
	defer func(n int) { passBytes = n }(passBytes)
	passBytes = 60 << 10
	many, _, err := newEngine(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := many.startSpill(ctx, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	defer many.endSpill()
	if many.sp == nil || many.sp.n() < 10 {
		t.Fatal("too few passes")
	}
	for _, r := range o.Rules.Rules { // each statement's table is loaded again: keep its files
		for _, it := range r.reads() {
			many.sp.again[it.String()], many.sp.again[tableKey(it.Cut, it.Table)] = true, true
		}
	}
	seen := map[string]bool{}
	for _, r := range o.Rules.Rules {
		for _, it := range r.reads() {
			if seen[it.String()] {
				continue
			}
			seen[it.String()] = true
			want, err := one.column(ctx, it)
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				core uint64
				src  uint16
				val  uint64
				raw  int
			}
			var got []row
			for many.cur = 0; many.cur < many.sp.n(); many.cur++ {
				many.cache, many.tables = map[string]*column{}, map[string]*table{}
				c, err := many.column(ctx, it)
				if err != nil {
					t.Fatal(err)
				}
				for i := range c.cores {
					if p := many.sp.part(c.cores[i]); p != many.cur {
						t.Fatalf("%s: core %d of partition %d in pass %d", it, c.cores[i], p, many.cur)
					}
					x := row{c.cores[i], c.src[i], 0, c.at.raw(i)}
					if c.val != nil {
						x.val = c.val[i]
					}
					got = append(got, x)
				}
			}
			if len(got) != want.Len() {
				t.Fatalf("%s: %d rows in passes, %d in one", it, len(got), want.Len())
			}
			for i, g := range got {
				w := row{want.cores[i], want.src[i], 0, want.at.raw(i)}
				if want.val != nil {
					w.val = want.val[i]
				}
				if g != w {
					t.Fatalf("%s: row %d is %+v in passes, %+v in one", it, i, g, w)
				}
			}
		}
	}
}

// A partition's rows come from its file in the order parts wrote their
// chunks, not in read order: rows of one core (a synthetic market has
// none) are put in read order, and a statement's values follow its rows.
func TestPartTableOrdersRowsOfACore(t *testing.T) {
	dir := t.TempDir()
	type rec struct {
		core uint64
		pos  uint32
		src  uint16
	}
	// Two parts' chunks, the later part's written first.
	const big = 9_999_999_999_999 // the largest core
	chunksIn := [][]rec{{{5, 100, 1}, {3, 101, 1}, {5, 102, 1}, {big, 103, 1}}, {{5, 0, 0}, {3, 1, 0}, {5, 2, 0}}}
	var tb, vb []byte
	n := 0
	for _, c := range chunksIn {
		tb, vb = chunk(tb, int(c[0].pos), len(c)), chunk(vb, int(c[0].pos), len(c))
		tb = binary.LittleEndian.AppendUint16(tb, c[0].src)
		for _, r := range c {
			tb = binary.LittleEndian.AppendUint32(putCore(tb, r.core), r.pos)
			vb = binary.LittleEndian.AppendUint64(vb, uint64(r.pos)*10+7)
			n++
		}
	}
	tname, vname := filepath.Join(dir, "t1"), filepath.Join(dir, "s2")
	if err := os.WriteFile(tname+".0", tb, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vname+".0", vb, 0o644); err != nil {
		t.Fatal(err)
	}
	e := &engine{sp: &spill{dir: dir, tables: map[string]*spilledTable{"c/t": {lay: &layout{}, name: tname, counts: []int{n}}},
		items: map[string]string{"c/t.J0001": vname}}, tables: map[string]*table{}}
	tab, err := e.partTable(context.Background(), "c", "t")
	if err != nil {
		t.Fatal(err)
	}
	vals, err := e.partItem(context.Background(), tab, Item{Cut: "c", Table: "t", Item: "J0001"})
	if err != nil {
		t.Fatal(err)
	}
	want := []rec{{3, 1, 0}, {3, 101, 1}, {5, 0, 0}, {5, 2, 0}, {5, 100, 1}, {5, 102, 1}, {big, 103, 1}}
	for i, w := range want {
		c := tab.base
		if got := (rec{c.cores[i], uint32(c.at.raw(i)), c.src[i]}); got != w || vals[i] != uint64(w.pos)*10+7 {
			t.Fatalf("row %d is %+v value %d, want %+v value %d", i, got, vals[i], w, uint64(w.pos)*10+7)
		}
	}
}
