package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/universe"
	"github.com/mhhs-sit/datacut/pipelines"
)

// eesParts splits one synthetic EES export into two files of its rows, A
// and B, each with the header.
func eesParts(t *testing.T) (mpid string, a, b []byte, rows int) {
	t.Helper()
	st := smallMarket(t, "ees")
	first := dataKeys(t, st, "inbox/")[0]
	f, _ := cut.ParseInboxKey(first)
	raw, err := store.ReadAll(context.Background(), st, first)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimRight(string(raw), "\n")+"\n", "\n")
	header, body := lines[0], lines[1:len(lines)-1] // SplitAfter leaves a last ""
	half := len(body) / 2
	return f.MPID, []byte(header + strings.Join(body[:half], "")), []byte(header + strings.Join(body[half:], "")), len(body)
}

// brokenCSV is an EES file whose header is not EES's: quarantined whole.
var brokenCSV = []byte("not,an,ees,header\n1,2,3,4\n")

func run(t *testing.T, st store.Store) *Summary {
	t.Helper()
	opt := runOpts(t, st)
	opt.KeepRaw = false
	sum, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := sum.Count(StatusFailed); n > 0 {
		t.Fatalf("%d failed: %+v", n, sum.Cuts)
	}
	return sum
}

func result(t *testing.T, sum *Summary, id string) CutResult {
	t.Helper()
	for _, c := range sum.Cuts {
		if c.Submission == id {
			return c
		}
	}
	t.Fatalf("no result for submission %s: %+v", id, sum.Cuts)
	return CutResult{}
}

func tableRows(t *testing.T, st store.Store, prefix string) int64 {
	t.Helper()
	m, err := cut.ReadManifest(context.Background(), st, prefix)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, tb := range m.Tables {
		if got := readTable(t, st, tb.Key).Len(); int64(got) != tb.Rows {
			t.Fatalf("%s: %d rows, manifest says %d", tb.Key, got, tb.Rows)
		}
		n += tb.Rows
	}
	return n
}

// universeCores are the masked MPAN cores of the allocator's universe of
// the store's latest ees versions.
func universeCores(t *testing.T, st store.Store) []uint64 {
	t.Helper()
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	types = slices.DeleteFunc(types, func(ty *cut.Type) bool { return ty.Name != "ees" })
	sources, key, err := universe.Latest(context.Background(), st, types)
	if err != nil {
		t.Fatal(err)
	}
	u, err := universe.Build(context.Background(), st, sources, key, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	var cores []uint64
	for _, m := range u.All() {
		cores = append(cores, m.Core)
	}
	return cores
}

// mpanColumn is every table's masked MPAN column, in row order.
func mpanColumn(t *testing.T, st store.Store, prefix string) string {
	t.Helper()
	m, err := cut.ReadManifest(context.Background(), st, prefix)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, tb := range m.Tables {
		col := readTable(t, st, tb.Key)
		fmt.Fprintf(&b, "%s:", tb.Name)
		for i := 0; i < col.Len(); i++ {
			b.WriteString(col.Value(i) + ",")
		}
	}
	return b.String()
}

func latest(t *testing.T, st store.Store, mpid string) cut.Latest {
	t.Helper()
	l, err := cut.ReadLatest(context.Background(), st, "ees", mpid)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A cut's life: a file arrives broken and is quarantined while the rest is
// published; its correction, sent as an amendment, makes a version with
// every row, without the first submission's raw files; a part is then
// replaced and another withdrawn. Every version's folder keeps exactly its
// rows, and what was quarantined stays.
func TestAmendmentsNeedNoEarlierRawFiles(t *testing.T) { amendments(t, localStores) }

// opener opens an empty store of a name (each name its own).
type opener func(t *testing.T, name string) store.Store

func localStores(t *testing.T, _ string) store.Store {
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func amendments(t *testing.T, open opener) {
	st := open(t, "amendments")
	mpid, a, b, rows := eesParts(t)
	sub := cut.Submission{MPID: mpid, Cut: "ees"}
	submitFiles(t, st, sub, "s1", map[string][]byte{"A.csv": a, "B.csv": brokenCSV})
	r1 := result(t, run(t, st), "s1")
	if r1.Status != StatusPublished || r1.Version != 1 || r1.Quarantined != 1 || !r1.Latest {
		t.Fatalf("s1: %+v", r1)
	}
	fresh1 := open(t, "amendments-v1") // the store as it was, for the universe before
	submitFiles(t, fresh1, sub, "s1", map[string][]byte{"A.csv": a})
	run(t, fresh1)
	v1 := tableRows(t, st, r1.Prefix)
	if ks := listKeys(t, st, cut.InboxRoot); len(ks) != 0 {
		t.Fatalf("raw files left after publishing: %v", ks)
	}
	q1, rep1 := cut.QuarantineKeys("ees", mpid, "s1", "B.csv")
	report, _ := store.ReadAll(context.Background(), st, rep1)
	if !strings.Contains(string(report), "--amend 1") {
		t.Errorf("the report does not say how to send the correction: %s", report)
	}

	amend := sub
	amend.Kind, amend.Amends, amend.Replaces = cut.KindAmend, 1, []string{"B.csv"}
	submitFiles(t, st, amend, "s2", map[string][]byte{"B.csv": b})
	r2 := result(t, run(t, st), "s2")
	if r2.Status != StatusPublished || r2.Version != 2 || r2.Amends != 1 || !r2.Latest {
		t.Fatalf("s2: %+v", r2)
	}
	// The universe the allocator builds gains B's MPANs and loses none.
	if before, after := len(universeCores(t, fresh1)), len(universeCores(t, st)); after-before != strings.Count(string(b), "\n")-1 || before == 0 {
		t.Fatalf("the universe holds %d MPANs after the amendment, %d before it; B has %d", after, before, strings.Count(string(b), "\n")-1)
	}
	if got := tableRows(t, st, r2.Prefix); got != int64(rows) {
		t.Fatalf("version 2 holds %d rows, want all %d", got, rows)
	}
	if got := tableRows(t, st, r1.Prefix); got != v1 {
		t.Fatalf("version 1 changed: %d rows, was %d", got, v1)
	}
	// The same rows, in the same order, as A and B sent together.
	fresh := open(t, "amendments-fresh")
	submitFiles(t, fresh, sub, "s1", map[string][]byte{"A.csv": a, "B.csv": b})
	rf := result(t, run(t, fresh), "s1")
	if got, want := mpanColumn(t, st, r2.Prefix), mpanColumn(t, fresh, rf.Prefix); got != want {
		t.Fatalf("version 2's rows differ from A and B published together")
	}
	if _, err := st.Stat(context.Background(), q1); err != nil {
		t.Fatalf("the quarantined B.csv of s1 is gone: %v", err)
	}

	// Replace A by A without its last row; then withdraw B.
	aShort := a[:strings.LastIndexByte(strings.TrimRight(string(a), "\n"), '\n')+1]
	amend.Amends, amend.Replaces = 2, []string{"A.csv"}
	submitFiles(t, st, amend, "s3", map[string][]byte{"A.csv": aShort})
	r3 := result(t, run(t, st), "s3")
	if got := tableRows(t, st, r3.Prefix); r3.Version != 3 || got != int64(rows-1) {
		t.Fatalf("s3: %+v, %d rows, want %d", r3, got, rows-1)
	}
	withdraw := cut.Submission{MPID: mpid, Cut: "ees", Kind: cut.KindAmend, Amends: 3, Withdraws: []string{"B.csv"}}
	submitFiles(t, st, withdraw, "s4", nil)
	r4 := result(t, run(t, st), "s4")
	m4, err := cut.ReadManifest(context.Background(), st, r4.Prefix)
	if err != nil || r4.Version != 4 || len(m4.Inputs) != 1 || m4.Inputs[0].Name() != "A.csv" || m4.Inputs[0].Submission != "s3" {
		t.Fatalf("s4: %+v, manifest %+v %v", r4, m4, err)
	}
	if got, want := tableRows(t, st, r4.Prefix), int64(strings.Count(string(aShort), "\n")-1); got != want {
		t.Fatalf("version 4 holds %d rows, want A's %d", got, want)
	}
	if l := latest(t, st, mpid); l.Version != 4 || l.Prefix != r4.Prefix {
		t.Fatalf("latest.json: %+v", l)
	}
}

// The latest version is the latest extract, whatever order they arrive in.
func TestAsAtBeatsUploadOrder(t *testing.T) {
	st, _ := local.Open(t.TempDir())
	mpid, a, b, _ := eesParts(t)
	submitFiles(t, st, cut.Submission{MPID: mpid, Cut: "ees", AsAt: "2026-11-20"}, "new", map[string][]byte{"A.csv": a})
	run(t, st)
	submitFiles(t, st, cut.Submission{MPID: mpid, Cut: "ees", AsAt: "2026-11-01"}, "old", map[string][]byte{"B.csv": b})
	old := result(t, run(t, st), "old")
	if old.Status != StatusPublished || old.Version != 2 || old.Latest {
		t.Fatalf("the older extract: %+v", old)
	}
	if l := latest(t, st, mpid); l.Version != 1 || l.Submission != "new" {
		t.Fatalf("latest.json names %+v, want version 1 (as-at 2026-11-20)", l)
	}
	rc, err := cut.ReadReceipt(context.Background(), st, "ees", mpid, "old")
	if err != nil || rc.Latest || rc.Version != 2 {
		t.Fatalf("receipt %+v %v", rc, err)
	}
}

// What is not complete is never published and never removed: no
// submission.json yet, a listed file not uploaded yet, loose files, an
// amendment of a version that does not exist.
func TestIncompleteSubmissionsWait(t *testing.T) {
	ctx := context.Background()
	st, _ := local.Open(t.TempDir())
	mpid, a, b, _ := eesParts(t)
	put := func(key string, data []byte) {
		if err := st.Put(ctx, key, strings.NewReader(string(data)), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	put(cut.SubmissionDir(mpid, "ees", "nojson")+"A.csv", a)
	put(cut.InboxDir(mpid, "ees")+"loose.csv", a)
	submitFiles(t, st, cut.Submission{MPID: mpid, Cut: "ees"}, "partial", map[string][]byte{"A.csv": a, "B.csv": b})
	if err := st.Delete(ctx, cut.SubmissionDir(mpid, "ees", "partial")+"B.csv"); err != nil {
		t.Fatal(err)
	}
	submitFiles(t, st, cut.Submission{MPID: mpid, Cut: "ees", Kind: cut.KindAmend, Amends: 7}, "early", map[string][]byte{"B.csv": b})
	before := listKeys(t, st, cut.InboxRoot)
	sum := run(t, st)
	want := map[string]string{"nojson": "no submission.json yet", "": "loose files", "partial": "1 of 2 files not uploaded yet: B.csv", "early": "amends version 7 of " + mpid + "'s ees, which is not published (none is published yet)"}
	for id, why := range want {
		if r := result(t, sum, id); r.Status != StatusWaiting || !strings.Contains(r.Waiting, why) {
			t.Errorf("%q: %s %q, want waiting: %q", id, r.Status, r.Waiting, why)
		}
	}
	if after := listKeys(t, st, cut.InboxRoot); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Fatalf("the inbox changed: %v, was %v", after, before)
	}
	if ks := listKeys(t, st, cut.CutsRoot); len(ks) != 0 {
		t.Fatalf("published: %v", ks)
	}
}

// crashingStore fails the n-th write (put or delete), as a crash there
// would, and every write after it.
type crashingStore struct {
	store.Store
	left atomic.Int64
}

var errCrash = errors.New("simulated crash")

func (c *crashingStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if c.left.Add(-1) < 0 {
		return errCrash
	}
	return c.Store.Put(ctx, key, r, size)
}

func (c *crashingStore) Delete(ctx context.Context, key string) error {
	if c.left.Add(-1) < 0 {
		return errCrash
	}
	return c.Store.Delete(ctx, key)
}

// A run stopped at any write, then run again, leaves exactly what one
// clean run does: the same versions, latest.json, quarantine, reports and
// receipts, and an empty inbox.
func TestCrashAtAnyWriteThenResume(t *testing.T) { crashAtAnyWrite(t, localStores) }

func crashAtAnyWrite(t *testing.T, open opener) {
	mpid, a, b, _ := eesParts(t)
	scenario := func(st store.Store) {
		submitFiles(t, st, cut.Submission{MPID: mpid, Cut: "ees", AsAt: "2026-11-02"}, "s1", map[string][]byte{"A.csv": a, "B.csv": brokenCSV})
		submitFiles(t, st, cut.Submission{MPID: mpid, Cut: "ees", Kind: cut.KindAmend, Amends: 1, Replaces: []string{"B.csv"}, AsAt: "2026-11-02"}, "s2", map[string][]byte{"B.csv": b})
	}
	clean := open(t, "clean")
	scenario(clean)
	run(t, clean)
	want := lifeDigest(t, clean)
	for n := int64(0); ; n++ {
		base := open(t, fmt.Sprintf("crash-%d", n))
		scenario(base)
		cs := &crashingStore{Store: base}
		cs.left.Store(n)
		opt := runOpts(t, cs)
		opt.KeepRaw = false
		sum, err := Run(context.Background(), opt)
		if err == nil && sum.Count(StatusFailed) == 0 && cs.left.Load() >= 0 {
			if n < 5 {
				t.Fatalf("a run needs only %d writes", n)
			}
			return // every write point was crashed at
		}
		run(t, base)
		if got := lifeDigest(t, base); got != want {
			t.Fatalf("crash at write %d, then a run: the store differs from a clean run's\n%s\nwant\n%s", n+1, got, want)
		}
		checkAudited(t, base, mpid, "s1", "s2")
	}
}

// checkAudited: each submission has its take record, and no
// record holds anything but keys, names and counts (no field of the data).
func checkAudited(t *testing.T, st store.Store, mpid string, ids ...string) {
	t.Helper()
	recs, err := audit.List(context.Background(), st, audit.Filter{MPID: mpid})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		var actions []string
		for _, r := range recs {
			if r.Submission == id {
				actions = append(actions, r.Action)
			}
		}
		if !slices.Contains(actions, audit.ActionTake) {
			t.Fatalf("submission %s has audit records %v, want take", id, actions)
		}
	}
	for _, r := range recs {
		b, _ := json.Marshal(r)
		if m := regexp.MustCompile(`\b\d{13}\b`).Find(b); m != nil {
			t.Fatalf("an audit record holds a 13-digit number (an MPAN?): %s", b)
		}
	}
}

// lifeDigest lists what runs leave in a store, without run times.
func lifeDigest(t *testing.T, st store.Store) string {
	var out []string
	for _, k := range listKeys(t, st, "") {
		if strings.HasPrefix(k, ".datacut") || strings.HasPrefix(k, audit.Root) { // audit records: new keys and times each run
			continue
		}
		b, _ := store.ReadAll(context.Background(), st, k)
		var doc map[string]any
		if strings.HasSuffix(k, ".json") && json.Unmarshal(b, &doc) == nil {
			delete(doc, "timings")  // manifests
			delete(doc, "finished") // receipts
			b, _ = json.Marshal(doc)
		}
		out = append(out, fmt.Sprintf("%s %x", k, sha256.Sum256(b)))
	}
	return strings.Join(out, "\n")
}

// The same MPAN unit twice in one flow of a version is a warning naming
// both places, whether the first was sent now or carried over.
func TestSameUnitTwiceIsAWarning(t *testing.T) {
	st, _ := local.Open(t.TempDir())
	mpid, a, _, _ := eesParts(t)
	lines := strings.SplitAfter(string(a), "\n")
	again := []byte(strings.Join(lines[:3], "")) // the header and A's first two rows
	submitFiles(t, st, cut.Submission{MPID: mpid, Cut: "ees"}, "s1", map[string][]byte{"A.csv": a})
	if r := result(t, run(t, st), "s1"); r.DuplicateUnits != 0 {
		t.Fatalf("s1: %d duplicate units in a file without any", r.DuplicateUnits)
	}
	submitFiles(t, st, cut.Submission{MPID: mpid, Cut: "ees", Kind: cut.KindAmend, Amends: 1}, "s2", map[string][]byte{"A2.csv": again})
	r := result(t, run(t, st), "s2")
	m, err := cut.ReadManifest(context.Background(), st, r.Prefix)
	if err != nil || r.DuplicateUnits != 2 || m.Duplicates == nil || len(m.Duplicates.Listed) != 2 {
		t.Fatalf("s2: %+v, manifest duplicates %+v %v", r, m.Duplicates, err)
	}
	d := m.Duplicates.Listed[0]
	if d.Table != "ees_portfolio" || d.First != (cut.Location{Input: "A.csv", Line: 2}) || d.Again != (cut.Location{Input: "A2.csv", Line: 2}) {
		t.Fatalf("duplicate %+v, want A.csv line 2 again at A2.csv line 2", d)
	}
	if rc, _ := cut.ReadReceipt(context.Background(), st, "ees", mpid, "s2"); rc == nil || rc.DuplicateUnits != 2 {
		t.Fatalf("receipt %+v", rc)
	}
}

// A replacement that arrives broken never loses the rows it was to
// replace: the version keeps them, and says so.
func TestBrokenReplacementKeepsTheOldRows(t *testing.T) {
	st, _ := local.Open(t.TempDir())
	mpid, a, b, rows := eesParts(t)
	submitFiles(t, st, cut.Submission{MPID: mpid, Cut: "ees"}, "s1", map[string][]byte{"A.csv": a, "B.csv": b})
	run(t, st)
	submitFiles(t, st, cut.Submission{MPID: mpid, Cut: "ees", Kind: cut.KindAmend, Amends: 1, Replaces: []string{"A.csv", "B.csv"}}, "s2",
		map[string][]byte{"A.csv": a, "B.csv": brokenCSV})
	r := result(t, run(t, st), "s2")
	if got := tableRows(t, st, r.Prefix); r.Version != 2 || r.Quarantined != 1 || got != int64(rows) {
		t.Fatalf("s2: %+v, %d rows, want all %d", r, got, rows)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "B.csv keeps version 1's rows: its replacement was quarantined") {
		t.Fatalf("warnings %q", r.Warnings)
	}
}
