// Package local is the default store: objects are files below a root
// directory. Writes go to a temporary file that is synced and renamed into
// place, so a reader never sees a half-written object.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/mhhs-sit/datacut/internal/store"
)

// tmpDir holds in-flight writes; ValidateKey reserves the name.
const tmpDir = ".datacut-tmp"

// Store is a directory-backed store.
type Store struct {
	root    string
	scratch bool // writes are not synced (OpenScratch)
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.FilePutter = (*Store)(nil)
)

// Objects are readable by their owner only, folders too: a local store
// holds raw and quarantined personal data, and is for one trusted user
// (MinIO, with an identity per participant, is the multi-party store).
const (
	fileMode os.FileMode = 0o600
	dirMode  os.FileMode = 0o700
)

// Open returns a store rooted at dir, creating it if needed.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening local store %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, tmpDir), dirMode); err != nil {
		return nil, fmt.Errorf("opening local store: %w", err)
	}
	return &Store{root: abs}, nil
}

// OpenScratch returns a store rooted at dir, creating it if needed, for
// objects that live no longer than the process writing them (a run's spool,
// removed when it ends): a write still appears whole or not at all, but is
// not synced to disk, since no one reads the store after a crash.
func OpenScratch(dir string) (*Store, error) {
	s, err := Open(dir)
	if err != nil {
		return nil, err
	}
	s.scratch = true
	return s, nil
}

// OpenExisting returns the store rooted at dir, which must be a directory
// already: it creates nothing, for commands that only read (a mistyped
// location is then an error wrapping store.ErrNoStore, not a new empty
// store).
func OpenExisting(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening local store %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.IsDir()) {
		return nil, fmt.Errorf("%w at %s", store.ErrNoStore, abs)
	}
	if err != nil {
		return nil, fmt.Errorf("opening local store: %w", err)
	}
	return &Store{root: abs}, nil
}

// Identity is the operating system user using the store.
func (s *Store) Identity() string {
	if u, err := user.Current(); err == nil {
		return "local:" + u.Username
	}
	return fmt.Sprintf("local:uid %d", os.Getuid())
}

// String is the root directory.
func (s *Store) String() string { return s.root }

// Root is the directory holding the objects.
func (s *Store) Root() string { return s.root }

func (s *Store) path(key string) string { return filepath.Join(s.root, filepath.FromSlash(key)) }

// Put writes via a temporary file, fsync and rename.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) (err error) {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	dst := s.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), dirMode); err != nil {
		return fmt.Errorf("putting %s: %w", key, err)
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(s.root, tmpDir, hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrNotExist) {
		// Opened with OpenExisting, which leaves the folder to the first write.
		if err = os.MkdirAll(filepath.Dir(tmp), dirMode); err == nil {
			f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
		}
	}
	if err != nil {
		return fmt.Errorf("putting %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// No buffer of our own: a file reads from the reader with one of its
	// own (os.File.ReadFrom), which left a megabyte buffer here unused.
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return fmt.Errorf("putting %s: %w", key, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("putting %s: read %d bytes, expected %d", key, n, size)
	}
	if err := s.sync(f); err != nil {
		return fmt.Errorf("putting %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("putting %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("putting %s: %w", key, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("putting %s: %w", key, err)
	}
	return s.syncDir(filepath.Dir(dst))
}

// fsync syncs a file (a variable for the tests).
var fsync = (*os.File).Sync

// sync syncs a written file, unless the store is scratch.
func (s *Store) sync(f *os.File) error {
	if s.scratch {
		return nil
	}
	return fsync(f)
}

// ctxReader stops a copy when the context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// syncDir syncs a folder after a rename into it, unless the store is
// scratch.
func (s *Store) syncDir(dir string) error {
	if s.scratch {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return fsync(d)
}

// Get opens the object's file.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := store.ValidateKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, store.NotFound(key)
	}
	if err != nil {
		return nil, fmt.Errorf("getting %s: %w", key, err)
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		return nil, store.NotFound(key)
	}
	return f, nil
}

// Stat describes the object's file.
func (s *Store) Stat(ctx context.Context, key string) (store.Info, error) {
	if err := store.ValidateKey(key); err != nil {
		return store.Info{}, err
	}
	st, err := os.Stat(s.path(key))
	if err != nil || st.IsDir() {
		if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return store.Info{}, store.NotFound(key)
		}
		return store.Info{}, fmt.Errorf("stat %s: %w", key, err)
	}
	return store.Info{Key: key, Size: st.Size(), Modified: st.ModTime()}, nil
}

// Delete removes the object's file and any directories it leaves empty.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	p := s.path(key)
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return nil // a prefix, not an object
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	for dir := filepath.Dir(p); dir != s.root && strings.HasPrefix(dir, s.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break // not empty
		}
	}
	return nil
}

// List walks the directories under the prefix in key order: directory
// entries sort as if their names ended in '/', which is the order S3 uses
// for the keys they hold.
func (s *Store) List(ctx context.Context, prefix string, fn func(store.Info) error) error {
	if err := store.ValidatePrefix(prefix); err != nil {
		return err
	}
	dirKey := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirKey = prefix[:i+1]
	}
	return s.walk(ctx, dirKey, prefix, fn)
}

func (s *Store) walk(ctx context.Context, dirKey, prefix string, fn func(store.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(s.root, filepath.FromSlash(dirKey)))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing %s: %w", dirKey, err)
	}
	sortName := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	sort.Slice(entries, func(i, j int) bool { return sortName(entries[i]) < sortName(entries[j]) })
	for _, e := range entries {
		if dirKey == "" && e.Name() == tmpDir {
			continue
		}
		key := dirKey + e.Name()
		if e.IsDir() {
			sub := key + "/"
			if strings.HasPrefix(sub, prefix) || strings.HasPrefix(prefix, sub) {
				if err := s.walk(ctx, sub, prefix, fn); err != nil {
					return err
				}
			}
			continue
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(key, prefix) || store.ValidateKey(key) != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if err := fn(store.Info{Key: key, Size: info.Size(), Modified: info.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// TempDir is inside the root, so PutFile is a rename on one file system.
func (s *Store) TempDir() string { return filepath.Join(s.root, tmpDir) }

// PutFile moves a finished file into place (fsync, rename); a file on
// another file system is copied with Put and removed.
func (s *Store) PutFile(ctx context.Context, key, path string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("putting %s: %w", key, err)
	}
	err = f.Chmod(fileMode)
	if err == nil {
		err = s.sync(f)
	}
	f.Close()
	if err != nil {
		return fmt.Errorf("putting %s: %w", key, err)
	}
	dst := s.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), dirMode); err != nil {
		return fmt.Errorf("putting %s: %w", key, err)
	}
	if err := os.Rename(path, dst); err != nil {
		if !errors.Is(err, syscall.EXDEV) {
			return fmt.Errorf("putting %s: %w", key, err)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer os.Remove(path)
		defer in.Close()
		return s.Put(ctx, key, in, -1)
	}
	return s.syncDir(filepath.Dir(dst))
}
