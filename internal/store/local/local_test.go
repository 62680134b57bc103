package local_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := local.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestScratchConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := local.OpenScratch(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestKeysStayInsideRoot(t *testing.T) {
	parent := t.TempDir()
	s, err := local.Open(filepath.Join(parent, "root"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{"../outside", "a/../../outside"} {
		if err := s.Put(ctx, key, strings.NewReader("x"), 1); err == nil {
			t.Fatalf("Put %q accepted", key)
		}
	}
	if _, err := os.Stat(filepath.Join(parent, "outside")); err == nil {
		t.Fatal("a key escaped the root")
	}
}

func TestPutLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	s, _ := local.Open(dir)
	ctx := context.Background()
	s.Put(ctx, "a/b", strings.NewReader("abc"), 3)
	s.Put(ctx, "a/c", strings.NewReader("ab"), 3) // short: fails
	if _, err := s.Stat(ctx, "a/c"); !store.IsNotFound(err) {
		t.Fatalf("short put visible: %v", err)
	}
	tmp, _ := os.ReadDir(filepath.Join(dir, ".datacut-tmp"))
	if len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Fatal("empty directory left after delete")
	}
}

func TestPutFileRenames(t *testing.T) {
	dir := t.TempDir()
	s, _ := local.Open(dir)
	ctx := context.Background()
	src := filepath.Join(s.TempDir(), "spool")
	os.WriteFile(src, []byte("spooled"), 0o644)
	if err := store.PutFile(ctx, s, "inbox/A/x.dat", src); err != nil {
		t.Fatal(err)
	}
	if b, _ := store.ReadAll(ctx, s, "inbox/A/x.dat"); string(b) != "spooled" {
		t.Fatalf("got %q", b)
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Fatal("spool file left behind")
	}
	// From another directory (possibly another file system): still moved.
	other := filepath.Join(t.TempDir(), "f")
	os.WriteFile(other, []byte("other"), 0o644)
	if err := store.PutFile(ctx, s, "b", other); err != nil {
		t.Fatal(err)
	}
	if b, _ := store.ReadAll(ctx, s, "b"); string(b) != "other" {
		t.Fatalf("got %q", b)
	}
}

// Every object and folder is its owner's only, whether written by Put or
// moved in by PutFile from a file others could read.
func TestObjectsAreTheOwnersOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := local.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, "quarantine/ees/mpid=BRGT/s1/files/a.csv", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(dir, "spool")
	if err := os.WriteFile(spool, []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.PutFile(ctx, "cuts/ees/mpid=BRGT/cut=1/t.parquet", spool); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(st.Root(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenExistingMakesNothing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	if _, err := local.OpenExisting(missing); !errors.Is(err, store.ErrNoStore) || err.Error() != "no store at "+missing {
		t.Fatalf("a missing folder: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("OpenExisting made the folder")
	}
	// An existing folder opens untouched; the first write makes what it needs.
	dir := t.TempDir()
	s, err := local.OpenExisting(dir)
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("OpenExisting wrote %v", entries)
	}
	if err := s.Put(context.Background(), "a/b", strings.NewReader("x"), 1); err != nil {
		t.Fatalf("Put into a store opened with OpenExisting: %v", err)
	}
}
