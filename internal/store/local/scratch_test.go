package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A scratch store writes objects as the store does, whole or not at all,
// without syncing them; the store syncs every object it writes.
func TestScratchDoesNotSync(t *testing.T) {
	syncs := 0
	fsync = func(f *os.File) error { syncs++; return f.Sync() }
	defer func() { fsync = (*os.File).Sync }()
	ctx := context.Background()
	for _, scratch := range []bool{false, true} {
		open := Open
		if scratch {
			open = OpenScratch
		}
		s, err := open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		syncs = 0
		if err := s.Put(ctx, "a/b", strings.NewReader("abc"), 3); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(s.TempDir(), "f")
		if err := os.WriteFile(path, []byte("def"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.PutFile(ctx, "a/c", path); err != nil {
			t.Fatal(err)
		}
		if scratch != (syncs == 0) {
			t.Errorf("scratch %v: %d syncs", scratch, syncs)
		}
		for key, want := range map[string]string{"a/b": "abc", "a/c": "def"} {
			rc, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if string(b) != want {
				t.Errorf("scratch %v: %s holds %q, want %q", scratch, key, b, want)
			}
		}
	}
}

// A small object costs no megabyte copy buffer (the file reads from the
// reader with a buffer of its own).
func TestSmallPutAllocatesLittle(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 10 {
		if err := s.Put(ctx, fmt.Sprintf("a/%d", i), strings.NewReader("{}"), 2); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 10; per > 256<<10 {
		t.Errorf("a 2-byte put allocates %d bytes", per)
	}
}
