// Package store is the object storage every command reads and writes: data
// cuts, masked tables, manifests, allocations and load packs. Stores are
// siblings below it: local (a directory, the default) and s3 (MinIO or any
// S3 service through minio-go). The contract below is checked for every
// implementation by storetest.Run.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// Store holds objects under slash-separated keys such as
// "cuts/mop-mtd/mpid=MOPA/cut=1/manifest.json".
//
// Contract, for every implementation:
//   - Put streams r to the object. The object becomes visible only when Put
//     returns nil; until then readers see the previous object or none, never
//     a part. A failed or cancelled Put leaves nothing new visible. size is
//     the length when known, or -1. Memory use does not grow with the size.
//   - Get streams an object; the caller closes it. A missing key returns an
//     error for which IsNotFound is true.
//   - Stat describes an object; missing keys as Get.
//   - List calls fn for every object whose key starts with prefix, in
//     ascending byte order of keys; an error from fn stops the listing and
//     is returned.
//   - Delete removes an object; deleting a missing key is not an error.
//   - Keys are checked by ValidateKey; an invalid key is an error before
//     any I/O.
//   - All methods are safe for concurrent use; concurrent Puts to the same
//     key leave one of them whole.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Stat(ctx context.Context, key string) (Info, error)
	List(ctx context.Context, prefix string, fn func(Info) error) error
	Delete(ctx context.Context, key string) error
	// String names the store for people: a path or s3://bucket/prefix at
	// an endpoint. It never contains credentials.
	String() string
}

// Info describes an object.
type Info struct {
	Key      string
	Size     int64
	Modified time.Time
}

// ErrNotFound is wrapped by errors for missing objects.
var ErrNotFound = errors.New("object not found")

// ErrNoStore is wrapped by the error of opening, to read, a store that does
// not exist (a local directory that is not there).
var ErrNoStore = errors.New("no store")

// IsNotFound reports whether err means the object does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// NotFound returns an error wrapping ErrNotFound for key.
func NotFound(key string) error { return fmt.Errorf("%s: %w", key, ErrNotFound) }

// MaxKeyLen bounds a key in bytes (S3's limit).
const MaxKeyLen = 1024

// ValidateKey rejects keys that could escape a store's root or mean
// different things to different stores: empty, absolute, "." or ".."
// segments, empty segments, a trailing slash, backslashes, control bytes,
// invalid UTF-8, segments starting with ".datacut" (reserved for the
// stores' own temporary files), and keys over MaxKeyLen bytes.
func ValidateKey(key string) error {
	bad := func(why string) error {
		return fmt.Errorf("invalid object key %q: %s", key, why)
	}
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxKeyLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxKeyLen))
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return bad("absolute: keys are relative to the store")
	case strings.ContainsRune(key, '\\'):
		return bad("backslash: use '/' between segments")
	}
	for _, c := range key {
		if c < 0x20 || c == 0x7f {
			return bad("control character")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return bad("empty segment (leading, trailing or double '/')")
		case seg == "." || seg == "..":
			return bad("'.' and '..' segments are not allowed")
		case strings.HasPrefix(seg, ".datacut"):
			return bad("segments starting with .datacut are reserved")
		}
	}
	return nil
}

// ValidatePrefix checks a List prefix: "" or a key, optionally ending in
// '/'.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		return fmt.Errorf("invalid prefix %q", prefix)
	}
	return ValidateKey(p)
}

// ReadAll reads a whole (small) object.
func ReadAll(ctx context.Context, s Store, key string) ([]byte, error) {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// Identified is implemented by stores that know who is using them: the S3
// access key id, or the local user. Never a secret.
type Identified interface {
	Identity() string
}

// Who names who is using a store, for audit records.
func Who(s Store) string {
	if id, ok := s.(Identified); ok {
		return id.Identity()
	}
	return "unknown"
}

// FilePutter is implemented by stores that can take a finished local file
// without copying it (the local store renames it into place).
type FilePutter interface {
	PutFile(ctx context.Context, key, path string) error
	// TempDir is where to write files destined for PutFile.
	TempDir() string
}

// TempDir is the directory to spool files for PutFile into.
func TempDir(s Store) string {
	if fp, ok := s.(FilePutter); ok {
		return fp.TempDir()
	}
	return os.TempDir()
}

// PutFile stores a finished local file under key and removes the file.
func PutFile(ctx context.Context, s Store, key, path string) error {
	if fp, ok := s.(FilePutter); ok {
		return fp.PutFile(ctx, key, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return s.Put(ctx, key, f, st.Size())
}

// ContextReader reads r until ctx is done, then fails with ctx's error, so
// a reader that never ends (a pipe, /dev/zero) still stops on a signal. The
// check is once per Read: nothing for buffered readers.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	return &ctxReader{ctx: ctx, r: r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ctxReadCloser is a ContextReader of a ReadCloser.
type ctxReadCloser struct {
	ctxReader
	io.Closer
}

// ContextReadCloser is ContextReader for a ReadCloser.
func ContextReadCloser(ctx context.Context, rc io.ReadCloser) io.ReadCloser {
	return &ctxReadCloser{ctxReader{ctx, rc}, rc}
}
