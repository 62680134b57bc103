package solver

import (
	"slices"
	"testing"
)

// Equal sets of asks get one number, different ones their own, and a set
// is kept as it was when numbered, though the caller reuses its slice.
func TestBitSetsNumberEachSetOnce(t *testing.T) {
	b := bitSets{ids: map[string]uint32{}}
	scratch := []uint64{1, 0}
	first := b.id(scratch)
	scratch[0], scratch[1] = 2, 1<<63
	second := b.id(scratch)
	scratch[0], scratch[1] = 1, 0
	again := b.id(scratch)
	scratch[0] = 7 // reused after numbering
	if first != again || first == second || len(b.sets) != 2 {
		t.Fatalf("numbers %d %d %d, %d sets: want the first and third alike, two sets", first, second, again, len(b.sets))
	}
	if !slices.Equal(b.sets[first], []uint64{1, 0}) || !slices.Equal(b.sets[second], []uint64{2, 1 << 63}) {
		t.Errorf("sets %v: changed with the caller's slice", b.sets)
	}
}
