package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cli"
)

func TestSynthThenValidate(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runSynth(context.Background(), &synthOptions{store: cli.StoreFlags{Location: dir}, mpans: 2000, seed: 4}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2000 MPANs, seed 4", "segments:", "GSP groups:", "files:", "registration", "written to:"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("summary lacks %q:\n%s", want, out.String())
		}
	}
	var files []string
	filepath.Walk(filepath.Join(dir, "inbox"), func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".dat") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 20 {
		t.Fatalf("%d files", len(files))
	}
	var rep bytes.Buffer
	if err := runValidate(context.Background(), &validateOptions{maxFindings: 10}, files, &rep); err != nil {
		t.Fatalf("generated files do not validate: %v\n%s", err, rep.String())
	}
	// With faults, validation finds errors (exit 1).
	dir2 := t.TempDir()
	if err := runSynth(context.Background(), &synthOptions{store: cli.StoreFlags{Location: dir2}, mpans: 2000, seed: 4, faults: 0.05}, &out); err != nil {
		t.Fatal(err)
	}
	files = files[:0]
	filepath.Walk(filepath.Join(dir2, "inbox"), func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".dat") {
			files = append(files, p)
		}
		return nil
	})
	if err := runValidate(context.Background(), &validateOptions{maxFindings: 10}, files, &rep); cli.Code(err) != cli.ExitData {
		t.Fatalf("faulty market validated: %v", err)
	}
}
