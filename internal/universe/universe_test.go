package universe

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

// putTable writes rows of text columns (nil: null) as a Parquet table.
func putTable(t *testing.T, st store.Store, key string, schema *arrow.Schema, rows [][]*string) {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, row := range rows {
		for j, v := range row {
			if v == nil {
				b.Field(j).AppendNull()
			} else {
				b.Field(j).(*array.StringBuilder).Append(*v)
			}
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), key, &buf, int64(buf.Len())); err != nil {
		t.Fatal(err)
	}
}

func strs(vs ...string) []*string {
	out := make([]*string, len(vs))
	for i := range vs {
		if vs[i] != "<null>" {
			out[i] = &vs[i]
		}
	}
	return out
}

func textSchema(names ...string) *arrow.Schema {
	var fs []arrow.Field
	for _, n := range names {
		fs = append(fs, arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true})
	}
	return arrow.NewSchema(fs, nil)
}

// eesRow is an EES row: core, GSP group and supplier; the rest fixed.
func eesRow(core, gsp, supplier string) []*string {
	return strs(core, "S", gsp, "A", "01", "E", "<null>", "S2ADE", supplier, "MOPA", "DCA", "DAA")
}

func TestBuildJoinsCuts(t *testing.T) { buildJoinsCuts(t) }

// In ranges of a row, rows in files, the MPANs spilled: the same.
func TestBuildJoinsCutsInRanges(t *testing.T) {
	withLimits(t, 1, 0)
	buildJoinsCuts(t)
}

func buildJoinsCuts(t *testing.T) {
	ctx := context.Background()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ees := textSchema(append([]string{"mpan_core"}, func() (n []string) {
		for _, c := range eesColumns {
			n = append(n, c.col)
		}
		return
	}()...)...)
	const a, b, c, d = "1200000000011", "1200000000022", "1900000000033", "2300000000044"
	putTable(t, st, "ees/a.parquet", ees, [][]*string{eesRow(c, "_P", "SUPA"), eesRow(a, "_C", "SUPA"), eesRow(b, "_C", "SUPA")})
	// b again (its second meter: the first row, in source order, wins) and d.
	putTable(t, st, "ees/b.parquet", ees, [][]*string{eesRow(b, "_J", "SUPB"), eesRow(d, "_L", "SUPB")})
	links := textSchema("instance_mpan_core", "primary_mpan", "secondary_mpan")
	putTable(t, st, "reg/d0204_48m.parquet", links, [][]*string{
		strs(a, a, b), strs(b, a, b), strs(c, c, c), strs("<null>", "<null>", "<null>"),
		strs(d, d, "2300000000099"), // related MPAN outside the EES cuts
		strs(d, "2300000000099", d), // the same relation the other way round: counted once
		strs(c, "1500000000055", c), // related MPAN outside the EES cuts, between theirs
	})
	flow := dflow.DefaultCatalog().Versions("D0150")[0]
	var unit, other *dflow.Group
	for _, g := range flow.Groups {
		switch {
		case g.Unit() && unit == nil:
			unit = g
		case !g.Unit() && other == nil:
			other = g
		}
	}
	putTable(t, st, "mtd/unit.parquet", unit.Schema(), mtdRows(unit.Schema(), c))
	putTable(t, st, "mtd/other.parquet", other.Schema(), mtdRows(other.Schema(), d))
	sources := []Source{
		{Cut: "ees", Universe: cut.UniverseAttributes, Manifest: &cut.Manifest{Tables: []cut.Table{{Name: "ees_portfolio", Key: "ees/a.parquet"}}}},
		{Cut: "ees", Universe: cut.UniverseAttributes, Manifest: &cut.Manifest{Tables: []cut.Table{{Name: "ees_portfolio", Key: "ees/b.parquet"}}}},
		{Cut: "registration", Universe: cut.UniverseLinks, Manifest: &cut.Manifest{Tables: []cut.Table{{Name: "d0204_48m", Key: "reg/d0204_48m.parquet"}}}},
		{Cut: "mop-mtd", Universe: cut.UniverseMTD, Manifest: &cut.Manifest{Tables: []cut.Table{{Name: "u", Key: "mtd/unit.parquet"}, {Name: "o", Key: "mtd/other.parquet"}}}},
	}
	u, err := Build(ctx, st, sources, "k", memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	var cores []string
	for i := range u.All() {
		cores = append(cores, u.CoreString(i))
	}
	if !slices.Equal(cores, []string{a, b, c, d}) {
		t.Fatalf("cores %v, want ascending a b c d", cores)
	}
	want := Stats{EESRows: 5, MPANs: 4, Units: 3, LinkedUnits: 1, ExtraMeterRows: 1, Registered: 4, WithMTD: 1, LinksOutside: 2}
	if u.Stats != want {
		t.Errorf("stats %+v, want %+v", u.Stats, want)
	}
	if p := u.Profiles.At(u.At(1).Profile); p[GSP] != "_C" || p[Supplier] != "SUPA" || p[Distributor] == "" || p[Energised] != "true" || p[SMETS] != "2" || p[Domestic] != "" {
		t.Errorf("b's profile %v: want its first row's (_C, SUPA), a distributor, energised true, SMETS 2, domestic empty", p)
	}
	if u.At(2).Flags != InRegistration|InMTD || u.At(3).Flags != InRegistration {
		t.Errorf("flags %v %v: c is in registration and MTD (unit group), d only in registration", u.At(2).Flags, u.At(3).Flags)
	}
	// Data: every MPAN is in EES, a..d in registration's D0204, c in the
	// MTD flow's unit group (the other group's table gives nothing).
	eesSet, reg, mtd := DataSet{Cut: "ees", Universe: cut.UniverseAttributes}, DataSet{Cut: "registration", Flow: "D0204", Universe: cut.UniverseLinks},
		DataSet{Cut: "mop-mtd", Flow: flow.ID, Universe: cut.UniverseMTD}
	bit := func(d DataSet) uint16 { return u.DataMask(func(x DataSet) bool { return x == d }) }
	if len(u.DataSets) != 3 || bit(eesSet) == 0 || bit(reg) == 0 || bit(mtd) == 0 {
		t.Fatalf("data sets %+v", u.DataSets)
	}
	if u.At(2).Data != bit(eesSet)|bit(reg)|bit(mtd) || u.At(3).Data != bit(eesSet)|bit(reg) {
		t.Errorf("data %v %v: c is in EES, D0204 and MTD; d in EES and D0204", u.At(2).Data, u.At(3).Data)
	}
	if u.UnitOf(0) != u.UnitOf(1) || !slices.Equal(u.UnitMembers(int(u.UnitOf(0))), []int32{0, 1}) || u.UnitOf(2) == u.UnitOf(0) {
		t.Errorf("units of a, b, c %d %d %d, members of a's %v: a and b are one unit led by a", u.UnitOf(0), u.UnitOf(1), u.UnitOf(2), u.UnitMembers(int(u.UnitOf(0))))
	}
	// A re-ordered EES source list changes only which duplicate row wins.
	sources[0], sources[1] = sources[1], sources[0]
	v, err := Build(ctx, st, sources, "k", memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != u.Len() || v.Core(1) != u.Core(1) || v.Profiles.At(v.At(1).Profile)[GSP] != "_J" {
		t.Errorf("swapped sources: %d MPANs, b's GSP %s (want _J)", v.Len(), v.Profiles.At(v.At(1).Profile)[GSP])
	}
}

// mtdRows is one row per core with the instance MPAN set, other columns null.
func mtdRows(s *arrow.Schema, cores ...string) [][]*string {
	var rows [][]*string
	for _, c := range cores {
		row := make([]*string, s.NumFields())
		for j, f := range s.Fields() {
			if f.Name == dflow.ColInstanceMPAN {
				row[j] = &c
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func TestBuildRejectsTableWithoutCores(t *testing.T) {
	st, _ := local.Open(t.TempDir())
	putTable(t, st, "ees/x.parquet", textSchema("mpan_core"), [][]*string{strs("not a core")})
	_, err := Build(context.Background(), st, []Source{{Cut: "ees", Universe: cut.UniverseAttributes, Manifest: &cut.Manifest{Tables: []cut.Table{{Name: "ees_portfolio", Key: "ees/x.parquet"}}}}}, "k", memory.DefaultAllocator)
	if err == nil {
		t.Fatal("a table without the EES columns was accepted")
	}
}

func TestSortCoresIsStable(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 100, 5000} {
		for _, spread := range []uint64{3, 1 << 20, 9_999_999_999_999} {
			keys := make([]uint64, n)
			vals := make([]uint32, n)
			for i := range keys {
				keys[i] = 9_999_999_999_999 - r.Uint64N(spread)
				vals[i] = uint32(i)
			}
			type kv struct {
				k uint64
				v uint32
			}
			want := make([]kv, n)
			for i := range want {
				want[i] = kv{keys[i], vals[i]}
			}
			sort.SliceStable(want, func(i, j int) bool { return want[i].k < want[j].k })
			sortCores(keys, vals)
			for i := range want {
				if keys[i] != want[i].k || vals[i] != want[i].v {
					t.Fatalf("n=%d spread=%d: position %d is (%d,%d), want (%d,%d)", n, spread, i, keys[i], vals[i], want[i].k, want[i].v)
				}
			}
		}
	}
}

// The word-at-a-time parse of a core's bytes agrees with the digit loop on
// every kind of input: cores, every byte position made a non-digit (just
// below '0', just above '9', high bytes), other lengths.
func TestParseCoreBytesAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(b []byte) {
		t.Helper()
		got, gok := parseCoreBytes(b)
		want, wok := parseCore(b)
		if got != want || gok != wok {
			t.Fatalf("%q: parseCoreBytes %d %v, parseCore %d %v", b, got, gok, want, wok)
		}
	}
	for _, s := range []string{"0000000000000", "9999999999999", "1234567890123", "1000000000000", "0000000000001", "", "123456789012", "12345678901234"} {
		check([]byte(s))
	}
	for i := 0; i < 100000; i++ {
		b := make([]byte, 13)
		for j := range b {
			b[j] = '0' + byte(rng.IntN(10))
		}
		check(b)
		bad := append([]byte(nil), b...)
		bad[rng.IntN(13)] = []byte{'/', ':', 0, 0x7f, 0x80, 0xb9, 0xba, 0xff, ' ', 'A'}[rng.IntN(10)]
		check(bad)
	}
}
