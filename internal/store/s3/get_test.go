package s3_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/store/miniotest"
	"github.com/mhhs-sit/datacut/internal/store/s3"
	"github.com/mhhs-sit/datacut/internal/store/storetest"
)

// TestGetParts reads objects of every shape Get treats apart: empty,
// within the first part, exactly one part, and several parts with a short
// last one; and one replaced while it is read, which must fail.
func TestGetParts(t *testing.T) {
	const part = 5 << 20
	srv := miniotest.Start(t)
	cfg := srv.Config("")
	cfg.PartSize, cfg.Threads = part, 2
	ctx := context.Background()
	st, err := s3.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1, 1000, part, part + 1, 3*part + 77} {
		data, _ := io.ReadAll(storetest.Pattern(uint64(size), int64(size)))
		if err := st.Put(ctx, "get/obj", bytes.NewReader(data), int64(size)); err != nil {
			t.Fatal(err)
		}
		rc, err := st.Get(ctx, "get/obj")
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: read %d bytes, %v", size, len(got), err)
		}
	}

	// Replaced after the first part was started: the parts after the
	// one already fetched ask for the old ETag and fail.
	old, _ := io.ReadAll(storetest.Pattern(1, 4*part))
	if err := st.Put(ctx, "get/replaced", bytes.NewReader(old), int64(len(old))); err != nil {
		t.Fatal(err)
	}
	rc, err := st.Get(ctx, "get/replaced")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := rc.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	repl, _ := io.ReadAll(storetest.Pattern(2, 4*part))
	if err := st.Put(ctx, "get/replaced", bytes.NewReader(repl), int64(len(repl))); err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	if err == nil || !strings.Contains(err.Error(), "replaced while it was read") {
		t.Fatalf("reading an object replaced meanwhile: %v, want an error saying so", err)
	}
}

// TestPutShortReader: a reader with fewer bytes than the size given fails
// the Put and leaves nothing.
func TestPutShortReader(t *testing.T) {
	srv := miniotest.Start(t)
	st := srv.Store("")
	ctx := context.Background()
	for _, size := range []int64{1000, 3 << 20, 40 << 20} {
		data, _ := io.ReadAll(storetest.Pattern(3, size-1))
		for name, r := range map[string]io.Reader{"stream": io.LimitReader(storetest.Pattern(3, size), size-1), "seekable": bytes.NewReader(data)} {
			err := st.Put(ctx, "short/obj", r, size)
			if err == nil {
				t.Fatalf("%s: %d bytes promised, one less given: Put succeeded", name, size)
			}
			if _, serr := st.Stat(ctx, "short/obj"); serr == nil {
				t.Fatalf("%s: %d bytes: the short Put left an object", name, size)
			}
		}
	}
}
