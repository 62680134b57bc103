package reconcile

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/pipelines"
)

// BenchmarkReconcile reconciles a published market with the built-in rules
// (Run: reading and checking, not writing). The market is generated and
// published first, BENCH_MPANS MPANs (default 20,000) with cross faults at
// 1 %; or BENCH_STORE names the directory of one already published (datacut
// synth + datacut run), which Run only reads:
//
//	BENCH_MPANS=1000000 go test -run '^$' -bench Reconcile -benchtime 3x ./internal/reconcile/
//	BENCH_STORE=/tmp/m7 go test -run '^$' -bench Reconcile -benchtime 1x -timeout 1h ./internal/reconcile/
func BenchmarkReconcile(b *testing.B) {
	var st store.Store
	if dir := os.Getenv("BENCH_STORE"); dir != "" {
		s, err := local.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		st = s
	} else {
		n := 20_000
		if v := os.Getenv("BENCH_MPANS"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil || n < 2 {
				b.Fatalf("BENCH_MPANS=%q: want a number of MPANs", v)
			}
		}
		st, _, _ = market(b, n, 0.01)
	}
	set, err := pipeline.Load(pipelines.FS)
	if err != nil {
		b.Fatal(err)
	}
	dpia := set.Rules(pipeline.DefaultRules)
	o := Options{Store: st, Rules: builtIn(b), Clear: func(ref string) bool { return !dpia.Sensitive(ref) }}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(res.Findings)), "findings")
	}
}
