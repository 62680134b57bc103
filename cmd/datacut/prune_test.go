package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store/local"
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
	if err := runPrune(context.Background(), o, &out, time.Now()); err != nil || !strings.Contains(out.String(), "removed 0, kept 0 for a reason") ||
		!strings.Contains(out.String(), "(pins of 2 plans)") {
		t.Fatalf("an empty store: %v\n%s", err, out.String())
	}
}

// A --plan FILE's pins are kept; a plan that does not lint stops the prune.
func TestPruneKeepsPinsOfPlanFiles(t *testing.T) {
	dir := t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for v := 1; v <= 3; v++ {
		m := &cut.Manifest{Cut: "ees", MPID: "BRGT", CutID: fmt.Sprintf("v%d", v), Version: v, AsAt: fmt.Sprintf("2026-11-0%d", v)}
		if err := cut.WriteManifest(ctx, st, cut.Prefix("ees", "BRGT", m.CutID), m); err != nil {
			t.Fatal(err)
		}
		if err := cut.WriteLatest(ctx, st, "ees", "BRGT", cut.LatestRef(m)); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "pipelines", "plans", "sit.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pinned := filepath.Join(t.TempDir(), "pinned.yaml")
	const cuts = "cuts: [registration, ees, mop-mtd, supplier-customer]\n"
	if err := os.WriteFile(pinned, bytes.Replace(raw, []byte(cuts), []byte(cuts+"  pins: {ees: {BRGT: 1}}\n"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &pruneOptions{keep: 1, dryRun: true, plans: []string{pinned}}
	o.store.Location = dir
	var out bytes.Buffer
	if err := runPrune(ctx, o, &out, time.Now()); err != nil {
		t.Fatal(err)
	}
	want := "would remove cuts/ees/mpid=BRGT/cut=v2/ (version 2,"
	if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "kept cuts/ees/mpid=BRGT/cut=v1/: pinned by plan sit\n") ||
		strings.Contains(out.String(), "remove cuts/ees/mpid=BRGT/cut=v1/") || !strings.Contains(out.String(), "would remove 1, kept 1 for a reason") {
		t.Errorf("prune with a plan pinning version 1:\n%s", out.String())
	}
	if err := os.WriteFile(pinned, bytes.Replace(raw, []byte(cuts), []byte(cuts+"  pins: {ees: {BRGT: 0}}\n"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	var ee *cli.ExitError
	if err := runPrune(ctx, o, &out, time.Now()); !errors.As(err, &ee) || ee.Code != cli.ExitUsage || !strings.Contains(err.Error(), "versions are numbered from 1") {
		t.Errorf("a plan that does not lint: %v", err)
	}
}
