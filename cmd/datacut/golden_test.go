package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/NAME, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (go test -update rewrites it after review):\n%s", path, got)
	}
}

// TestValidateGolden pins validate's reports on the committed fixtures:
// synthetic D-flows (no personal data) with known faults.
func TestValidateGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "dflow", "*.dat"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, mode := range []struct {
		name string
		json bool
	}{{"validate.txt", false}, {"validate.jsonl", true}} {
		var out bytes.Buffer
		runValidate(context.Background(), &validateOptions{json: mode.json, maxFindings: 100}, files, &out)
		golden(t, mode.name, out.Bytes())
	}
}
