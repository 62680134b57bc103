package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
)

// A file whose columns differ from its cut's earlier files is found by the
// writer, which runs behind the reader across files: the right file is
// still quarantined (rule pipeline.schema) and the rest published.
func TestFileWithOtherColumnsIsQuarantined(t *testing.T) {
	ctx := context.Background()
	st := smallMarket(t, "ees")
	first := dataKeys(t, st, "inbox/")[0] // inbox/<MPID>/ees/<submission>/EES_0001.csv
	b, _ := store.ReadAll(ctx, st, first)
	// The same rows without their last column, then a good copy after it.
	var short bytes.Buffer
	for _, line := range strings.SplitAfter(string(b), "\n") {
		text := strings.TrimRight(line, "\r\n")
		if i := strings.LastIndexByte(text, ','); i >= 0 {
			line = text[:i] + line[len(text):]
		}
		short.WriteString(line)
	}
	// A good file after it: the first file's rows but its last (the same
	// bytes twice would be a duplicate file, quarantined for that).
	good := b[:bytes.LastIndexByte(b[:len(b)-1], '\n')+1]
	addToSubmission(t, st, first, "EES_0002.csv", short.Bytes())
	addToSubmission(t, st, first, "EES_0003.csv", good)
	sum, err := Run(ctx, runOpts(t, st))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sum.Cuts {
		if !strings.HasPrefix(first, "inbox/"+c.MPID+"/") {
			continue
		}
		if c.Status != StatusPublished || c.Quarantined != 1 {
			t.Fatalf("cut %s/%s: %s, %d quarantined; want published with 1 quarantined", c.Cut, c.MPID, c.Status, c.Quarantined)
		}
		q := listKeys(t, st, "quarantine/")
		if len(q) != 1 || !strings.HasSuffix(q[0], "/EES_0002.csv") {
			t.Fatalf("quarantine holds %v, want EES_0002.csv", q)
		}
		_, report := quarantined(t, st, cut.SubmissionDir(c.MPID, "ees", c.Submission)+"EES_0002.csv")
		rep, _ := store.ReadAll(ctx, st, report)
		if !strings.Contains(string(rep), `"pipeline.schema"`) {
			t.Errorf("report %s does not name rule pipeline.schema", rep)
		}
		return
	}
	t.Fatalf("no result for the cut of %s", first)
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
