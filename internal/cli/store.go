package cli

import (
	"context"
	"errors"
	"os"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/location"
)

// StoreFlags are the flags of every command that opens a store: --store
// (a location, see internal/store/location) and the S3 connection
// settings, which default to the environment (flags win):
//
//	DATACUT_S3_ENDPOINT     host:port of the service (required for s3://)
//	DATACUT_S3_REGION       region (optional)
//	DATACUT_S3_INSECURE     "true" to use plain HTTP instead of TLS
//	DATACUT_S3_ACCESS_KEY   access key (falls back to AWS_ACCESS_KEY_ID)
//	DATACUT_S3_SECRET_KEY   secret key (falls back to AWS_SECRET_ACCESS_KEY)
//
// Secrets have no flag: command lines show up in process lists.
type StoreFlags struct {
	Location string
	S3       location.Options
}

// Register adds --store, --s3-endpoint, --s3-region and --s3-insecure to
// fs, reading the environment for their defaults.
func (f *StoreFlags) Register(fs *pflag.FlagSet) {
	f.S3 = S3FromEnv()
	fs.StringVar(&f.Location, "store", location.Default, "where data lives: a directory, file://DIR or s3://BUCKET/PREFIX")
	fs.StringVar(&f.S3.Endpoint, "s3-endpoint", f.S3.Endpoint, "S3/MinIO endpoint host:port (env DATACUT_S3_ENDPOINT)")
	fs.StringVar(&f.S3.Region, "s3-region", f.S3.Region, "S3 region (env DATACUT_S3_REGION)")
	fs.BoolVar(&f.S3.Insecure, "s3-insecure", f.S3.Insecure, "use plain HTTP, not TLS (env DATACUT_S3_INSECURE)")
}

// Open opens the store the flags name, making a local one if needed (for
// commands that write); configuration mistakes exit 2.
func (f *StoreFlags) Open(ctx context.Context) (store.Store, error) {
	return OpenStore(ctx, f.Location, f.S3)
}

// OpenExisting opens the store the flags name for a command that only
// reads: it creates nothing, and a store that is not there exits 2.
func (f *StoreFlags) OpenExisting(ctx context.Context) (store.Store, error) {
	st, err := location.OpenExisting(ctx, f.Location, f.S3)
	if errors.Is(err, store.ErrNoStore) {
		return nil, Usage("%v: check --store (default %s); a store is made by the first datacut submit, run, synth or demo", err, location.Default)
	}
	return st, usageIfConfig(err)
}

// S3FromEnv reads the S3 connection settings from the environment.
func S3FromEnv() location.Options {
	o := location.Options{
		Endpoint:  os.Getenv("DATACUT_S3_ENDPOINT"),
		Region:    os.Getenv("DATACUT_S3_REGION"),
		AccessKey: firstSet("DATACUT_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
		SecretKey: firstSet("DATACUT_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"),
	}
	o.Insecure, _ = strconv.ParseBool(os.Getenv("DATACUT_S3_INSECURE"))
	return o
}

func firstSet(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// OpenStore opens a location with the given S3 settings; configuration
// mistakes (location.ErrConfig) exit 2.
func OpenStore(ctx context.Context, loc string, o location.Options) (store.Store, error) {
	st, err := location.Open(ctx, loc, o)
	return st, usageIfConfig(err)
}

// usageIfConfig makes a configuration mistake (location.ErrConfig) exit 2.
func usageIfConfig(err error) error {
	if errors.Is(err, location.ErrConfig) {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return err
}
