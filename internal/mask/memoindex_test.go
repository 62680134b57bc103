package mask

import (
	"math/rand/v2"
	"testing"
)

// TestMemoIndexAsMap: the index answers as a Go map would, through growth,
// overwrites and hashes sharing their low bits (the slot they start at).
func TestMemoIndexAsMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x, want := newMemoIndex(), map[uint64]int{}
	var keys []uint64
	for i := range 200_000 {
		var h uint64
		switch {
		case i%5 == 0 && len(keys) > 0:
			h = keys[r.IntN(len(keys))] // stored before: overwritten
		case i%7 == 0:
			h = uint64(r.IntN(64)) << 40 // low bits all zero: one probe chain
		default:
			h = r.Uint64()
		}
		x.set(h, i)
		want[h] = i
		keys = append(keys, h)
		if i%1000 == 0 {
			if miss := r.Uint64(); want[miss] == 0 {
				if _, ok := x.find(miss); ok {
					t.Fatalf("found a hash never stored")
				}
			}
		}
	}
	if x.n != len(want) {
		t.Fatalf("%d entries, want %d", x.n, len(want))
	}
	for h, off := range want {
		if got, ok := x.find(h); !ok || got != off {
			t.Fatalf("hash %x: %d %v, want %d", h, got, ok, off)
		}
	}
}
