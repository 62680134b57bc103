package allocation

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// twoMarkets publishes a market and copies it: two stores alike, to run
// two builds or options on.
func twoMarkets(t *testing.T) (st *local.Store, dir string, st2 *local.Store, dir2 string) {
	t.Helper()
	st, dir = publishedMarket(t)
	dir2 = t.TempDir()
	if err := os.CopyFS(dir2, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	st2, err := local.Open(dir2)
	if err != nil {
		t.Fatal(err)
	}
	return st, dir, st2, dir2
}

// A universe built in ranges of a few hundred rows and spilled to a file
// (as a market of millions is) gives the same allocation and the same load
// packs, byte for byte, as the universe held in memory.
func TestSpilledUniverseAllocatesTheSame(t *testing.T) {
	st, dir, st2, copyDir := twoMarkets(t)
	ctx := context.Background()
	p := builtInPlan(t, "sit")
	mem, err := Run(ctx, Options{Store: st, Plan: p, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	restore := universe.SetLimits(300, 500)
	spilled, err := Run(ctx, Options{Store: st2, Plan: builtInPlan(t, "sit"), Log: zerolog.Nop()})
	restore()
	if err != nil {
		t.Fatal(err)
	}
	if mem.Prefix != spilled.Prefix {
		t.Fatalf("run %s, spilled %s: want the same run", mem.Prefix, spilled.Prefix)
	}
	a, b := filepath.Join(dir, filepath.FromSlash(mem.Prefix)), filepath.Join(copyDir, filepath.FromSlash(spilled.Prefix))
	files := 0
	err = filepath.WalkDir(a, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, path)
		switch filepath.Base(rel) {
		case cut.ReportJSON, cut.ReportMarkdown, cut.ReportHTML:
			return nil // their timings differ
		}
		x, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs", rel)
		}
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 || mem.Report.Universe != spilled.Report.Universe {
		t.Fatalf("%d files compared, universes %+v and %+v: want the packs and the same counts", files, mem.Report.Universe, spilled.Report.Universe)
	}
	if left, _ := filepath.Glob(filepath.Join(st2.TempDir(), "universe-*")); len(left) > 0 {
		t.Errorf("spill files left behind: %v", left)
	}
}
