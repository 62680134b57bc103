package universe

import (
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
		links := newUnionFind(n)
		for range r.IntN(n) {
			a, b := int32(r.IntN(n)), int32(r.IntN(n))
			links.union(a, b)
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
		u.formUnits(links)
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
		v.SetUnits(want)
		for m := range n {
			if v.UnitOf(int32(m)) != int32(comp[m]) {
				t.Fatalf("round %d: SetUnits puts MPAN %d in unit %d, want %d", round, m, v.UnitOf(int32(m)), comp[m])
			}
		}
	}
}
