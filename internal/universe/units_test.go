package universe

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// Units formed from random links, in random order, against connected
// components found plainly: numbered by their lowest MPAN, members
// ascending, every MPAN's unit found back.
func TestFormUnitsMatchesComponents(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		n := 1 + r.IntN(300)
		adj := make([][]int32, n)
		var pairs [][2]int32
		for range r.IntN(n) {
			a, b := int32(r.IntN(n)), int32(r.IntN(n))
			pairs = append(pairs, [2]int32{a, b})
			adj[a], adj[b] = append(adj[a], b), append(adj[b], a)
		}
		// Reference: components by search from each unvisited MPAN in
		// ascending order.
		comp := make([]int, n)
		for i := range comp {
			comp[i] = -1
		}
		var want [][]int32
		for i := range n {
			if comp[i] >= 0 {
				continue
			}
			c := len(want)
			comp[i] = c
			members, queue := []int32{int32(i)}, []int32{int32(i)}
			for len(queue) > 0 {
				x := queue[0]
				queue = queue[1:]
				for _, y := range adj[x] {
					if comp[y] < 0 {
						comp[y] = c
						members, queue = append(members, y), append(queue, y)
					}
				}
			}
			slices.Sort(members)
			want = append(want, members)
		}
		u := &Universe{}
		u.formUnits(n, pairs)
		linked := 0
		if u.NumUnits() != len(want) {
			t.Fatalf("round %d: %d units, want %d", round, u.NumUnits(), len(want))
		}
		for i, w := range want {
			if got := u.UnitMembers(i); !slices.Equal(got, w) || u.Lead(i) != w[0] || u.Linked(i) != (len(w) > 1) {
				t.Fatalf("round %d: unit %d members %v lead %d linked %v, want %v", round, i, got, u.Lead(i), u.Linked(i), w)
			}
			if len(w) > 1 {
				linked++
			}
		}
		for m := range n {
			if got := u.UnitOf(int32(m)); got != int32(comp[m]) {
				t.Fatalf("round %d: MPAN %d in unit %d, want %d", round, m, got, comp[m])
			}
		}
		if u.Stats.Units != len(want) || u.Stats.LinkedUnits != linked {
			t.Fatalf("round %d: stats %+v, want %d units, %d linked", round, u.Stats, len(want), linked)
		}
		// SetUnits lays out the same units.
		v := &Universe{}
		for m := range n {
			v.Append(MPAN{Core: uint64(m) + 1})
		}
		v.SetUnits(want)
		for m := range n {
			if v.UnitOf(int32(m)) != int32(comp[m]) {
				t.Fatalf("round %d: SetUnits puts MPAN %d in unit %d, want %d", round, m, v.UnitOf(int32(m)), comp[m])
			}
		}
	}
}

// Data sets are numbered by the first table, in source order, holding
// some MPAN of theirs: every EES table, other tables only when they hold
// some; tables of one set share its bit; more than MaxDataSets is refused.
func TestDataSetsNumberedBySource(t *testing.T) {
	set := func(f string) DataSet { return DataSet{Cut: "c", Flow: f} }
	b := &builder{tables: []*sourceTable{
		{kind: tableHeld, set: set("A"), rows: 0}, // holds nothing: no set
		{kind: tableHeld, set: set("B"), rows: 3},
		{kind: tableEES, set: DataSet{Cut: "ees"}, rows: 0}, // an EES table always has its set
		{kind: tableHeld, set: set("A"), rows: 1},
		{kind: tableLinks, set: set("B"), rows: 2},
		{kind: tableHeld, set: DataSet{}, rows: 5}, // no cut: no set
	}}
	u := &Universe{}
	if err := b.dataSets(u); err != nil {
		t.Fatal(err)
	}
	if want := []DataSet{set("B"), {Cut: "ees"}, set("A")}; !slices.Equal(u.DataSets, want) {
		t.Fatalf("data sets %v, want %v", u.DataSets, want)
	}
	var bits []uint16
	for _, x := range b.tables {
		bits = append(bits, x.bit)
	}
	if want := []uint16{0, 1, 2, 4, 1, 0}; !slices.Equal(bits, want) || b.eesBits != 2 {
		t.Fatalf("bits %v, EES bits %b: want %v, 10", bits, b.eesBits, want)
	}
	b.tables = nil
	for i := range MaxDataSets + 1 {
		b.tables = append(b.tables, &sourceTable{kind: tableHeld, set: set(fmt.Sprint(i)), rows: 1})
	}
	if err := b.dataSets(&Universe{}); err == nil {
		t.Error("more data sets than MaxDataSets: no error")
	}
}
