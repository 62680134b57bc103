package universe

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"sort"
)

// units are the universe's units, laid out for a market of mostly single
// MPANs: a bit a unit, plus lists of the linked units only. Every MPAN that
// is not a follower (a linked unit's MPAN other than its lowest) leads a
// unit, and units are numbered by their leads, so a unit's lead is found
// from the followers alone: nothing is kept a unit but its bit.
type units struct {
	numUnits int
	// linkedBit: bit u set when unit u has more than one MPAN.
	linkedBit []uint64
	// Linked units, ascending: unit linked[j]'s MPANs are
	// linkedMembers[linkedStart[j]:linkedStart[j+1]], lead first.
	linked, linkedStart, linkedMembers []int32
	// linkedRows are linkedMembers' MPANs: the few a pass over the units
	// reads out of order, kept in memory.
	linkedRows []MPAN
	// followers: the MPANs of linked units that do not lead them,
	// ascending, and their units.
	followers, followerUnit []int32
}

// NumUnits is the number of units.
func (u *Universe) NumUnits() int { return u.numUnits }

// Lead is unit i's lead: the index of its lowest-core MPAN, which names it.
// The i-th MPAN that is no follower: i plus the followers below it, the
// first j with followers[j]-j > i.
func (u *Universe) Lead(i int) int32 {
	f := u.followers
	j := sort.Search(len(f), func(j int) bool { return int(f[j])-j > i })
	return int32(i + j)
}

// Linked says whether unit i has more than one MPAN.
func (u *Universe) Linked(i int) bool { return u.linkedBit[i/64]&(1<<(i%64)) != 0 }

// NumLinked is the number of units with more than one MPAN.
func (u *Universe) NumLinked() int { return len(u.linked) }

// UnitMembers are unit i's MPAN indices, lowest core first. A linked
// unit's slice is the universe's: callers must not change it.
func (u *Universe) UnitMembers(i int) []int32 {
	if !u.Linked(i) {
		return []int32{u.Lead(i)}
	}
	j, _ := slices.BinarySearch(u.linked, int32(i))
	return u.linkedMembers[u.linkedStart[j]:u.linkedStart[j+1]:u.linkedStart[j+1]]
}

// LinkedRows are linked unit i's MPANs, as UnitMembers lists them. The
// slice is the universe's: callers must not change it.
func (u *Universe) LinkedRows(i int) []MPAN {
	j, _ := slices.BinarySearch(u.linked, int32(i))
	return u.linkedRows[u.linkedStart[j]:u.linkedStart[j+1]:u.linkedStart[j+1]]
}

// UnitRows are unit i's MPANs, as UnitMembers lists them.
func (u *Universe) UnitRows(i int) []MPAN {
	if u.Linked(i) {
		return u.LinkedRows(i)
	}
	return []MPAN{u.At(u.Lead(i))}
}

// keepLinkedRows keeps the linked units' MPANs, read in one pass in order
// of index: a spilled universe's file is read once, not a record at a
// time, and the join need not hold them while it makes the ranges.
func (u *Universe) keepLinkedRows() {
	members := u.linkedMembers
	u.linkedRows = make([]MPAN, len(members))
	if len(members) == 0 {
		return
	}
	order := make([]int32, len(members)) // places in members, by MPAN
	for k := range order {
		order[k] = int32(k)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(members[a], members[b]) })
	k := 0
	for i, m := range u.From(members[order[0]]) {
		for k < len(order) && members[order[k]] == i {
			u.linkedRows[order[k]] = m
			k++
		}
		if k == len(order) {
			break
		}
	}
}

// UnitOf is the unit of MPAN m.
func (u *Universe) UnitOf(m int32) int32 {
	j, ok := slices.BinarySearch(u.followers, m)
	if ok {
		return u.followerUnit[j]
	}
	return m - int32(j)
}

// Units yields every unit in order with its lead's MPAN.
func (u *Universe) Units() iter.Seq2[int32, MPAN] {
	return func(yield func(int32, MPAN) bool) {
		unit, k := int32(0), 0
		for i, m := range u.All() {
			if k < len(u.followers) && u.followers[k] == i {
				k++
				continue
			}
			if !yield(unit, m) {
				return
			}
			unit++
		}
	}
}

// SetUnits lays out the units: each unit's MPAN indices, lowest core first,
// the units in ascending order of their first MPAN (as Build numbers
// them), every MPAN in one. For universes made without Build (tests).
func (u *Universe) SetUnits(units [][]int32) {
	u.units = newUnits(len(units))
	seen := 0
	var follow [][2]int32 // MPAN, unit
	for i, m := range units {
		if len(m) == 0 || (i > 0 && m[0] <= units[i-1][0]) {
			panic(fmt.Sprintf("SetUnits: unit %d is empty or its lead is not above the previous unit's", i))
		}
		seen += len(m)
		if len(m) > 1 {
			u.addLinked(int32(i), m)
			for _, f := range m[1:] {
				follow = append(follow, [2]int32{f, int32(i)})
			}
		}
	}
	if seen != u.Len() {
		panic(fmt.Sprintf("SetUnits: the units hold %d MPANs, the universe %d", seen, u.Len()))
	}
	slices.SortFunc(follow, func(a, b [2]int32) int { return int(a[0] - b[0]) })
	for _, f := range follow {
		u.followers, u.followerUnit = append(u.followers, f[0]), append(u.followerUnit, f[1])
	}
	for i, m := range units {
		if u.Lead(i) != m[0] {
			panic(fmt.Sprintf("SetUnits: unit %d's lead %d is a later unit's MPAN", i, m[0]))
		}
	}
	u.keepLinkedRows()
}

func newUnits(n int) units {
	return units{numUnits: n, linkedBit: make([]uint64, (n+63)/64), linkedStart: []int32{0}}
}

// addLinked records linked unit i (units are added in ascending order).
func (u *units) addLinked(i int32, members []int32) {
	u.linkedBit[i/64] |= 1 << (i % 64)
	u.linked = append(u.linked, i)
	u.linkedMembers = append(u.linkedMembers, members...)
	u.linkedStart = append(u.linkedStart, int32(len(u.linkedMembers)))
}

// formUnits numbers the n MPANs' units by their lowest core (MPANs ascend
// by core, so a unit's members come out lowest core first). pairs are the
// related MPANs (indices): they are joined by union-find over the linked
// MPANs only, a few in a hundred, not a number an MPAN.
func (u *Universe) formUnits(n int, pairs [][2]int32) {
	nodes := make([]int32, 0, 2*len(pairs))
	for _, l := range pairs {
		nodes = append(nodes, l[0], l[1])
	}
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	node := func(m int32) int32 {
		j, _ := slices.BinarySearch(nodes, m)
		return int32(j)
	}
	links := newUnionFind(len(nodes))
	for _, l := range pairs {
		links.union(node(l[0]), node(l[1]))
	}
	// Followers: the linked MPANs that do not lead their unit (the root,
	// the set's lowest node, is its lowest MPAN: nodes ascend).
	var follow, followLead []int32
	for j := range nodes {
		if r := links.find(int32(j)); r != int32(j) {
			follow, followLead = append(follow, nodes[j]), append(followLead, nodes[r])
		}
	}
	// Every other MPAN leads a unit: a lead's unit is its index less the
	// followers below it.
	u.units = newUnits(n - len(follow))
	followUnit := make([]int32, len(follow))
	for j, l := range followLead {
		below, _ := slices.BinarySearch(follow, l)
		followUnit[j] = l - int32(below)
	}
	// Linked units in ascending order, each lead first, then its
	// followers ascending (a counting sort of the followers by unit).
	linked := slices.Clone(followUnit)
	slices.Sort(linked)
	linked = slices.Clip(slices.Compact(linked))
	fill := make([]int32, len(linked)) // per linked unit: its followers, then where the next goes
	for _, unit := range followUnit {
		k, _ := slices.BinarySearch(linked, unit)
		fill[k]++
	}
	u.followers, u.followerUnit = follow, followUnit
	u.linkedMembers = make([]int32, len(linked)+len(follow))
	u.linkedStart = slices.Grow(u.linkedStart, len(linked))
	for k, unit := range linked {
		start := u.linkedStart[len(u.linkedStart)-1]
		u.linkedBit[unit/64] |= 1 << (unit % 64)
		u.linkedMembers[start] = u.Lead(int(unit))
		u.linkedStart = append(u.linkedStart, start+1+fill[k])
		fill[k] = start + 1
	}
	u.linked = linked
	for j, f := range follow {
		k, _ := slices.BinarySearch(linked, followUnit[j])
		u.linkedMembers[fill[k]] = f
		fill[k]++
	}
	u.Stats.Units = u.numUnits
	u.Stats.LinkedUnits = len(linked)
}

// unionFind joins related MPANs into units. Each set's root is its lowest
// index.
type unionFind []int32

func newUnionFind(n int) *unionFind {
	u := make(unionFind, n)
	for i := range u {
		u[i] = int32(i)
	}
	return &u
}

func (u *unionFind) find(i int32) int32 {
	p := *u
	for p[i] != i {
		p[i] = p[p[i]]
		i = p[i]
	}
	return i
}

func (u *unionFind) union(a, b int32) {
	ra, rb := u.find(a), u.find(b)
	if ra > rb {
		ra, rb = rb, ra
	}
	(*u)[rb] = ra
}
