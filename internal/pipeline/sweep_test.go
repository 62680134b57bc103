package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

// What a crashed run leaves behind goes once it is older than the grace
// period: a cut folder without a manifest and spool files. A fresh one (a
// run in progress elsewhere) and every published cut stay.
func TestLeftoversOfCrashedRunsAreRemoved(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * DefaultLeftoverGrace)
	put := func(key string, mod time.Time) {
		if err := st.Put(ctx, key, strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(dir, key), mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	put("cuts/ees/mpid=BRGT/cut=dead/ees_portfolio.parquet", old)
	put("cuts/ees/mpid=BRGT/cut=dead/other.parquet", old)
	put("cuts/ees/mpid=BRGT/cut=busy/ees_portfolio.parquet", time.Now())
	put("cuts/ees/mpid=BRGT/cut=done/ees_portfolio.parquet", old)
	put("cuts/ees/mpid=BRGT/cut=done/manifest.json", old)
	put("cuts/ees/mpid=BRGT/latest.json", old)
	spool := filepath.Join(store.TempDir(st), "table-123.parquet")
	if err := os.WriteFile(spool, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(spool, old, old)
	freshSpool := filepath.Join(store.TempDir(st), "table-456.parquet")
	if err := os.WriteFile(freshSpool, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	sum, err := Run(ctx, runOpts(t, st))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cuts/ees/mpid=BRGT/cut=dead/ees_portfolio.parquet", "cuts/ees/mpid=BRGT/cut=dead/other.parquet", spool}
	if !slices.Equal(sum.Leftovers, want) {
		t.Fatalf("removed %q, want %q", sum.Leftovers, want)
	}
	for _, k := range []string{"cuts/ees/mpid=BRGT/cut=busy/ees_portfolio.parquet", "cuts/ees/mpid=BRGT/cut=done/ees_portfolio.parquet",
		"cuts/ees/mpid=BRGT/cut=done/manifest.json", "cuts/ees/mpid=BRGT/latest.json"} {
		if _, err := st.Stat(ctx, k); err != nil {
			t.Errorf("%s was removed: %v", k, err)
		}
	}
	if _, err := os.Stat(freshSpool); err != nil {
		t.Errorf("a fresh spool file was removed: %v", err)
	}
}
