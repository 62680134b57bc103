package s3_test

import (
	"context"
	"crypto/sha256"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/miniotest"
	"github.com/mhhs-sit/datacut/internal/store/storetest"
)

// onceAt calls fn once after `at` bytes were read.
type onceAt struct {
	r    io.Reader
	n    int64
	at   int64
	once sync.Once
	fn   func()
}

func (o *onceAt) Read(p []byte) (int, error) {
	if o.n >= o.at {
		o.once.Do(o.fn)
	}
	n, err := o.r.Read(p)
	o.n += int64(n)
	return n, err
}

// TestServerStopsMidUpload kills MinIO in the middle of a large upload.
// Whatever happens, Put either succeeds with the whole object or fails with
// a clear error and nothing is visible.
func TestServerStopsMidUpload(t *testing.T) {
	const size = 160 << 20
	for _, c := range []struct {
		name     string
		down     time.Duration // how long the server stays down
		mustFail bool
	}{
		{"restarted", 500 * time.Millisecond, false},
		{"stays-down", 15 * time.Second, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := miniotest.Start(t)
			st := srv.Store("")
			restarted := make(chan error, 1)
			r := &onceAt{r: storetest.Pattern(5, size), at: 48 << 20, fn: func() {
				srv.Stop()
				go func() { time.Sleep(c.down); restarted <- srv.Restart() }()
			}}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			start := time.Now()
			err := st.Put(ctx, "fault/big.parquet", r, size)
			t.Logf("Put after %v: %v", time.Since(start).Round(time.Millisecond), err)
			if rerr := <-restarted; rerr != nil {
				t.Fatal(rerr)
			}
			if c.mustFail && err == nil {
				t.Fatal("Put succeeded while the server was down")
			}
			if err != nil {
				if !strings.Contains(err.Error(), "fault/big.parquet") {
					t.Errorf("error does not name the object: %v", err)
				}
				if _, serr := st.Stat(context.Background(), "fault/big.parquet"); !store.IsNotFound(serr) {
					t.Fatalf("failed upload left an object: %v", serr)
				}
				n := 0
				st.List(context.Background(), "", func(store.Info) error { n++; return nil })
				if n != 0 {
					t.Fatalf("failed upload left %d objects", n)
				}
				return
			}
			rc, gerr := st.Get(context.Background(), "fault/big.parquet")
			if gerr != nil {
				t.Fatal(gerr)
			}
			defer rc.Close()
			h := sha256.New()
			if n, _ := io.Copy(h, rc); n != size || [32]byte(h.Sum(nil)) != storetest.PatternSum(5, size) {
				t.Fatalf("retried upload is not the whole object (%d bytes)", n)
			}
		})
	}
}
