package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/allocation"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
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
