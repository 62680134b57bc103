package solver

import (
	"slices"

	"github.com/mhhs-sit/datacut/internal/universe"
)

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
	if c, ok := s.listedClass(unit); ok {
		return c
	}
	return s.classes.byKind[s.singleKind(s.u.At(s.u.Lead(int(unit))))]
}

// classOfLead is classOf a unit whose lead's MPAN the caller has (a pass
// over the units in order reads no MPAN twice).
func (s *solver) classOfLead(unit int32, lead universe.MPAN) int32 {
	if c, ok := s.listedClass(unit); ok {
		return c
	}
	return s.classes.byKind[s.singleKind(lead)]
}

// listedClass is the class of a unit taken out of supply or linked.
func (s *solver) listedClass(unit int32) (int32, bool) {
	uc := &s.classes
	if uc.moved[unit/64]&(1<<(unit%64)) != 0 {
		return uc.movedClass[unit], true
	}
	if s.u.Linked(int(unit)) {
		j, _ := slices.BinarySearch(uc.linked, unit)
		return uc.linkedClass[j], true
	}
	return 0, false
}

// singleKind is the index in byKind of single MPAN m's kind.
func (s *solver) singleKind(m universe.MPAN) int {
	return int(m.Profile)*len(s.sigs) + s.sigOf(m.Data)
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
