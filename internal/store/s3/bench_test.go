package s3_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/store/miniotest"
	"github.com/mhhs-sit/datacut/internal/store/storetest"
)

// BenchmarkPutGet compares a 256 MiB object's put and get throughput on a
// local MinIO with the same bytes in the local directory store.
func BenchmarkPutGet(b *testing.B) {
	const size = 256 << 20
	data, _ := io.ReadAll(storetest.Pattern(1, size))
	srv := miniotest.Start(b)
	dir, err := local.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		name string
		s    store.Store
	}{{"local", dir}, {"minio", srv.Store("")}} {
		b.Run(c.name+"/put", func(b *testing.B) {
			b.SetBytes(size)
			for i := 0; i < b.N; i++ {
				if err := c.s.Put(ctx, "bench/obj", bytes.NewReader(data), size); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/get", func(b *testing.B) {
			b.SetBytes(size)
			buf := make([]byte, 1<<20)
			for i := 0; i < b.N; i++ {
				rc, err := c.s.Get(ctx, "bench/obj")
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.CopyBuffer(io.Discard, rc, buf); err != nil || n != size {
					b.Fatal(n, err)
				}
				rc.Close()
			}
		})
	}
}
