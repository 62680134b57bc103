package universe

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
)

// withLimits builds in ranges of about rows EES rows and spills universes
// of more than spill MPANs, until the test ends.
func withLimits(t *testing.T, rows, spill int) { t.Cleanup(SetLimits(rows, spill)) }

// A market built in many ranges, its tables' rows in files and its MPANs
// spilled, is the market built in one range in memory: every MPAN, profile,
// data set, count and unit the same, every core found.
func TestBuildInRangesAgrees(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30_000
	if _, err := synth.WriteUniverseCuts(ctx, st, synth.UniverseCutsOptions{MPANs: n, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	types := []*cut.Type{{Name: "registration", Universe: cut.UniverseLinks}, {Name: "ees", Universe: cut.UniverseAttributes}}
	sources, key, err := Find(ctx, st, types, nil)
	if err != nil {
		t.Fatal(err)
	}
	one, err := Build(ctx, st, sources, key, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	if one.rows.file != nil {
		t.Fatal("a 30,000-MPAN universe was spilled by default")
	}
	withLimits(t, 1000, 2000)
	ranges := 0
	rangeHook = func(eesRows int) {
		ranges++
		if eesRows > 2*1000 {
			t.Errorf("a range of %d EES rows, want about 1,000", eesRows)
		}
	}
	t.Cleanup(func() { rangeHook = nil })
	many, err := Build(ctx, st, sources, key, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	if many.rows.file == nil || ranges < 10 {
		t.Fatalf("spilled %v, %d ranges: want a spilled universe built in many ranges", many.rows.file != nil, ranges)
	}
	if one.Stats != many.Stats || one.Len() != n || many.Len() != n || one.Stats.LinkedUnits == 0 {
		t.Fatalf("stats %+v and %+v: want the same, %d MPANs, some linked", one.Stats, many.Stats, n)
	}
	if one.Profiles.Len() != many.Profiles.Len() || !slices.Equal(one.DataSets, many.DataSets) {
		t.Fatal("profiles or data sets differ")
	}
	for i := range uint32(one.Profiles.Len()) {
		if one.Profiles.At(i) != many.Profiles.At(i) {
			t.Fatalf("profile %d differs", i)
		}
	}
	var a, b []MPAN
	for i, m := range one.All() {
		a = append(a, m)
		if many.At(i) != m {
			t.Fatalf("MPAN %d: %+v, one range %+v", i, many.At(i), m)
		}
		if j, ok := many.Find(m.Core); !ok || j != i {
			t.Fatalf("Find(%d) = %d %v, want %d", m.Core, j, ok, i)
		}
		if _, ok := many.Find(m.Core + 1); ok != (int(i)+1 < n && one.At(i+1).Core == m.Core+1) {
			t.Fatalf("Find(%d) found a core that is not there", m.Core+1)
		}
	}
	for _, m := range many.All() {
		b = append(b, m)
	}
	if !slices.Equal(a, b) {
		t.Fatal("All differs")
	}
	if _, ok := many.Find(0); ok {
		t.Fatal("Find(0) found a core")
	}
	if one.NumUnits() != many.NumUnits() {
		t.Fatalf("%d units, one range %d", many.NumUnits(), one.NumUnits())
	}
	for unit, m := range many.Units() {
		if many.Lead(int(unit)) != one.Lead(int(unit)) || many.At(many.Lead(int(unit))) != m ||
			!slices.Equal(many.UnitMembers(int(unit)), one.UnitMembers(int(unit))) {
			t.Fatalf("unit %d: lead %d members %v, one range %d %v", unit, many.Lead(int(unit)), many.UnitMembers(int(unit)), one.Lead(int(unit)), one.UnitMembers(int(unit)))
		}
		for k, mi := range one.UnitMembers(int(unit)) {
			if many.UnitRows(int(unit))[k] != one.At(mi) {
				t.Fatalf("unit %d: rows %v, want member %d's", unit, many.UnitRows(int(unit)), mi)
			}
		}
		if !many.Linked(int(unit)) {
			continue
		}
		for k, mi := range many.UnitMembers(int(unit)) {
			if many.LinkedRows(int(unit))[k] != one.At(mi) || one.LinkedRows(int(unit))[k] != one.At(mi) {
				t.Fatalf("unit %d: linked rows %v and %v, want member %d's", unit, many.LinkedRows(int(unit)), one.LinkedRows(int(unit)), mi)
			}
		}
	}
	for i := range int32(n) {
		if many.UnitOf(i) != one.UnitOf(i) {
			t.Fatalf("MPAN %d in unit %d, one range %d", i, many.UnitOf(i), one.UnitOf(i))
		}
	}
	if err := many.Err(); err != nil {
		t.Fatal(err)
	}
	if err := many.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(st.TempDir(), "universe-*")); len(left) > 0 {
		t.Errorf("files left behind: %v", left)
	}
}

// Ranges hold about as many of the histogram's cores; cores all in one
// bucket leave the ranges but one empty.
func TestRangeBounds(t *testing.T) {
	hist := make([]int, HistBuckets)
	for b := 100; b < 500; b++ {
		hist[b] = 10 // 4,000 cores in buckets 100 to 499
	}
	got := RangeBounds(hist, 4)
	want := []uint64{200 << histShift, 300 << histShift, 400 << histShift}
	if !slices.Equal(got, want) {
		t.Fatalf("bounds %v, want %v", got, want)
	}
	one := make([]int, HistBuckets)
	one[5] = 1000
	if got := RangeBounds(one, 3); !slices.Equal(got, []uint64{6 << histShift, 6 << histShift}) {
		t.Fatalf("bounds %v, want the first range to hold every core", got)
	}
}
