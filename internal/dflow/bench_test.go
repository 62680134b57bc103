package dflow_test

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/dflow/dflowgen"
)

var (
	benchOnce sync.Once
	benchData map[string][]byte
)

// benchFiles builds ~100 MB each of D0150 and D0268 (generated once).
func benchFiles(b *testing.B) map[string][]byte {
	benchOnce.Do(func() {
		benchData = map[string][]byte{}
		cat := dflow.DefaultCatalog()
		for _, key := range []string{"D0150002", "D0268002"} {
			f := cat.Flow(key[:5], key[5:])
			var one bytes.Buffer
			if err := dflowgen.New(1).File(&one, f, "B1", 1000); err != nil {
				b.Fatal(err)
			}
			n := 1000 * (100 << 20) / one.Len()
			var buf bytes.Buffer
			buf.Grow(110 << 20)
			if err := dflowgen.New(1).File(&buf, f, "B1", n+1); err != nil {
				b.Fatal(err)
			}
			benchData[key] = buf.Bytes()
		}
	})
	return benchData
}

func BenchmarkReadValidate(b *testing.B) {
	for key, data := range benchFiles(b) {
		b.Run(key, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			records := 0
			for i := 0; i < b.N; i++ {
				r := dflow.NewReader(bytes.NewReader(data), key, dflow.Options{})
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if r.Stats().Errors != 0 {
					b.Fatalf("%d errors in generated data", r.Stats().Errors)
				}
				records = r.Stats().Records
			}
			b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
