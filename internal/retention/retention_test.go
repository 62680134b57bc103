package retention

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

func put(t *testing.T, st store.Store, key, body string) {
	t.Helper()
	if err := st.Put(context.Background(), key, strings.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
}

// publish writes version v of mpid's cut (cut id <mpid>-v<v>, extracted
// asAt) with one table, and returns its manifest.
func publish(t *testing.T, st store.Store, cutType, mpid string, v int, asAt string) *cut.Manifest {
	t.Helper()
	id := fmt.Sprintf("%s-v%d", strings.ToLower(mpid), v)
	prefix := cut.Prefix(cutType, mpid, id)
	put(t, st, cut.TableKey(prefix, "t"), "x")
	m := &cut.Manifest{Cut: cutType, MPID: mpid, CutID: id, Version: v, AsAt: asAt}
	if err := cut.WriteManifest(context.Background(), st, prefix, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func prefix(cutType, mpid string, v int) string {
	return cut.Prefix(cutType, mpid, fmt.Sprintf("%s-v%d", strings.ToLower(mpid), v))
}

// The fixture's versions, and what keeps each (with --keep 1):
//
//	ees/BRGT v5       the highest version number
//	ees/BRGT v2       latest.json names it (the latest as-at date)
//	ees/BRGT v3       plan "frozen" pins it
//	ees/BRGT v1       plan sit's latest run read it
//	ees/BRGT v4       nothing: it goes
//	ees/BRGT v6       no manifest: not published, left alone
//	registration/LOND v1 goes; v2 is newest and latest
//	mop-mtd/MTRA      no latest.json yet: v2 is newest, v1 will be the
//	                  latest (its as-at is later), so both stay
//
// and submissions' quarantine and reports of several ages.
func fixture(t *testing.T) (store.Store, string, time.Time, []*plan.Plan) {
	t.Helper()
	dir := t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var brgt []*cut.Manifest
	for v, asAt := range []string{"2026-11-01", "2026-11-28", "2026-11-10", "2026-11-15", "2026-11-20"} {
		brgt = append(brgt, publish(t, st, "ees", "BRGT", v+1, asAt))
	}
	if err := cut.WriteLatest(ctx, st, "ees", "BRGT", cut.LatestRef(cut.LatestOf(brgt))); err != nil {
		t.Fatal(err)
	}
	put(t, st, cut.TableKey(prefix("ees", "BRGT", 6), "t"), "x") // being written
	publish(t, st, "registration", "LOND", 1, "2026-11-01")
	if err := cut.WriteLatest(ctx, st, "registration", "LOND", cut.LatestRef(publish(t, st, "registration", "LOND", 2, "2026-11-02"))); err != nil {
		t.Fatal(err)
	}
	publish(t, st, "mop-mtd", "MTRA", 1, "2026-11-20")
	publish(t, st, "mop-mtd", "MTRA", 2, "2026-11-01")

	put(t, st, cut.RunPrefix("sit", "r1")+cut.ReportJSON, `{"sources":[{"cut":"ees","mpid":"BRGT","cutId":"brgt-v1","version":1}]}`)
	if err := cut.WriteLedger(ctx, st, "sit", "r1"); err != nil {
		t.Fatal(err)
	}
	plans := []*plan.Plan{{Name: "frozen", Sources: plan.Sources{Pins: map[string]map[string]int{"ees": {"BRGT": 3}, "registration": {"GUCL": 1}}}}}

	old, recent := 100*24*time.Hour, time.Hour
	q := func(sub, file string) string { k, _ := cut.QuarantineKeys("ees", "BRGT", sub, file); return k }
	r := func(sub, file string) string { _, k := cut.QuarantineKeys("ees", "BRGT", sub, file); return k }
	for key, age := range map[string]time.Duration{
		q("s-old", "EES_1.csv"): old, cut.RejectedKey("ees", "BRGT", "s-old", "EES_2.csv"): old,
		r("s-old", "EES_1.csv"): old, cut.ReceiptKey("ees", "BRGT", "s-old"): old,
		cut.ReceiptKey("ees", "BRGT", "s-done"): old, // published, nothing quarantined
		q("s-mixed", "EES_1.csv"):               old, cut.ReceiptKey("ees", "BRGT", "s-mixed"): recent,
		q("s-inbox", "EES_1.csv"): old, cut.ReceiptKey("ees", "BRGT", "s-inbox"): old,
		q("s-recent", "EES_1.csv"):                               recent,
		"quarantine/ees/mpid=BRGT/0123456789abcdef/EES_0009.csv": old, // an earlier release's layout
		"quarantine/ees/mpid=BRGT/fedcba9876543210/EES_0010.csv": recent,
		cut.SubmissionKey("BRGT", "ees", "s-inbox"):              recent, // kept raw, or a crash before its removal
	} {
		put(t, st, key, "x")
		mod := now.Add(-age)
		if err := os.Chtimes(filepath.Join(dir, key), mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	return st, dir, now, plans
}

// deletes records the order of deletions.
type deletes struct {
	store.Store
	keys []string
}

func (d *deletes) Delete(ctx context.Context, key string) error {
	d.keys = append(d.keys, key)
	return d.Store.Delete(ctx, key)
}

var wantRemoved = []string{
	prefix("ees", "BRGT", 4),
	prefix("registration", "LOND", 1),
	"reports/ees/mpid=BRGT/s-done/", // its quarantine folder is not listed: it has none
	"quarantine/ees/mpid=BRGT/s-old/",
	"reports/ees/mpid=BRGT/s-old/",
	"quarantine/ees/mpid=BRGT/0123456789abcdef/EES_0009.csv",
}

func keysOf(rs []Removal) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Key)
	}
	return out
}

func TestPruneKeepsLatestPinnedAndWhatAllocationsRead(t *testing.T) {
	base, _, now, plans := fixture(t)
	st := &deletes{Store: base}
	ctx := context.Background()
	res, err := Prune(ctx, Options{Store: st, Keep: 1, Plans: plans, QuarantineAge: 30 * 24 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(res.Removed); !slices.Equal(got, wantRemoved) {
		t.Fatalf("removed\n%q\nwant\n%q", got, wantRemoved)
	}
	// The prune is in the audit trail, every removal named.
	recs, err := audit.List(ctx, st, audit.Filter{})
	if err != nil || len(recs) != 1 || recs[0].Action != audit.ActionPrune || len(recs[0].Objects) != len(wantRemoved) || recs[0].Objects[0].Op != audit.OpDelete {
		t.Fatalf("audit records %+v %v, want one prune naming %d removals", recs, err, len(wantRemoved))
	}
	var kept []string
	for _, k := range res.Kept {
		kept = append(kept, k.Key+": "+strings.Join(k.Reasons, "; "))
	}
	wantKept := []string{
		prefix("ees", "BRGT", 3) + ": pinned by plan frozen",
		prefix("ees", "BRGT", 2) + ": the latest version (latest.json names it)",
		prefix("ees", "BRGT", 1) + ": a plan's latest allocation run read it",
		prefix("mop-mtd", "MTRA", 1) + ": the latest version by as-at date (no latest.json names one yet)",
		"quarantine/ees/mpid=BRGT/s-inbox/: its newest quarantined file or report is more than 720h0m0s old, but the submission is still in the inbox (inbox/BRGT/ees/s-inbox/): its receipt tells a run it was taken",
		"reports/ees/mpid=BRGT/s-inbox/: its newest quarantined file or report is more than 720h0m0s old, but the submission is still in the inbox (inbox/BRGT/ees/s-inbox/): its receipt tells a run it was taken",
	}
	if !slices.Equal(kept, wantKept) {
		t.Errorf("kept\n%q\nwant\n%q", kept, wantKept)
	}
	for _, v := range []int{1, 2, 3, 5} {
		if _, err := cut.ReadManifest(ctx, st, prefix("ees", "BRGT", v)); err != nil {
			t.Errorf("ees BRGT version %d was removed: %v", v, err)
		}
	}
	for _, v := range []int{1, 2} {
		if _, err := cut.ReadManifest(ctx, st, prefix("mop-mtd", "MTRA", v)); err != nil {
			t.Errorf("mop-mtd MTRA version %d was removed: %v", v, err)
		}
	}
	// A version goes manifest first; a submission's receipt last.
	v4 := prefix("ees", "BRGT", 4)
	if i := slices.Index(st.keys, cut.ManifestKey(v4)); i < 0 || i+1 >= len(st.keys) || st.keys[i+1] != cut.TableKey(v4, "t") {
		t.Errorf("deleted %q: want version 4's manifest, then its table", st.keys)
	}
	var sOld []string
	for _, k := range st.keys {
		if strings.Contains(k, "/s-old/") {
			sOld = append(sOld, k)
		}
	}
	if len(sOld) != 4 || !strings.HasPrefix(sOld[0], "quarantine/") || !strings.HasPrefix(sOld[1], "quarantine/") || sOld[3] != cut.ReceiptKey("ees", "BRGT", "s-old") {
		t.Errorf("deleted %q: want s-old's quarantine, then its report, its receipt last", sOld)
	}
	var left []string
	st.List(ctx, "", func(i store.Info) error {
		for _, gone := range []string{"-v4/", "lond-v1/", "/s-old/", "/s-done/", "EES_0009"} {
			if strings.Contains(i.Key, gone) {
				left = append(left, i.Key)
			}
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("left of what was pruned: %q", left)
	}
	for _, k := range []string{cut.TableKey(prefix("ees", "BRGT", 6), "t"), cut.ReceiptKey("ees", "BRGT", "s-mixed"), "quarantine/ees/mpid=BRGT/s-mixed/files/EES_1.csv",
		"quarantine/ees/mpid=BRGT/s-recent/files/EES_1.csv", "quarantine/ees/mpid=BRGT/fedcba9876543210/EES_0010.csv", cut.ReceiptKey("ees", "BRGT", "s-inbox"),
		cut.LatestKey("ees", "BRGT")} {
		if _, err := st.Stat(ctx, k); err != nil {
			t.Errorf("%s was removed: %v", k, err)
		}
	}
}

// With --keep 2 only the versions beyond the two highest are considered.
func TestPruneKeepsTheNewest(t *testing.T) {
	st, _, now, plans := fixture(t)
	res, err := Prune(context.Background(), Options{Store: st, Keep: 2, Plans: plans, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(res.Removed); len(got) != 0 || len(res.Kept) != 3 {
		t.Errorf("removed %q, kept %+v: with --keep 2 versions 5 and 4 stay, 3, 2, 1 are kept for a reason", got, res.Kept)
	}
	if _, err := Prune(context.Background(), Options{Store: st, Keep: 0}); err == nil {
		t.Error("keep 0 was accepted")
	}
}

func TestDryRunRemovesNothing(t *testing.T) {
	st, _, now, plans := fixture(t)
	ctx := context.Background()
	count := func() int {
		n := 0
		st.List(ctx, "", func(store.Info) error { n++; return nil })
		return n
	}
	before := count()
	res, err := Prune(ctx, Options{Store: st, Keep: 1, Plans: plans, QuarantineAge: 30 * 24 * time.Hour, Now: now, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(res.Removed); !slices.Equal(got, wantRemoved) || count() != before { // no audit record either: nothing changed
		t.Fatalf("dry run listed %q (want %q) and left %d of %d objects", got, wantRemoved, count(), before)
	}
}
