package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/cli"
)

func TestPruneRefusesToKeepNothing(t *testing.T) {
	o := &pruneOptions{keep: 0}
	o.store.Location = t.TempDir()
	err := runPrune(context.Background(), o, &bytes.Buffer{}, time.Now())
	var ee *cli.ExitError
	if !errors.As(err, &ee) || ee.Code != cli.ExitUsage || !strings.Contains(err.Error(), "at least 1") {
		t.Fatalf("got %v, want a usage error", err)
	}
	o.keep = 3
	var out bytes.Buffer
	if err := runPrune(context.Background(), o, &out, time.Now()); err != nil || !strings.Contains(out.String(), "removed 0, kept 0") {
		t.Fatalf("an empty store: %v\n%s", err, out.String())
	}
}
