package main

import (
	"context"
	"errors"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/location"
)

// openStore opens a location; configuration mistakes exit 2.
func openStore(ctx context.Context, loc string, o location.Options) (store.Store, error) {
	st, err := location.Open(ctx, loc, o)
	if errors.Is(err, location.ErrConfig) {
		return nil, &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	return st, err
}

// locationNone is no S3 settings: for commands on local directories.
func locationNone() location.Options { return location.Options{} }
