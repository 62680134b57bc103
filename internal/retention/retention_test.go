package retention

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

func put(t *testing.T, st store.Store, key, body string) {
	t.Helper()
	if err := st.Put(context.Background(), key, strings.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
}

// Four BRGT EES cuts, a plan whose latest run read the oldest, markers for
// each, and quarantine of two ages.
func fixture(t *testing.T) (store.Store, string, time.Time) {
	t.Helper()
	dir := t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"a1", "b2", "c3", "d4"} {
		prefix := cut.Prefix("ees", "BRGT", id)
		put(t, st, cut.TableKey(prefix, "ees_portfolio"), "x")
		m := &cut.Manifest{Cut: "ees", MPID: "BRGT", CutID: id, Timings: cut.Timings{Finished: now.Add(time.Duration(i-4) * 24 * time.Hour)}}
		if err := cut.WriteManifest(ctx, st, prefix, m); err != nil {
			t.Fatal(err)
		}
		put(t, st, cut.MarkerKey("ees", "BRGT", "listing"+id), `{"Prefix":"`+prefix+`","CutID":"`+id+`"}`)
	}
	put(t, st, cut.RunPrefix("sit", "r1")+cut.ReportJSON, `{"sources":[{"cut":"ees","mpid":"BRGT","cutId":"a1"}]}`)
	if err := cut.WriteLedger(ctx, st, "sit", "r1"); err != nil {
		t.Fatal(err)
	}
	for key, age := range map[string]time.Duration{
		"quarantine/ees/mpid=BRGT/0123456789abcdef/EES_0001.csv":          100 * 24 * time.Hour,
		"reports/ees/mpid=BRGT/0123456789abcdef/EES_0001.csv.report.json": 100 * 24 * time.Hour,
		"quarantine/ees/mpid=BRGT/fedcba9876543210/EES_0002.csv":          time.Hour,
	} {
		put(t, st, key, "x")
		mod := now.Add(-age)
		os.Chtimes(filepath.Join(dir, key), mod, mod)
	}
	return st, dir, now
}

func TestPruneKeepsTheNewestAndWhatAllocationsRead(t *testing.T) {
	st, _, now := fixture(t)
	ctx := context.Background()
	res, err := Prune(ctx, Options{Store: st, Keep: 2, QuarantineAge: 30 * 24 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, r := range res.Removed {
		removed = append(removed, r.Key)
	}
	want := []string{cut.Prefix("ees", "BRGT", "b2"), "quarantine/ees/mpid=BRGT/0123456789abcdef/EES_0001.csv",
		"reports/ees/mpid=BRGT/0123456789abcdef/EES_0001.csv.report.json"}
	if !slices.Equal(removed, want) {
		t.Fatalf("removed %q\nwant %q", removed, want)
	}
	if !slices.Equal(res.Pinned, []string{cut.Prefix("ees", "BRGT", "a1")}) {
		t.Errorf("pinned %q, want the cut the sit plan's latest run read", res.Pinned)
	}
	for _, id := range []string{"a1", "c3", "d4"} {
		if _, err := cut.ReadManifest(ctx, st, cut.Prefix("ees", "BRGT", id)); err != nil {
			t.Errorf("cut %s was removed: %v", id, err)
		}
	}
	var left []string
	st.List(ctx, "", func(i store.Info) error {
		if strings.Contains(i.Key, "b2") {
			left = append(left, i.Key)
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("left of the pruned cut: %q (its tables and marker go with it)", left)
	}
	if _, err := st.Stat(ctx, "quarantine/ees/mpid=BRGT/fedcba9876543210/EES_0002.csv"); err != nil {
		t.Errorf("recent quarantine was removed: %v", err)
	}
}

func TestDryRunRemovesNothing(t *testing.T) {
	st, _, now := fixture(t)
	ctx := context.Background()
	count := func() int {
		n := 0
		st.List(ctx, "", func(store.Info) error { n++; return nil })
		return n
	}
	before := count()
	res, err := Prune(ctx, Options{Store: st, Keep: 1, QuarantineAge: 30 * time.Minute, Now: now, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 5 || count() != before {
		t.Fatalf("dry run listed %d (want 2 cuts and 3 quarantined objects) and left %d of %d objects", len(res.Removed), count(), before)
	}
}
