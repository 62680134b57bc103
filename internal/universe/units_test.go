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
		v.SetUnits(want)
		for m := range n {
			if v.UnitOf(int32(m)) != int32(comp[m]) {
				t.Fatalf("round %d: SetUnits puts MPAN %d in unit %d, want %d", round, m, v.UnitOf(int32(m)), comp[m])
			}
		}
	}
}

// Data sets met in any order (tables applied as they are read) come out
// numbered as met in source order, every MPAN's bits renumbered with them.
func TestDataSetsOrderedBySource(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		// Tables in source order, each of one of k data sets (some
		// sharing one), each holding a random subset of 50 MPANs.
		k := 1 + r.IntN(MaxDataSets)
		tables := 1 + r.IntN(3*k)
		setOf, holds := make([]int, tables), make([][]bool, tables)
		for i := range tables {
			setOf[i] = r.IntN(k)
			holds[i] = make([]bool, 50)
			for m := range holds[i] {
				holds[i][m] = r.IntN(3) == 0
			}
		}
		ds := func(i int) DataSet { return DataSet{Cut: "c", Flow: string(rune('A' + setOf[i]))} }
		// Reference: bits given in source order.
		want := &Universe{Data: make([]uint16, 50)}
		var ref dataSets
		for i := range tables {
			bit := ref.bit(ds(i), i)
			for m, h := range holds[i] {
				if h {
					want.Data[m] |= bit
				}
			}
		}
		if err := ref.order(want); err != nil {
			t.Fatal(err)
		}
		got := &Universe{Data: make([]uint16, 50)}
		var x dataSets
		for _, i := range r.Perm(tables) {
			bit := x.bit(ds(i), i)
			for m, h := range holds[i] {
				if h {
					got.Data[m] |= bit
				}
			}
		}
		if err := x.order(got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.DataSets, want.DataSets) || !slices.Equal(got.Data, want.Data) {
			t.Fatalf("round %d: data sets %v data %v, want %v %v", round, got.DataSets, got.Data, want.DataSets, want.Data)
		}
	}
	var x dataSets
	for i := range MaxDataSets + 1 {
		x.bit(DataSet{Cut: "c", Flow: string(rune('A' + i))}, i)
	}
	if err := x.order(&Universe{}); err == nil {
		t.Error("more data sets than MaxDataSets: no error")
	}
}

// The EES merge with rows packed in one word gives what it gives with cores
// and profile ids apart: duplicate cores within and across parts keep the
// first row in source order, profiles are numbered by their first MPAN.
func TestMergeEESPackedAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	mkParts := func(seed uint64) []*part {
		r := rand.New(rand.NewPCG(seed, 7))
		var parts []*part
		for range 1 + r.IntN(5) {
			p := &part{}
			for j := range 1 + r.IntN(8) {
				var pr Profile
				pr[GSP], pr[Supplier] = fmt.Sprint("_", r.IntN(3)), fmt.Sprint("S", j%4)
				p.profiles = append(p.profiles, pr)
			}
			for range r.IntN(400) {
				p.rows = append(p.rows, 9_999_999_999_000+uint64(r.IntN(300))) // high bits set; duplicates
				p.pids = append(p.pids, uint32(r.IntN(len(p.profiles))))
			}
			parts = append(parts, p)
		}
		return parts
	}
	for round := range 100 {
		seed := r.Uint64()
		packed, apart := &Universe{}, &Universe{}
		packed.mergeEESPacked(mkParts(seed), pidBits)
		apart.mergeEESPacked(mkParts(seed), 0) // more than one profile: kept apart
		if !slices.Equal(packed.Cores, apart.Cores) || !slices.Equal(packed.Profile, apart.Profile) ||
			!slices.Equal(packed.Profiles, apart.Profiles) || packed.Stats != apart.Stats {
			t.Fatalf("round %d: packed %v %v %v %+v, apart %v %v %v %+v", round, packed.Cores, packed.Profile, packed.Profiles, packed.Stats,
				apart.Cores, apart.Profile, apart.Profiles, apart.Stats)
		}
		if len(packed.Profiles) < 2 {
			continue
		}
		// The first row of each core wins: check against a plain scan.
		first := map[uint64]Profile{}
		for _, p := range mkParts(seed) {
			for i, c := range p.rows {
				if _, ok := first[c]; !ok {
					first[c] = p.profiles[p.pids[i]]
				}
			}
		}
		for i, c := range packed.Cores {
			if packed.Profiles[packed.Profile[i]] != first[c] || (i > 0 && packed.Cores[i-1] >= c) {
				t.Fatalf("round %d: MPAN %d core %d profile %v, want %v, cores ascending", round, i, c, packed.Profiles[packed.Profile[i]], first[c])
			}
		}
	}
}
