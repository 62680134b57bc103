package pipeline

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortUnitsAsSortFunc: sortUnits orders units as slices.SortFunc with
// cmpUnit does, for uniform hashes, hashes sharing their top bits (one
// bucket), and one unit recurring many times.
func TestSortUnitsAsSortFunc(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	inputs := map[string]func(i int) unit{
		"uniform":     func(i int) unit { return unit{r.Uint64(), r.Uint64()} },
		"one bucket":  func(i int) unit { return unit{r.Uint64() >> 16, r.Uint64()} },
		"few buckets": func(i int) unit { return unit{uint64(r.IntN(3))<<48 | r.Uint64()>>40, uint64(i)} },
		"recurring":   func(i int) unit { return unit{42 << 48, r.Uint64() % 1000} },
		"mixed":       func(i int) unit { return unit{[]uint64{7, r.Uint64()}[i%2], uint64(r.IntN(50))} },
	}
	for name, gen := range inputs {
		for _, n := range []int{0, 1, 13, 1000, 100_000} {
			units := make([]unit, n)
			for i := range units {
				units[i] = gen(i)
			}
			want := slices.Clone(units)
			slices.SortFunc(want, cmpUnit)
			sortUnits(units, make([]unit, n))
			if !slices.Equal(units, want) {
				t.Fatalf("%s, %d units: not in cmpUnit's order", name, n)
			}
		}
	}
}

func BenchmarkSortUnits(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	src := make([]unit, 1<<20)
	for i := range src {
		src[i] = unit{r.Uint64(), r.Uint64()}
	}
	units, tmp := make([]unit, len(src)), make([]unit, len(src))
	b.Run("sortUnits", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			copy(units, src)
			sortUnits(units, tmp)
		}
	})
	b.Run("SortFunc", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			copy(units, src)
			slices.SortFunc(units, cmpUnit)
		}
	})
}
