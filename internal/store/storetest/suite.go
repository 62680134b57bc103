// Package storetest is the contract every store.Store must pass (see the
// Store doc comment). Each implementation's tests call Run.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/store"
)

// LargeSize is the large-object size the suite round-trips (> 64 MiB).
const LargeSize = 64<<20 + 12345

// Run checks the contract on stores from newStore (a fresh, empty store
// per call).
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		for _, size := range []int64{0, 1, 1000, 1<<20 + 1, 3 << 20} {
			for _, known := range []bool{true, false} {
				key := fmt.Sprintf("rt/%d-%v", size, known)
				given := int64(-1)
				if known {
					given = size
				}
				if err := s.Put(ctx, key, Pattern(uint64(size), size), given); err != nil {
					t.Fatalf("put %s: %v", key, err)
				}
				checkObject(t, s, key, uint64(size), size)
			}
		}
	})
	t.Run("Large", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, "large/known", Pattern(9, LargeSize), LargeSize); err != nil {
			t.Fatal(err)
		}
		checkObject(t, s, "large/known", 9, LargeSize)
		if err := s.Put(ctx, "large/unknown", Pattern(10, LargeSize), -1); err != nil {
			t.Fatal(err)
		}
		checkObject(t, s, "large/unknown", 10, LargeSize)
	})
	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "dir/obj", "x")
		for _, key := range []string{"missing", "dir", "dir/obj/below", "dir/ob"} {
			if _, err := s.Get(ctx, key); !store.IsNotFound(err) {
				t.Errorf("Get %s: %v, want not found", key, err)
			}
			if _, err := s.Stat(ctx, key); !store.IsNotFound(err) {
				t.Errorf("Stat %s: %v, want not found", key, err)
			}
		}
		if err := s.Delete(ctx, "missing"); err != nil {
			t.Errorf("Delete of a missing key: %v", err)
		}
	})
	t.Run("ListOrderAndPrefixes", func(t *testing.T) {
		s := newStore(t)
		keys := []string{"a/b/c", "a/b.d", "a-1", "a/bz", "b", "a/b/d/e", "inbox/MOPA/mop-mtd/f1.dat", "inbox/MOPB/ees/f.csv", "ab"}
		for _, k := range keys {
			mustPut(t, s, k, k)
		}
		sorted := append([]string(nil), keys...)
		sort.Strings(sorted)
		if got := listKeys(t, s, ""); !equal(got, sorted) {
			t.Fatalf("List all = %v, want %v", got, sorted)
		}
		for prefix, want := range map[string][]string{
			"a/":           {"a/b.d", "a/b/c", "a/b/d/e", "a/bz"},
			"a/b":          {"a/b.d", "a/b/c", "a/b/d/e", "a/bz"},
			"a/b/":         {"a/b/c", "a/b/d/e"},
			"a":            {"a-1", "a/b.d", "a/b/c", "a/b/d/e", "a/bz", "ab"},
			"inbox/MOP":    {"inbox/MOPA/mop-mtd/f1.dat", "inbox/MOPB/ees/f.csv"},
			"inbox/MOPB/":  {"inbox/MOPB/ees/f.csv"},
			"nothing/":     nil,
			"a/b/c":        {"a/b/c"},
			"inbox/MOPA/m": {"inbox/MOPA/mop-mtd/f1.dat"},
		} {
			if got := listKeys(t, s, prefix); !equal(got, want) {
				t.Errorf("List %q = %v, want %v", prefix, got, want)
			}
		}
		var infos []store.Info
		s.List(ctx, "b", func(i store.Info) error { infos = append(infos, i); return nil })
		if len(infos) != 1 || infos[0].Size != 1 || infos[0].Modified.IsZero() {
			t.Fatalf("List info %+v", infos)
		}
		stop := errors.New("stop")
		n := 0
		if err := s.List(ctx, "", func(store.Info) error { n++; return stop }); err != stop || n != 1 {
			t.Fatalf("List stop: %v after %d", err, n)
		}
	})
	t.Run("OverwriteAndDelete", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "k/obj", "first version, longer")
		mustPut(t, s, "k/obj", "second")
		if got := mustGet(t, s, "k/obj"); got != "second" {
			t.Fatalf("after overwrite: %q", got)
		}
		if err := s.Delete(ctx, "k/obj"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, "k/obj"); !store.IsNotFound(err) {
			t.Fatalf("Stat after delete: %v", err)
		}
		if got := listKeys(t, s, ""); len(got) != 0 {
			t.Fatalf("List after delete: %v", got)
		}
	})
	t.Run("ConcurrentWriters", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				size := int64(i) * 100_003
				errs <- s.Put(ctx, fmt.Sprintf("c/%02d", i), Pattern(uint64(i), size), size)
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 16; i++ {
			checkObject(t, s, fmt.Sprintf("c/%02d", i), uint64(i), int64(i)*100_003)
		}
		if got := listKeys(t, s, "c/"); len(got) != 16 {
			t.Fatalf("listed %d", len(got))
		}
	})
	t.Run("CancelledPutLeavesNothing", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "keep/old", "old")
		for _, key := range []string{"cancel/new", "keep/old"} {
			cctx, cancel := context.WithCancel(ctx)
			r := &cancelAfter{r: Pattern(1, LargeSize), after: 8 << 20, cancel: cancel}
			err := s.Put(cctx, key, r, -1)
			cancel()
			if err == nil {
				t.Fatalf("cancelled Put %s returned nil", key)
			}
		}
		if _, err := s.Stat(ctx, "cancel/new"); !store.IsNotFound(err) {
			t.Fatalf("cancelled new object visible: %v", err)
		}
		if got := mustGet(t, s, "keep/old"); got != "old" {
			t.Fatalf("cancelled overwrite changed the object: %q", got)
		}
		if got := listKeys(t, s, ""); !equal(got, []string{"keep/old"}) {
			t.Fatalf("List after cancel: %v", got)
		}
	})
	t.Run("InvalidKeys", func(t *testing.T) {
		s := newStore(t)
		for _, key := range []string{"", "/abs", "../escape", "a/../../b", "a//b", "a/./b", "a/", "a\\b", "a\x00b", "a\nb", ".datacut-tmp/x", strings.Repeat("k", 1025)} {
			if err := s.Put(ctx, key, strings.NewReader("x"), 1); err == nil {
				t.Errorf("Put %q accepted", key)
			}
			if _, err := s.Get(ctx, key); err == nil || store.IsNotFound(err) {
				t.Errorf("Get %q: %v, want invalid key", key, err)
			}
		}
		if got := listKeys(t, s, ""); len(got) != 0 {
			t.Fatalf("invalid puts left %v", got)
		}
	})
}

// cancelAfter cancels its context once `after` bytes were read, then keeps
// serving data (the store must notice the cancellation itself).
type cancelAfter struct {
	r      io.Reader
	n      int64
	after  int64
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n >= c.after {
		c.cancel()
		time.Sleep(time.Millisecond)
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Pattern is a deterministic pseudo-random stream of size bytes.
func Pattern(seed uint64, size int64) io.Reader {
	return io.LimitReader(&patternReader{rng: rand.New(rand.NewPCG(seed, 42))}, size)
}

// patternReader yields the bytes of successive rng words; the stream is
// the same whatever sizes the reads ask for.
type patternReader struct {
	rng  *rand.Rand
	word uint64
	left int // bytes of word not yet served
}

func (p *patternReader) Read(b []byte) (int, error) {
	for i := range b {
		if p.left == 0 {
			p.word, p.left = p.rng.Uint64(), 8
		}
		b[i] = byte(p.word)
		p.word >>= 8
		p.left--
	}
	return len(b), nil
}

// PatternSum is the SHA-256 of Pattern(seed, size).
func PatternSum(seed uint64, size int64) [32]byte {
	h := sha256.New()
	io.Copy(h, Pattern(seed, size))
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

func checkObject(t *testing.T, s store.Store, key string, seed uint64, size int64) {
	t.Helper()
	ctx := context.Background()
	info, err := s.Stat(ctx, key)
	if err != nil || info.Size != size || info.Key != key {
		t.Fatalf("Stat %s = %+v, %v; want size %d", key, info, err, size)
	}
	rc, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil || n != size {
		t.Fatalf("reading %s: %d bytes, %v; want %d", key, n, err, size)
	}
	if !bytes.Equal(h.Sum(nil), sum(PatternSum(seed, size))) {
		t.Fatalf("%s: content differs", key)
	}
}

func sum(s [32]byte) []byte { return s[:] }

func mustPut(t *testing.T, s store.Store, key, v string) {
	t.Helper()
	if err := s.Put(context.Background(), key, strings.NewReader(v), int64(len(v))); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func mustGet(t *testing.T, s store.Store, key string) string {
	t.Helper()
	b, err := store.ReadAll(context.Background(), s, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return string(b)
}

func listKeys(t *testing.T, s store.Store, prefix string) []string {
	t.Helper()
	var keys []string
	if err := s.List(context.Background(), prefix, func(i store.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatalf("List %q: %v", prefix, err)
	}
	return keys
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
