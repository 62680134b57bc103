// Package location turns the one location syntax every command takes into
// a store:
//
//	./data, /srv/cuts, data          a local directory (default ./data)
//	file:///srv/cuts, file://data    the same, as a URL
//	s3://bucket/prefix               an S3 bucket (MinIO), optionally under a prefix
//
// S3 connection settings are a plain Options value; the commands fill it
// from their flags and the environment (internal/cli's StoreFlags).
// Credentials are never printed or logged: String on a store omits them.
package location

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/store/s3"
)

// ErrConfig is wrapped by errors in the location or its settings (as
// opposed to a store that cannot be reached): commands exit 2 for them.
var ErrConfig = errors.New("store configuration")

func configErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
}

// Default is where data lives when no location is given.
const Default = "./data"

// Options are the S3 connection settings.
type Options struct {
	Endpoint  string
	Region    string
	Insecure  bool
	AccessKey string
	SecretKey string
}

// Parsed is a location taken apart.
type Parsed struct {
	Dir    string // local directory, when Bucket is ""
	Bucket string
	Prefix string
}

// Parse reads a location string.
func Parse(loc string) (Parsed, error) {
	switch {
	case loc == "":
		return Parsed{Dir: Default}, nil
	case strings.HasPrefix(loc, "s3://"):
		rest := strings.TrimPrefix(loc, "s3://")
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return Parsed{}, configErr("location %q: s3:// needs a bucket, like s3://cuts/sit", loc)
		}
		prefix = strings.Trim(prefix, "/")
		if prefix != "" {
			if err := store.ValidateKey(prefix); err != nil {
				return Parsed{}, configErr("location %q: bad prefix: %v", loc, err)
			}
		}
		return Parsed{Bucket: bucket, Prefix: prefix}, nil
	case strings.HasPrefix(loc, "file://"):
		dir := strings.TrimPrefix(loc, "file://")
		if dir == "" {
			return Parsed{}, configErr("location %q: file:// needs a directory", loc)
		}
		return Parsed{Dir: dir}, nil
	case strings.Contains(loc, "://"):
		return Parsed{}, configErr("location %q: unknown scheme (use a directory, file://DIR or s3://BUCKET/PREFIX)", loc)
	}
	return Parsed{Dir: loc}, nil
}

// Open opens the store a location names, making a local one if needed.
func Open(ctx context.Context, loc string, o Options) (store.Store, error) {
	return open(ctx, loc, o, false)
}

// OpenExisting opens the store a location names and creates nothing: a
// local directory that does not exist is an error wrapping
// store.ErrNoStore. For commands that only read.
func OpenExisting(ctx context.Context, loc string, o Options) (store.Store, error) {
	return open(ctx, loc, o, true)
}

func open(ctx context.Context, loc string, o Options, mustExist bool) (store.Store, error) {
	p, err := Parse(loc)
	if err != nil {
		return nil, err
	}
	if p.Bucket == "" && mustExist {
		return local.OpenExisting(p.Dir)
	}
	if p.Bucket == "" {
		return local.Open(p.Dir)
	}
	if o.Endpoint == "" {
		return nil, configErr("location %s: set the S3 endpoint with --s3-endpoint or DATACUT_S3_ENDPOINT", loc)
	}
	if o.AccessKey == "" || o.SecretKey == "" {
		return nil, configErr("location %s: set credentials in DATACUT_S3_ACCESS_KEY and DATACUT_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", loc)
	}
	return s3.Open(ctx, s3.Config{Endpoint: o.Endpoint, Region: o.Region, Secure: !o.Insecure,
		AccessKey: o.AccessKey, SecretKey: o.SecretKey, Bucket: p.Bucket, Prefix: p.Prefix})
}
