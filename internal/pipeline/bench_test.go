package pipeline

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

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

// BenchmarkScaleSlice: datacut run on a slice of a market of BENCH_MPANS
// MPANs (default 10^6): the largest participant of each cut type, its files
// byte for byte those of the whole market (synth.Options.MPIDs). Per-byte
// costs that grow with a cut's size show here at national size in minutes:
// compare cpu-ms/MB at BENCH_MPANS=1000000 and 30000000.
//
//	BENCH_MPANS=30000000 go test ./internal/pipeline -run '^$' -bench ScaleSlice -benchtime 1x -timeout 60m
func BenchmarkScaleSlice(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("BENCH_MPANS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("BENCH_MPANS: %v", err)
		}
	}
	set, err := Load(pipelines.FS)
	if err != nil {
		b.Fatal(err)
	}
	key, _ := mask.ParseKey(testKey)
	market := b.TempDir()
	gen, _ := local.Open(market)
	// The largest sender of each cut type (synth's weights).
	slice := []string{"MTRA", "BRGT", "MIDE"}
	if _, err := synth.Generate(context.Background(), gen, synth.Options{MPANs: n, Seed: 1, MPIDs: slice}); err != nil {
		b.Fatal(err)
	}
	var bytes int64
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		if err := linkTree(market, dir); err != nil {
			b.Fatal(err)
		}
		st, _ := local.Open(dir)
		before := cpuTime()
		b.StartTimer()
		sum, err := Run(context.Background(), Options{Store: st, Pipelines: set, Key: key, Log: zerolog.Nop()})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - before
		bytes += sum.InputBytes
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.SetBytes(bytes / int64(b.N))
	b.ReportMetric(float64(cpu.Milliseconds())/(float64(bytes)/1e6), "cpu-ms/MB")
}

// cpuTime is the process's CPU time so far (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// linkTree hard-links every file under src into the same place under dst.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return os.Link(p, filepath.Join(dst, rel))
	})
}
