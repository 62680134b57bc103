package columns

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// Every chunk decodes to the input's values and nulls, the dictionary is
// shared, holds each value once, in order of first appearance, and only
// values that occur: what a Parquet writer's own dictionary would be.
func TestDictionaryDecodesToInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		n, distinct, chunk, offset int
		nullRate                   float64
	}{
		{0, 1, 8, 0, 0}, {5, 3, 8, 0, 0}, {1000, 4, 64, 0, 0.3}, {70000, 5000, 1024, 0, 0.1},
		{3000, 2, 1024, 13, 1}, {4099, 300, 1024, 5, 0.5},
	} {
		t.Run(fmt.Sprintf("%d values %d distinct chunk %d", tc.n, tc.distinct, tc.chunk), func(t *testing.T) {
			b := array.NewStringBuilder(memory.DefaultAllocator)
			for i := 0; i < tc.n+tc.offset; i++ {
				if rng.Float64() < tc.nullRate {
					b.AppendNull()
				} else {
					b.Append(fmt.Sprintf("v%d", rng.IntN(tc.distinct)))
				}
			}
			full := b.NewStringArray()
			in := array.NewSlice(full, int64(tc.offset), int64(tc.offset+tc.n)).(*array.String)
			chunks := Dictionary(in, tc.chunk)
			var dict *array.String
			seen := map[string]bool{}
			var order []string
			row := 0
			for k, c := range chunks {
				d := c.(*array.Dictionary)
				if d.Data().Offset() != 0 || d.Len() > tc.chunk || (k < len(chunks)-1 && d.Len() != tc.chunk) {
					t.Fatalf("chunk %d: offset %d, %d values (chunks of %d)", k, d.Data().Offset(), d.Len(), tc.chunk)
				}
				if k == 0 {
					dict = d.Dictionary().(*array.String)
				} else if !array.Equal(d.Dictionary(), dict) {
					t.Fatalf("chunk %d has its own dictionary", k)
				}
				idx := d.Indices().(*array.Int32)
				for j := 0; j < d.Len(); j, row = j+1, row+1 {
					if d.IsNull(j) != in.IsNull(row) {
						t.Fatalf("row %d: null %v, want %v", row, d.IsNull(j), in.IsNull(row))
					}
					if in.IsNull(row) {
						continue
					}
					if got := dict.Value(int(idx.Value(j))); got != in.Value(row) {
						t.Fatalf("row %d: %q, want %q", row, got, in.Value(row))
					}
					if !seen[in.Value(row)] {
						seen[in.Value(row)] = true
						order = append(order, in.Value(row))
					}
				}
				if want := d.Len() - countValid(d); d.NullN() != want {
					t.Fatalf("chunk %d: NullN %d, want %d", k, d.NullN(), want)
				}
			}
			if row != tc.n {
				t.Fatalf("chunks hold %d rows, want %d", row, tc.n)
			}
			if dict.Len() != len(order) {
				t.Fatalf("dictionary of %d values, %d distinct in the input", dict.Len(), len(order))
			}
			for i, v := range order {
				if dict.Value(i) != v {
					t.Fatalf("dictionary[%d] = %q, want %q (first appearance)", i, dict.Value(i), v)
				}
			}
			for _, c := range chunks {
				c.Release()
			}
		})
	}
}

func countValid(d *array.Dictionary) int {
	n := 0
	for j := 0; j < d.Len(); j++ {
		if d.IsValid(j) {
			n++
		}
	}
	return n
}
