package reconcile

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// sortCores sorts a large table's halves at once and merges them: the
// order is a stable sort's of the whole (equal cores keep their read
// order), as one radix sort gives.
func TestSortCoresInHalves(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 1<<16 + 7, 300_000} {
		r := rand.New(rand.NewPCG(uint64(n), 1))
		cores, perm := make([]uint64, n), make([]uint32, n)
		for i := range cores {
			cores[i] = 1_000_000_000_000 + r.Uint64N(uint64(n/3+1))*7 // many equal cores
			perm[i] = uint32(i)
		}
		type row struct {
			core uint64
			at   uint32
		}
		want := make([]row, n)
		for i := range want {
			want[i] = row{cores[i], perm[i]}
		}
		slices.SortStableFunc(want, func(a, b row) int {
			switch {
			case a.core < b.core:
				return -1
			case a.core > b.core:
				return 1
			}
			return 0
		})
		gc, gp := sortCores(cores, perm)
		for i := range want {
			if gc[i] != want[i].core || gp[i] != want[i].at {
				t.Fatalf("n %d: row %d is (%d, %d), want (%d, %d)", n, i, gc[i], gp[i], want[i].core, want[i].at)
			}
		}
	}
}
