package status

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/reconcile"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/pipelines"
)

func builtInRegister(t *testing.T) *programme.Register {
	t.Helper()
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := programme.Load(pipelines.FS, programme.File, types)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// publish writes version v of mpid's cut, extracted asAt and published at.
func publish(t *testing.T, st store.Store, cutType, mpid string, v int, asAt string, at time.Time) *cut.Manifest {
	t.Helper()
	id := fmt.Sprintf("%s-v%d", strings.ToLower(mpid), v)
	m := &cut.Manifest{Cut: cutType, MPID: mpid, CutID: id, Version: v, AsAt: asAt, Timings: cut.Timings{Finished: at},
		Inputs: []cut.Input{{Key: cut.SubmissionDir(mpid, cutType, id) + "f.csv"}},
		Tables: []cut.Table{{Name: "t", Rows: 7 * int64(v)}}, Rejected: cut.Rejections{Count: v}}
	if err := cut.WriteManifest(context.Background(), st, cut.Prefix(cutType, mpid, id), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func latest(t *testing.T, st store.Store, m *cut.Manifest) {
	t.Helper()
	if err := cut.WriteLatest(context.Background(), st, m.Cut, m.MPID, cut.LatestRef(m)); err != nil {
		t.Fatal(err)
	}
}

// upload puts a file at key, modified at.
func upload(t *testing.T, st store.Store, dir, key, body string, at time.Time) {
	t.Helper()
	if err := st.Put(context.Background(), key, strings.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(dir, key), at, at); err != nil {
		t.Fatal(err)
	}
}

// submit uploads a complete submission of one file, submission.json last.
func submit(t *testing.T, st store.Store, dir, mpid, cutType, id string, at time.Time) {
	t.Helper()
	body := "data of " + id
	upload(t, st, dir, cut.SubmissionDir(mpid, cutType, id)+"f.csv", body, at)
	sum := sha256.Sum256([]byte(body))
	s := &cut.Submission{Schema: cut.SubmissionSchema, MPID: mpid, Cut: cutType, AsAt: "2026-11-30", Kind: cut.KindFull,
		Files: []cut.SubmittedFile{{Name: "f.csv", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}}}
	if err := cut.WriteSubmission(context.Background(), st, id, s); err != nil {
		t.Fatal(err)
	}
	key := cut.SubmissionKey(mpid, cutType, id)
	if err := os.Chtimes(filepath.Join(dir, key), at, at); err != nil {
		t.Fatal(err)
	}
}

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// fixture: BRGT's EES cut in three versions (latest.json names v2, the
// latest as-at) with a submission ready, one taken and loose files; CRWN's
// EES cut published an hour ago from data extracted 11 days ago; MTRA's EES
// cut nobody asked for; MTRA's MTD still uploading, one file quarantined.
func fixture(t *testing.T) store.Store {
	t.Helper()
	dir := t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, st, "ees", "BRGT", 1, "2026-11-20", now.Add(-300*time.Hour))
	latest(t, st, publish(t, st, "ees", "BRGT", 2, "2026-11-30", now.Add(-20*time.Hour)))
	publish(t, st, "ees", "BRGT", 3, "2026-11-25", now.Add(-time.Hour)) // an older extract, published last
	latest(t, st, publish(t, st, "ees", "CRWN", 1, "2026-11-20", now.Add(-time.Hour)))
	latest(t, st, publish(t, st, "ees", "MTRA", 1, "2026-11-30T06:00:00Z", now))
	submit(t, st, dir, "BRGT", "ees", "s-ready", now.Add(-3*time.Hour))
	submit(t, st, dir, "BRGT", "ees", "s-taken", now.Add(-30*time.Hour))
	upload(t, st, dir, cut.ReceiptKey("ees", "BRGT", "s-taken"), "{}", now.Add(-29*time.Hour))
	upload(t, st, dir, cut.InboxDir("BRGT", "ees")+"EES_0002.csv", "x", now.Add(-50*time.Hour))
	upload(t, st, dir, "inbox/mpid=X/ees/s/EES_0002.csv", "x", now) // not an inbox file
	upload(t, st, dir, cut.SubmissionDir("MTRA", "mop-mtd", "2026-12-01")+"D0150_0001.dat", "x", now.Add(-45*time.Minute))
	q, _ := cut.QuarantineKeys("mop-mtd", "MTRA", "2026-11-28", "D0150_0009.dat")
	upload(t, st, dir, q, "x", now)
	upload(t, st, dir, cut.RejectedKey("mop-mtd", "MTRA", "2026-11-28", "D0150_0010.dat"), "x", now) // rejected instances, not a broken file
	return st
}

func get(t *testing.T, rows []Row, mpid, c string) Row {
	t.Helper()
	for _, r := range rows {
		if r.MPID == mpid && r.Cut == c {
			return r
		}
	}
	t.Fatalf("no row for %s %s", mpid, c)
	return Row{}
}

// Every state a row can be in, from the register's expectations against
// what the store holds.
func TestStates(t *testing.T) {
	st := fixture(t)
	reg := builtInRegister(t)
	rows, err := Build(context.Background(), st, reg, now, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, rows, "BRGT", "ees")
	if r.State != Received || r.Latest == nil || r.Latest.Version != 2 || r.Latest.AsAt != "2026-11-30" || r.Versions != 3 || r.Latest.Rows != 14 || r.Latest.Rejected != 2 ||
		r.Organisation == "" || r.Refresh != "7d" || r.Quarantined != 0 {
		t.Errorf("BRGT ees: %+v %+v: want version 2, the one latest.json names, of 3", r, r.Latest)
	}
	var waiting []string
	for _, w := range r.Waiting {
		waiting = append(waiting, fmt.Sprintf("%s %s %d %s", w.Name(), w.Age(), w.Files, w.Why()))
	}
	want := []string{
		"(loose files) 2d 1 loose files, not in a submission folder: upload them to inbox/BRGT/ees/<submission id>/ with a submission.json (datacut submit does both)",
		"s-ready 3h 1 ready: the next run takes it",
	}
	if strings.Join(waiting, "\n") != strings.Join(want, "\n") {
		t.Errorf("BRGT ees waiting:\n%s\nwant (s-taken has a receipt):\n%s", strings.Join(waiting, "\n"), strings.Join(want, "\n"))
	}
	if r := get(t, rows, "CRWN", "ees"); r.State != Stale {
		t.Errorf("CRWN ees published an hour ago, extracted 11 days ago, with a 7-day refresh: %s, want stale", r.State)
	}
	if r := get(t, rows, "DLTA", "ees"); r.State != Overdue || r.Latest != nil || r.Versions != 0 {
		t.Errorf("DLTA ees never sent: %s", r.State)
	}
	r = get(t, rows, "MTRA", "mop-mtd")
	if r.State != Awaited || r.Quarantined != 1 || r.Due != "2027-01-29" || len(r.Waiting) != 1 || r.Waiting[0].Submission != "2026-12-01" ||
		r.Waiting[0].Age() != "45m" || r.Waiting[0].Reason != "no submission.json yet: it is uploaded last, after every file" {
		t.Errorf("MTRA mop-mtd not yet due, uploading, one file quarantined: %+v", r)
	}
	if r := get(t, rows, "MTRA", "ees"); r.State != Unexpected || r.Latest.AsAtDate() != "2026-11-30" {
		t.Errorf("a MOp's EES cut: %s", r.State)
	}
	later, err := Build(context.Background(), st, reg, time.Date(2027, 1, 30, 9, 0, 0, 0, time.UTC), Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if r := get(t, later, "MTRA", "mop-mtd"); r.State != Overdue {
		t.Errorf("after the due date: %s", r.State)
	}
	for _, r := range rows {
		if r.MPID == "mpid=X" {
			t.Errorf("a folder that is not an MPID has a row: %+v", r)
		}
	}
}

// A refreshed cut goes stale by its as-at date: a date counts to its end.
func TestStaleByAsAt(t *testing.T) {
	exp := &programme.Expectation{CutType: "ees", Refresh: 7 * 24 * time.Hour}
	for _, c := range []struct {
		asAt string
		want string
	}{
		{"2026-11-24", Received}, // extracted by the end of 24 November: 6 days 9 hours ago
		{"2026-11-23", Stale},
		{"2026-11-24T08:00:00Z", Stale},
		{"2026-11-24T10:00:00Z", Received},
	} {
		r := &Row{expected: exp, Latest: &Version{AsAt: c.asAt, Published: now}}
		if got := state(r, now); got != c.want {
			t.Errorf("as at %s: %s, want %s", c.asAt, got, c.want)
		}
	}
}

// Before latest.json is written the latest version by as-at stands in.
func TestWithoutLatestJSON(t *testing.T) {
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	publish(t, st, "ees", "BRGT", 1, "2026-11-30", now)
	publish(t, st, "ees", "BRGT", 2, "2026-11-01", now)
	rows, err := Build(context.Background(), st, nil, now, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Latest == nil || rows[0].Latest.Version != 1 || rows[0].Versions != 2 || rows[0].State != Unexpected {
		t.Errorf("rows %+v", rows)
	}
}

// fenced is a store that refuses what a participant's identity may not
// do: list or read outside its own MPIDs' folders.
type fenced struct {
	store.Store
	mpids []string
}

func (f fenced) own(key string) bool {
	if key == reconcile.LatestKey {
		return true // which reconciliation run is the latest
	}
	for _, m := range f.mpids {
		if strings.HasPrefix(key, cut.InboxRoot+m+"/") || strings.Contains(key, "/mpid="+m+"/") && !strings.HasPrefix(key, cut.InboxRoot) {
			return true
		}
		if strings.HasPrefix(key, reconcile.Root) && strings.HasSuffix(key, "/"+reconcile.WorklistDir+m+".csv") {
			return true // its own reconciliation worklists
		}
	}
	return false
}

func (f fenced) List(ctx context.Context, prefix string, fn func(store.Info) error) error {
	if !f.own(prefix) {
		return fmt.Errorf("access denied: list %s", prefix)
	}
	return f.Store.List(ctx, prefix, fn)
}

func (f fenced) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if !f.own(key) {
		return nil, fmt.Errorf("access denied: read %s", key)
	}
	return f.Store.Get(ctx, key)
}

func (f fenced) Stat(ctx context.Context, key string) (store.Info, error) {
	if !f.own(key) {
		return store.Info{}, fmt.Errorf("access denied: stat %s", key)
	}
	return f.Store.Stat(ctx, key)
}

// A participant's status, read with only its own folders, is its rows of
// the whole store's.
func TestScopeReadsOnlyItsOwn(t *testing.T) {
	st := fixture(t)
	reg := builtInRegister(t)
	types, _ := cut.LoadTypes(pipelines.FS)
	all, err := Build(context.Background(), st, reg, now, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	mpids := []string{"BRGT", "MTRA"}
	if _, err := Build(context.Background(), fenced{st, mpids}, reg, now, Scope{}); err == nil {
		t.Fatal("the fence lets the whole store be listed")
	}
	mine, err := Build(context.Background(), fenced{st, mpids}, reg, now, Scope{MPIDs: mpids, Cuts: types.Names()})
	if err != nil {
		t.Fatal(err)
	}
	var want []Row
	for _, r := range all {
		if r.MPID == "BRGT" || r.MPID == "MTRA" {
			want = append(want, r)
		}
	}
	got, _ := json.Marshal(mine)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) || len(mine) < 4 {
		t.Fatalf("scoped rows:\n%s\nwant:\n%s", got, exp)
	}
}

// A run publishes the whole status for those who may not list the store;
// it reads back as built, and its page is there.
func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	st := fixture(t)
	reg := builtInRegister(t)
	if _, err := ReadSnapshot(ctx, st); !store.IsNotFound(err) {
		t.Fatalf("no snapshot yet: %v", err)
	}
	if err := Publish(ctx, st, reg, now); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSnapshot(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := Build(ctx, st, reg, now, Scope{})
	got, _ := json.Marshal(s.Rows)
	want, _ := json.Marshal(rows)
	if string(got) != string(want) || !s.Built.Equal(now) || s.Register != reg.Version {
		t.Fatalf("snapshot %s at %s, want the rows built at %s", got, s.Built, now)
	}
	if page, err := store.ReadAll(ctx, st, cut.StatusPageKey); err != nil || !strings.Contains(string(page), "BRGT") {
		t.Fatalf("the status page: %v", err)
	}
}
