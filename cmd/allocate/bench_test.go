package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/allocation"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/pipelines"
)

// BenchmarkAllocateNational allocates the national scale plan (3
// environments, 390 asks) on a universe written as cut tables, as
// `allocate run --no-packs` does: the universe join, the allocation and the
// allocation table. BENCH_MPANS sets the universe size (default 10^6).
//
//	go test ./cmd/allocate -run X -bench AllocateNational -benchtime 3x
//	BENCH_MPANS=30000000 go test ./cmd/allocate -run X -bench AllocateNational -benchtime 1x -timeout 30m
func BenchmarkAllocateNational(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("BENCH_MPANS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	dir, st := benchMarket(b, n)
	p, err := loadPlan("testdata/national.yaml", "")
	if err != nil {
		b.Fatal(err)
	}
	var join, alloc float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := os.RemoveAll(filepath.Join(dir, "allocations")); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		oc, err := allocation.Run(ctx, allocation.Options{Store: st, Plan: p, Tool: "bench", NoPacks: true, Log: zerolog.Nop()})
		if err != nil {
			b.Fatal(err)
		}
		if oc.Existing || oc.Report.Universe.MPANs != n {
			b.Fatalf("allocated %d MPANs (existing run %v), want %d", oc.Report.Universe.MPANs, oc.Existing, n)
		}
		join += oc.Report.Timings.UniverseSeconds
		alloc += oc.Report.Timings.AllocateSeconds
	}
	b.ReportMetric(join/float64(b.N), "join-s/op")
	b.ReportMetric(alloc/float64(b.N), "alloc-s/op")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "MPANs/s")
}

// BenchmarkPacksNational runs the national plan with its load packs on a
// full synthetic market published by the pipelines (all four cut types), as
// `allocate run` does: every source table is read for the rows the packs
// take, spooled and written out as Parquet, D-flow and EES CSV files.
// BENCH_MPANS sets the market size (default 10^5); the market is made once.
// peak-heap-MiB is the largest live heap seen while it ran: it should not
// grow with the market (the packs stream through a spool).
//
//	go test ./cmd/allocate -run X -bench PacksNational -benchtime 3x
//	BENCH_MPANS=1000000 go test ./cmd/allocate -run X -bench PacksNational -benchtime 1x -timeout 30m
func BenchmarkPacksNational(b *testing.B) {
	n := 100_000
	if v := os.Getenv("BENCH_MPANS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	dir, st := publishedBenchMarket(b, n)
	p, err := loadPlan("testdata/national.yaml", "")
	if err != nil {
		b.Fatal(err)
	}
	var packs, peak float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := os.RemoveAll(filepath.Join(dir, "allocations")); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := sampleHeap(&peak)
		b.StartTimer()
		oc, err := allocation.Run(ctx, allocation.Options{Store: st, Plan: p, Tool: "bench", Log: zerolog.Nop()})
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if oc.Existing || oc.Report.Universe.MPANs == 0 {
			b.Fatalf("a run over %d MPANs (existing run %v)", oc.Report.Universe.MPANs, oc.Existing)
		}
		packs += oc.Report.Timings.PacksSeconds
	}
	b.ReportMetric(packs/float64(b.N), "packs-s/op")
	b.ReportMetric(peak/(1<<20), "peak-heap-MiB")
}

// sampleHeap records the largest heap in use into peak every 10 ms until
// stopped.
func sampleHeap(peak *float64) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			*peak = max(*peak, float64(ms.HeapInuse))
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// publishedBenchMarket generates a synthetic market of n MPANs once and
// publishes its cuts with the built-in pipelines.
func publishedBenchMarket(b *testing.B, n int) (string, *local.Store) {
	if m, ok := publishedMarkets[n]; ok {
		return m.dir, m.st
	}
	dir, err := os.MkdirTemp("", "bench-packs-")
	if err != nil {
		b.Fatal(err)
	}
	st, err := local.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := synth.Generate(ctx, st, synth.Options{MPANs: n, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	set, err := pipeline.Load(pipelines.FS)
	if err != nil {
		b.Fatal(err)
	}
	key, _ := mask.ParseKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	if _, err := pipeline.Run(ctx, pipeline.Options{Store: st, Pipelines: set, Key: key, Log: zerolog.Nop()}); err != nil {
		b.Fatal(err)
	}
	publishedMarkets[n] = benchMarketDir{dir, st}
	return dir, st
}

var publishedMarkets = map[int]benchMarketDir{}

// benchMarket writes the universe once per size for all runs of the
// benchmark (the testing package calls it again for each b.N).
func benchMarket(b *testing.B, n int) (string, *local.Store) {
	if m, ok := benchMarkets[n]; ok {
		return m.dir, m.st
	}
	dir, err := os.MkdirTemp("", "bench-allocate-")
	if err != nil {
		b.Fatal(err)
	}
	st, err := local.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := synth.WriteUniverseCuts(context.Background(), st, synth.UniverseCutsOptions{MPANs: n, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	benchMarkets[n] = benchMarketDir{dir, st}
	return dir, st
}

type benchMarketDir struct {
	dir string
	st  *local.Store
}

var benchMarkets = map[int]benchMarketDir{}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, bm := range benchMarkets {
		os.RemoveAll(bm.dir)
	}
	os.Exit(code)
}
