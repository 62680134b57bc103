package synth

import (
	"context"
	"testing"

	"github.com/mhhs-sit/datacut/internal/store/local"
)

// BenchmarkGenerate: MPANs per second for all cuts together, written to a
// local directory store.
func BenchmarkGenerate(b *testing.B) {
	const n = 200_000
	for i := 0; i < b.N; i++ {
		st, err := local.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		sum, err := Generate(context.Background(), st, Options{MPANs: n, Seed: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(sum.Bytes)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "MPANs/s")
}
