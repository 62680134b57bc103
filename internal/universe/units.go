package universe

import (
	"fmt"
	"slices"
)

// units are the universe's units, laid out for a market of mostly single
// MPANs: 4 bytes a unit (its lead) and a bit, plus lists of the linked
// units only, where per-MPAN unit and member arrays took 12 bytes an MPAN.
type units struct {
	// leads: unit u's lead, the MPAN index of its lowest core. Units are
	// numbered by their leads, so leads ascend.
	leads []int32
	// linkedBit: bit u set when unit u has more than one MPAN.
	linkedBit []uint64
	// Linked units, ascending: unit linked[j]'s MPANs are
	// linkedMembers[linkedStart[j]:linkedStart[j+1]], lead first.
	linked, linkedStart, linkedMembers []int32
	// followers: the MPANs of linked units that do not lead them,
	// ascending, and their units.
	followers, followerUnit []int32
}

// NumUnits is the number of units.
func (u *Universe) NumUnits() int { return len(u.leads) }

// Lead is unit i's lead: the index of its lowest-core MPAN, which names it.
func (u *Universe) Lead(i int) int32 { return u.leads[i] }

// Linked says whether unit i has more than one MPAN.
func (u *Universe) Linked(i int) bool { return u.linkedBit[i/64]&(1<<(i%64)) != 0 }

// NumLinked is the number of units with more than one MPAN.
func (u *Universe) NumLinked() int { return len(u.linked) }

// UnitMembers are unit i's MPAN indices, lowest core first. The slice is
// the universe's: callers must not change it.
func (u *Universe) UnitMembers(i int) []int32 {
	if !u.Linked(i) {
		return u.leads[i : i+1 : i+1]
	}
	j, _ := slices.BinarySearch(u.linked, int32(i))
	return u.linkedMembers[u.linkedStart[j]:u.linkedStart[j+1]:u.linkedStart[j+1]]
}

// UnitOf is the unit of MPAN m.
func (u *Universe) UnitOf(m int32) int32 {
	if j, ok := slices.BinarySearch(u.followers, m); ok {
		return u.followerUnit[j]
	}
	i, _ := slices.BinarySearch(u.leads, m)
	return int32(i)
}

// SetUnits lays out the units: each unit's MPAN indices, lowest core first,
// the units in ascending order of their first MPAN (as Build numbers
// them). For universes made without Build (tests).
func (u *Universe) SetUnits(units [][]int32) {
	u.units = newUnits(len(units))
	for i, m := range units {
		if len(m) == 0 || (i > 0 && m[0] <= units[i-1][0]) {
			panic(fmt.Sprintf("SetUnits: unit %d is empty or its lead is not above the previous unit's", i))
		}
		u.leads = append(u.leads, m[0])
	}
	var follow [][2]int32 // MPAN, unit
	for i, m := range units {
		if len(m) > 1 {
			u.addLinked(int32(i), m)
			for _, f := range m[1:] {
				follow = append(follow, [2]int32{f, int32(i)})
			}
		}
	}
	slices.SortFunc(follow, func(a, b [2]int32) int { return int(a[0] - b[0]) })
	for _, f := range follow {
		u.followers, u.followerUnit = append(u.followers, f[0]), append(u.followerUnit, f[1])
	}
}

func newUnits(n int) units {
	return units{leads: make([]int32, 0, n), linkedBit: make([]uint64, (n+63)/64), linkedStart: []int32{0}}
}

// addLinked records linked unit i (units are added in ascending order).
func (u *units) addLinked(i int32, members []int32) {
	u.linkedBit[i/64] |= 1 << (i % 64)
	u.linked = append(u.linked, i)
	u.linkedMembers = append(u.linkedMembers, members...)
	u.linkedStart = append(u.linkedStart, int32(len(u.linkedMembers)))
}

// formUnits numbers the n MPANs' units by their lowest core (Cores ascend,
// so a unit's members come out lowest core first) and counts the flags.
// pairs are the related MPANs (indices): they are joined by union-find over
// the linked MPANs only, a few in a hundred, not a number an MPAN.
func (u *Universe) formUnits(n int, pairs [][2]int32) {
	for _, f := range u.Flags {
		if f&InRegistration != 0 {
			u.Stats.Registered++
		}
		if f&InMTD != 0 {
			u.Stats.WithMTD++
		}
		if f&InCustomer != 0 {
			u.Stats.WithCustomer++
		}
	}
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
	// Every other MPAN leads a unit.
	u.units = newUnits(n - len(follow))
	k := 0
	for i := range int32(n) {
		if k < len(follow) && follow[k] == i {
			k++
			continue
		}
		u.leads = append(u.leads, i)
	}
	followUnit := make([]int32, len(follow))
	for j, l := range followLead {
		unit, _ := slices.BinarySearch(u.leads, l)
		followUnit[j] = int32(unit)
	}
	// Linked units in ascending order, each lead first, then its
	// followers ascending (a counting sort of the followers by unit).
	count := map[int32]int32{}
	for _, unit := range followUnit {
		count[unit]++
	}
	linked := make([]int32, 0, len(count))
	for unit := range count {
		linked = append(linked, unit)
	}
	slices.Sort(linked)
	fill := make(map[int32]int32, len(linked))
	u.linkedMembers = make([]int32, len(linked)+len(follow))
	for _, unit := range linked {
		start := u.linkedStart[len(u.linkedStart)-1]
		u.linkedBit[unit/64] |= 1 << (unit % 64)
		u.linkedMembers[start] = u.leads[unit]
		fill[unit] = start + 1
		u.linkedStart = append(u.linkedStart, start+1+count[unit])
	}
	u.linked = linked
	u.followers, u.followerUnit = follow, followUnit
	for j, f := range follow {
		unit := followUnit[j]
		u.linkedMembers[fill[unit]] = f
		fill[unit]++
	}
	u.Stats.Units = len(u.leads)
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
