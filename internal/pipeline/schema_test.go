package pipeline

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
)

// An EES cut's table has the mapping's columns whatever its files have,
// so file order never matters: a file without its last column, sorting
// first, and one with its columns reversed are published beside a complete
// one, the missing column null.
func TestEESFilesWithOtherColumnsArePublished(t *testing.T) {
	ctx := context.Background()
	st := smallMarket(t, "ees")
	first := dataKeys(t, st, "inbox/")[0] // inbox/<MPID>/ees/<submission>/EES_0001.csv
	b, _ := store.ReadAll(ctx, st, first)
	lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
	var short, reversed bytes.Buffer
	for i, line := range lines {
		text := strings.TrimRight(line, "\r\n")
		cells := strings.Split(text, ",") // the synthetic export quotes nothing
		if i == 0 || i%2 == 1 {           // other rows than the complete file's, so no duplicate file
			short.WriteString(strings.Join(cells[:len(cells)-1], ",") + "\n")
		}
		slices.Reverse(cells)
		if i == 0 || i%3 == 1 {
			reversed.WriteString(strings.Join(cells, ",") + "\n")
		}
	}
	addToSubmission(t, st, first, "EES_0000.csv", short.Bytes())
	addToSubmission(t, st, first, "EES_0002.csv", reversed.Bytes())
	sum, err := Run(ctx, runOpts(t, st))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sum.Cuts {
		if !strings.HasPrefix(first, "inbox/"+c.MPID+"/") {
			continue
		}
		m, err := cut.ReadManifest(ctx, st, c.Prefix)
		if err != nil || c.Status != StatusPublished || c.Quarantined != 0 || len(m.Inputs) != 3 || len(m.Tables) != 1 {
			t.Fatalf("cut %s/%s: %s, %d quarantined, manifest %+v (%v); want all three files published", c.Cut, c.MPID, c.Status, c.Quarantined, m, err)
		}
		cols := runOpts(t, st).Pipelines.ByName["ees"].in.(*eesInput).columns.Order
		tb, err := cut.OpenTable(ctx, st, m.Tables[0].Key, memory.DefaultAllocator, pqarrow.ArrowReadProperties{})
		if err != nil {
			t.Fatal(err)
		}
		defer tb.Close()
		sc, err := tb.File.Schema()
		if err != nil {
			t.Fatal(err)
		}
		if sc.NumFields() != dflow.LineageColumns+len(cols) || sc.Field(dflow.LineageColumns).Name != "mpan_core" || sc.Field(sc.NumFields()-1).Name != "map_id" {
			t.Fatalf("table schema %v, want the mapping's %d columns in its order", sc, len(cols))
		}
		return
	}
	t.Fatalf("no result for the cut of %s", first)
}

// A table's columns that differ are named, by the definitions' names.
func TestSchemaDiffNamesColumns(t *testing.T) {
	f := func(names ...string) *arrow.Schema {
		var fs []arrow.Field
		for _, n := range names {
			fs = append(fs, arrow.Field{Name: n, Type: arrow.BinaryTypes.String})
		}
		return arrow.NewSchema(fs, nil)
	}
	if got := schemaDiff(f("a", "b", "c"), f("a", "d")); got != "it lacks b, c; it has d besides" {
		t.Errorf("got %q", got)
	}
	err := error(&schemaError{table: "t", diff: schemaDiff(f("a", "b"), f("b", "a"))})
	if !errors.Is(err, errSchema) || !strings.Contains(err.Error(), "table t: the same columns in another order") {
		t.Errorf("got %v", err)
	}
}

// The same file twice in a cut, under another name, would publish every row
// twice: the later one is quarantined (rule cut.duplicate-file) naming the
// first, and the cut is published once.
func TestDuplicateFileIsQuarantined(t *testing.T) {
	ctx := context.Background()
	st := smallMarket(t, "ees")
	first := dataKeys(t, st, "inbox/")[0]
	f, _ := cut.ParseInboxKey(first)
	b, _ := store.ReadAll(ctx, st, first)
	addToSubmission(t, st, first, "EES_copy.csv", b)
	sum, err := Run(ctx, runOpts(t, st))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sum.Cuts {
		if c.MPID != f.MPID {
			continue
		}
		m, err := cut.ReadManifest(ctx, st, c.Prefix)
		if err != nil || c.Quarantined != 1 || len(m.Inputs) != 1 || m.Quarantined[0].Rule != "cut.duplicate-file" {
			t.Fatalf("cut %s/%s: %s, %d quarantined, manifest %+v (%v); want the copy quarantined as cut.duplicate-file", c.Cut, c.MPID, c.Status, c.Quarantined, m, err)
		}
		if !strings.Contains(m.Quarantined[0].Reason, f.Name) {
			t.Errorf("the reason %q does not name the first file %s", m.Quarantined[0].Reason, f.Name)
		}
		return
	}
	t.Fatalf("no result for the cut of %s", first)
}

// A folder that is not an MPID is never published as one: its files are
// left where they are, listed with the reason.
func TestFolderThatIsNotAnMPIDIsLeftAlone(t *testing.T) {
	ctx := context.Background()
	st := smallMarket(t, "ees")
	b, _ := store.ReadAll(ctx, st, dataKeys(t, st, "inbox/")[0])
	bad := "inbox/mpid=EVIL/ees/s1/EES_0001.csv"
	if err := st.Put(ctx, bad, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(ctx, runOpts(t, st))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Ignored) != 1 || sum.Ignored[0].Key != bad || !strings.Contains(sum.Ignored[0].Reason, "is not an MPID") {
		t.Fatalf("ignored %+v, want %s as not an MPID", sum.Ignored, bad)
	}
	if _, err := st.Stat(ctx, bad); err != nil {
		t.Fatalf("the file was not left where it was: %v", err)
	}
	if ks := listKeys(t, st, "cuts/ees/mpid=mpid=EVIL/"); len(ks) != 0 {
		t.Fatalf("published as mpid=mpid=EVIL: %v", ks)
	}
}

// A broken file sent again under the same name, still broken, never
// overwrites the copy kept of the first: both stay in quarantine, each with
// its report; a submission id used again is not taken at all.
func TestQuarantineKeepsEveryUpload(t *testing.T) {
	ctx := context.Background()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{"not,an,ees,header\n1,2,3,4\n", "still,not,one\n", "third,try\n"} {
		id := []string{"s1", "s2", "s1"}[i]
		submitFiles(t, st, cut.Submission{MPID: "BRGT", Cut: "ees"}, id, map[string][]byte{"EES_0001.csv": []byte(body)})
		sum, err := Run(ctx, runOpts(t, st))
		if err != nil {
			t.Fatal(err)
		}
		want := StatusNothingLeft
		if i == 2 {
			want = StatusWaiting
		}
		if got := sum.Cuts[len(sum.Cuts)-1]; got.Submission != id || got.Status != want {
			t.Fatalf("upload %d: %+v, want %s", i+1, sum.Cuts, want)
		}
		if i < 2 { // kept raw (runOpts): the inbox is cleared for the next
			if err := st.Delete(ctx, cut.SubmissionKey("BRGT", "ees", id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if q := listKeys(t, st, cut.QuarantineRoot); len(q) != 2 {
		t.Fatalf("quarantine holds %v, want both uploads", q)
	}
	if r := listKeys(t, st, cut.ReportsRoot); len(r) != 4 {
		t.Fatalf("reports hold %v, want a report and a receipt per upload", r)
	}
	if ks := dataKeys(t, st, cut.SubmissionDir("BRGT", "ees", "s1")); len(ks) != 1 {
		t.Fatalf("the third upload, under a used id, is not left in the inbox: %v", ks)
	}
}

// A file in a folder its sender may not send to is quarantined (rule
// header.sender) naming the MPIDs and roles, never published under the
// folder's MPID; the sender's own cut is published as it is.
func TestSenderMustMatchTheFolder(t *testing.T) {
	ctx := context.Background()
	st := smallMarket(t, "supplier-customer")
	var crwn string
	for _, k := range listKeys(t, st, "inbox/CRWN/supplier-customer/") {
		if strings.Contains(k, "D0302") {
			crwn = k
		}
	}
	b, _ := store.ReadAll(ctx, st, crwn)
	for _, folder := range []string{"BRGT", "EVIL"} {
		submitFiles(t, st, cut.Submission{MPID: folder, Cut: "supplier-customer"}, "wrong", map[string][]byte{cut.BaseName(crwn): b})
	}
	sum, err := Run(ctx, runOpts(t, st))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"BRGT": `sender CRWN may not send for BRGT`,
		"EVIL": "EVIL",
	}
	for _, c := range sum.Cuts {
		switch c.MPID {
		case "CRWN":
			if c.Status != StatusPublished || c.Quarantined != 0 {
				t.Errorf("CRWN's own cut: %s, %d quarantined", c.Status, c.Quarantined)
			}
		case "BRGT", "EVIL":
			if c.Submission == "wrong" && c.Quarantined != 1 {
				t.Fatalf("%s: %s, %d quarantined; want the CRWN file quarantined", c.MPID, c.Status, c.Quarantined)
			}
			if c.Submission != "wrong" {
				continue
			}
			_, report := quarantined(t, st, cut.SubmissionDir(c.MPID, "supplier-customer", "wrong")+cut.BaseName(crwn))
			rep, _ := store.ReadAll(ctx, st, report)
			if !strings.Contains(string(rep), `"header.sender"`) || !strings.Contains(string(rep), want[c.MPID]) {
				t.Errorf("%s: report %s", c.MPID, rep)
			}
		}
	}
	if ks := listKeys(t, st, "cuts/supplier-customer/mpid=EVIL/"); len(ks) != 0 {
		t.Fatalf("published under EVIL: %v", ks)
	}
}

// smallMarket is a local store holding a 300-MPAN synthetic market's cuts
// of one type in its inbox.
func smallMarket(t *testing.T, cutType string) store.Store {
	t.Helper()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(context.Background(), st, synth.Options{MPANs: 300, Seed: 3, Cuts: []string{cutType}}); err != nil {
		t.Fatal(err)
	}
	return st
}
