package pipeline

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/pipelines"
)

// BenchmarkRunMTD: end-to-end throughput of the MOp MTD pipeline on a
// synthetic market (generation excluded from the timing).
func BenchmarkRunMTD(b *testing.B) {
	set, err := Load(pipelines.FS)
	if err != nil {
		b.Fatal(err)
	}
	key, _ := mask.ParseKey(testKey)
	var bytes int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, _ := local.Open(b.TempDir())
		if _, err := synth.Generate(context.Background(), st, synth.Options{MPANs: 200_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		sum, err := Run(context.Background(), Options{Store: st, Pipelines: set, Key: key, Cut: "mop-mtd", Log: zerolog.Nop()})
		if err != nil {
			b.Fatal(err)
		}
		bytes += sum.InputBytes
	}
	b.SetBytes(bytes / int64(b.N))
}
