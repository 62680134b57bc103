package solver

import "slices"

// unitClasses give each unit its class without a number a unit: a single
// unit's class follows from its MPAN's kind (profile and data signature),
// so it is kept a kind; linked units (a few in a hundred) are listed, and
// so are the units taken out of supply (excluded, or held by other plans:
// as many as the findings and the other plans' asks, not the market).
type unitClasses struct {
	byKind        []int32 // per single kind, pid × signatures + signature
	kindUnits     []int32 // single units per kind
	linked        []int32 // linked units, ascending
	linkedClass   []int32
	moved         []uint64 // bit per unit: its class is in movedClass
	movedClass    map[int32]int32
	unplacedUnits int // units no ask could take (class -1), as classified
}

// classOf is unit's class (below 0: it serves no ask; see reserved and
// excluded).
func (s *solver) classOf(unit int32) int32 {
	uc := &s.classes
	if uc.moved[unit/64]&(1<<(unit%64)) != 0 {
		return uc.movedClass[unit]
	}
	if s.u.Linked(int(unit)) {
		j, _ := slices.BinarySearch(uc.linked, unit)
		return uc.linkedClass[j]
	}
	return uc.byKind[s.singleKind(s.u.Lead(int(unit)))]
}

// singleKind is the index in byKind of single MPAN m's kind.
func (s *solver) singleKind(m int32) int {
	return int(s.u.Profile[m])*len(s.sigs) + s.sigOf(m)
}

// setClass takes unit out of supply: its class becomes c (below 0).
func (s *solver) setClass(unit, c int32) {
	uc := &s.classes
	if uc.movedClass == nil {
		uc.movedClass = map[int32]int32{}
	}
	uc.moved[unit/64] |= 1 << (unit % 64)
	uc.movedClass[unit] = c
}
