// Package s3 stores objects in an S3 bucket (MinIO in the programme's
// environments) through minio-go. Large objects stream up in parallel
// multipart uploads with bounded buffers; an object becomes visible only
// when its upload completes, and a failed upload is aborted.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mhhs-sit/datacut/internal/store"
)

// Config says where the bucket is and how to reach it.
type Config struct {
	Endpoint  string // host:port, e.g. minio.example.org:9000
	Region    string
	Secure    bool // TLS
	AccessKey string
	SecretKey string
	Bucket    string
	Prefix    string // keys are stored under Prefix/ ("" for none)
	// PartSize and Threads bound upload memory to PartSize*Threads.
	PartSize uint64 // default 16 MiB
	Threads  uint   // default 4
}

// Store is an S3 bucket (and optional prefix) as a store.Store.
type Store struct {
	c      *minio.Client
	cfg    Config
	prefix string
}

var _ store.Store = (*Store)(nil)

// smallObject is read whole and sent in one PUT; larger objects stream up
// in parts.
const smallObject = 1 << 20

// Open connects to the bucket; it fails clearly when the bucket is missing
// or the endpoint cannot be reached.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.PartSize == 0 {
		cfg.PartSize = 16 << 20
	}
	if cfg.Threads == 0 {
		cfg.Threads = 4
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", cfg.Endpoint, err)
	}
	s := &Store{c: c, cfg: cfg, prefix: strings.Trim(cfg.Prefix, "/")}
	if s.prefix != "" {
		if err := store.ValidateKey(s.prefix); err != nil {
			return nil, fmt.Errorf("s3 prefix: %w", err)
		}
		s.prefix += "/"
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if isDenied(err) {
		// A restricted identity (a participant's, say) may list the
		// bucket under some prefixes only, so S3 refuses the HEAD of
		// the whole bucket. A HEAD has no body to tell bad credentials
		// or a missing bucket from that: ask where the bucket is, which
		// every datacut identity may (internal/access; MinIO lets anyone)
		// and which answers in words.
		if ok, err = locate(ctx, cfg); isDenied(err) {
			return nil, fmt.Errorf("bucket %s at %s: %w: the credentials in use may not even locate the bucket: is it the bucket they were made for?", cfg.Bucket, cfg.Endpoint, ErrAccessDenied)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("checking bucket %s at %s: %w (check the endpoint, TLS setting and credentials)", cfg.Bucket, cfg.Endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("bucket %s does not exist at %s: create it first", cfg.Bucket, cfg.Endpoint)
	}
	return s, nil
}

// locate asks where the bucket is (always: a client with a region set
// would not ask), and says whether it exists.
func locate(ctx context.Context, cfg Config) (bool, error) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
	})
	if err != nil {
		return false, err
	}
	_, err = c.GetBucketLocation(ctx, cfg.Bucket)
	if minio.ToErrorResponse(err).Code == minio.NoSuchBucket {
		return false, nil
	}
	return err == nil, err
}

// ErrAccessDenied is wrapped by the error of an operation S3 refused for
// the credentials in use.
var ErrAccessDenied = errors.New("access denied")

func isDenied(err error) bool {
	return err != nil && minio.ToErrorResponse(err).Code == "AccessDenied"
}

// denied says which operation on which key the credentials may not do; it
// never names the credentials.
func (s *Store) denied(verb, key string) error {
	return fmt.Errorf("%w: the credentials in use may not %s %s at %s", ErrAccessDenied, verb, key, s)
}

// Identity is the access key id the store uses (never the secret).
func (s *Store) Identity() string { return "s3:" + s.cfg.AccessKey }

// Client exposes the minio client for tests and tools.
func (s *Store) Client() *minio.Client { return s.c }

// String is s3://bucket/prefix at the endpoint, without credentials.
func (s *Store) String() string {
	return fmt.Sprintf("s3://%s/%s (%s)", s.cfg.Bucket, s.prefix, s.cfg.Endpoint)
}

func (s *Store) name(key string) string { return s.prefix + key }

// Put uploads in one request when small, else as a parallel multipart
// stream; multipart uploads are aborted on error.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	// No SHA-256 of the payload for the signature: the CRC32C trailing
	// checksum minio-go then adds still lets the server reject corrupted
	// parts, at a fraction of the CPU (which client and server share on
	// small machines).
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: s.cfg.PartSize, DisableContentSha256: true}
	switch {
	case size < 0:
		head := make([]byte, smallObject+1)
		n, err := io.ReadFull(r, head)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			r, size = bytes.NewReader(head[:n]), int64(n)
		case err != nil:
			return fmt.Errorf("putting %s: %w", key, err)
		default:
			r = io.MultiReader(bytes.NewReader(head[:n]), r)
			opts.ConcurrentStreamParts, opts.NumThreads = true, s.cfg.Threads
		}
	case uint64(size) <= s.cfg.PartSize:
		// One PUT streamed from r: nothing is buffered.
		r = exactly(r, size)
	case size <= singlePut && isSeeker(r):
		// A file, say: one PUT streamed from it, which minio-go can
		// retry from the start, rather than parts buffered in memory.
		opts.DisableMultipart = true
	default:
		r = &exact{r: r, left: size}
		opts.ConcurrentStreamParts, opts.NumThreads = true, s.cfg.Threads
	}
	info, err := s.c.PutObject(ctx, s.cfg.Bucket, s.name(key), r, size, opts)
	if isDenied(err) {
		return s.denied("write", key)
	}
	if err != nil {
		return fmt.Errorf("putting %s to %s: %w", key, s, err)
	}
	if size >= 0 && info.Size != size {
		// The upload completed with fewer bytes than promised: remove it.
		_ = s.c.RemoveObject(context.WithoutCancel(ctx), s.cfg.Bucket, s.name(key), minio.RemoveObjectOptions{})
		return fmt.Errorf("putting %s: wrote %d bytes, expected %d", key, info.Size, size)
	}
	return nil
}

func (s *Store) classify(op, key string, err error) error {
	resp := minio.ToErrorResponse(err)
	if resp.Code == minio.NoSuchKey || resp.StatusCode == http.StatusNotFound {
		return store.NotFound(key)
	}
	if resp.Code == "AccessDenied" {
		verb := "read"
		if op == "deleting" {
			verb = "delete"
		}
		return s.denied(verb, key)
	}
	return fmt.Errorf("%s %s at %s: %w", op, key, s, err)
}

// Get streams the object. The first request asks for the first part's
// worth of bytes: most objects fit, and that one GET (no HEAD first) both
// finds the object and brings its bytes. A larger object's other parts
// are fetched by up to Threads concurrent range GETs pinned to the first
// answer's ETag, so an object replaced meanwhile fails the read rather than
// mixing two versions.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := store.ValidateKey(key); err != nil {
		return nil, err
	}
	core := minio.Core{Client: s.c}
	chunk := int64(s.cfg.PartSize)
	var opts minio.GetObjectOptions
	if err := opts.SetRange(0, chunk-1); err != nil {
		return nil, err
	}
	body, _, h, err := core.GetObject(ctx, s.cfg.Bucket, s.name(key), opts)
	if err != nil && minio.ToErrorResponse(err).Code == "InvalidRange" {
		// An empty object has no first byte to ask for.
		body, _, _, err = core.GetObject(ctx, s.cfg.Bucket, s.name(key), minio.GetObjectOptions{})
		if err != nil {
			return nil, s.classify("getting", key, err)
		}
		return body, nil
	}
	if err != nil {
		return nil, s.classify("getting", key, err)
	}
	size, err := totalSize(h.Get("Content-Range"))
	if err != nil {
		body.Close()
		return nil, fmt.Errorf("getting %s at %s: %w", key, s, err)
	}
	if size <= chunk {
		return body, nil
	}
	etag := strings.Trim(h.Get("ETag"), `"`)
	if etag == "" {
		// Nothing to pin the parts to: read it all in one GET.
		body.Close()
		body, _, _, err = core.GetObject(ctx, s.cfg.Bucket, s.name(key), minio.GetObjectOptions{})
		if err != nil {
			return nil, s.classify("getting", key, err)
		}
		return body, nil
	}
	return s.parts(ctx, key, etag, body, chunk, size), nil
}

// totalSize reads the object's size from a Content-Range: bytes a-b/size.
func totalSize(cr string) (int64, error) {
	i := strings.LastIndexByte(cr, '/')
	if !strings.HasPrefix(cr, "bytes ") || i < 0 {
		return 0, fmt.Errorf("unexpected Content-Range %q", cr)
	}
	size, err := strconv.ParseInt(cr[i+1:], 10, 64)
	if err != nil || size < 0 {
		return 0, fmt.Errorf("unexpected Content-Range %q", cr)
	}
	return size, nil
}

type part struct {
	data []byte
	err  error
}

// parts reads the object from first (bytes 0 to chunk-1, streaming) then
// from chunk-sized range GETs, at most Threads of them fetched or held at
// once, delivered in order.
func (s *Store) parts(ctx context.Context, key, etag string, first io.ReadCloser, chunk, size int64) io.ReadCloser {
	ctx, cancel := context.WithCancel(ctx)
	pending := make(chan chan part, max(int(s.cfg.Threads)-1, 1))
	go func() {
		defer close(pending)
		for start := chunk; start < size; start += chunk {
			res := make(chan part, 1)
			select {
			case pending <- res:
			case <-ctx.Done():
				return
			}
			go func() {
				data, err := s.getRange(ctx, key, etag, start, min(start+chunk, size)-1, size)
				res <- part{data, err}
			}()
		}
	}()
	return &partsReader{ctx: ctx, cancel: cancel, cur: first, first: first, pending: pending, size: size}
}

func (s *Store) getRange(ctx context.Context, key, etag string, start, end, size int64) ([]byte, error) {
	var opts minio.GetObjectOptions
	if err := opts.SetRange(start, end); err != nil {
		return nil, err
	}
	if err := opts.SetMatchETag(etag); err != nil {
		return nil, err
	}
	body, _, h, err := minio.Core{Client: s.c}.GetObject(ctx, s.cfg.Bucket, s.name(key), opts)
	if minio.ToErrorResponse(err).Code == "PreconditionFailed" {
		return nil, fmt.Errorf("getting %s at %s: the object was replaced while it was read", key, s)
	}
	if err != nil {
		return nil, s.classify("getting", key, err)
	}
	defer body.Close()
	if cr, want := h.Get("Content-Range"), fmt.Sprintf("bytes %d-%d/%d", start, end, size); cr != want {
		return nil, fmt.Errorf("getting %s at %s: Content-Range %q, asked for %q", key, s, cr, want)
	}
	data := make([]byte, end-start+1)
	if _, err := io.ReadFull(body, data); err != nil {
		return nil, fmt.Errorf("getting %s at %s: %w", key, s, err)
	}
	return data, nil
}

type partsReader struct {
	ctx     context.Context
	cancel  context.CancelFunc
	cur     io.Reader
	first   io.ReadCloser
	pending chan chan part
	n, size int64
	err     error
}

func (r *partsReader) Read(p []byte) (int, error) {
	for r.err == nil {
		if r.cur != nil {
			n, err := r.cur.Read(p)
			r.n += int64(n)
			if err == io.EOF {
				r.cur, err = nil, nil
				if n == 0 {
					continue
				}
			}
			if err != nil {
				r.err = err
			}
			return n, err
		}
		res, ok := <-r.pending
		if !ok {
			switch {
			case r.ctx.Err() != nil:
				r.err = r.ctx.Err()
			case r.n != r.size:
				r.err = io.ErrUnexpectedEOF
			default:
				r.err = io.EOF
			}
			break
		}
		select {
		case pt := <-res:
			r.cur, r.err = bytes.NewReader(pt.data), pt.err
		case <-r.ctx.Done():
			r.err = r.ctx.Err()
		}
	}
	return 0, r.err
}

func (r *partsReader) Close() error {
	r.cancel()
	r.err = errors.New("read after close")
	return r.first.Close()
}

// singlePut is the largest object sent from a seekable reader in one PUT.
const singlePut = 64 << 20

func isSeeker(r io.Reader) bool {
	_, ok := r.(io.Seeker)
	return ok
}

// exactly is r, failing if it has fewer than size bytes; a seekable r is
// left as it is (minio-go retries a request by seeking back, and the HTTP
// client fails a body shorter than its Content-Length).
func exactly(r io.Reader, size int64) io.Reader {
	if isSeeker(r) {
		return r
	}
	return &exact{r: r, left: size}
}

// exact reads r, failing rather than ending early when r has fewer than
// the promised bytes.
type exact struct {
	r    io.Reader
	left int64
}

func (e *exact) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Stat describes the object.
func (s *Store) Stat(ctx context.Context, key string) (store.Info, error) {
	if err := store.ValidateKey(key); err != nil {
		return store.Info{}, err
	}
	oi, err := s.c.StatObject(ctx, s.cfg.Bucket, s.name(key), minio.StatObjectOptions{})
	if err != nil {
		return store.Info{}, s.classify("stat", key, err)
	}
	return store.Info{Key: key, Size: oi.Size, Modified: oi.LastModified}, nil
}

// List lists keys under the prefix in the server's (byte) order.
func (s *Store) List(ctx context.Context, prefix string, fn func(store.Info) error) error {
	if err := store.ValidatePrefix(prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the lister goroutine when fn ends early
	for oi := range s.c.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.name(prefix), Recursive: true}) {
		if isDenied(oi.Err) {
			return s.denied("list", prefix)
		}
		if oi.Err != nil {
			return fmt.Errorf("listing %s at %s: %w", prefix, s, oi.Err)
		}
		key := strings.TrimPrefix(oi.Key, s.prefix)
		if store.ValidateKey(key) != nil {
			continue // not ours: written by another tool
		}
		if err := fn(store.Info{Key: key, Size: oi.Size, Modified: oi.LastModified}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Delete removes the object; S3 treats a missing key as deleted.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.cfg.Bucket, s.name(key), minio.RemoveObjectOptions{}); err != nil {
		err = s.classify("deleting", key, err)
		if store.IsNotFound(err) {
			return nil
		}
		return err
	}
	return nil
}
