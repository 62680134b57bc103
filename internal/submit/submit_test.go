package submit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/pipelines"
)

var now = time.Date(2026, 12, 1, 20, 15, 0, 0, time.UTC)

// seed is the synthetic market's: synth writes each participant's cut as
// the submission synth.SubmissionID(seed).
const seed = 3

// market generates a small synthetic market and returns the directory its
// inbox is in: the participants' local files in these tests are the data
// files of its submissions.
func market(t *testing.T, faults float64) string {
	t.Helper()
	dir := t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(context.Background(), st, synth.Options{MPANs: 400, Seed: seed, FaultRate: faults,
		Cuts: []string{synth.CutMTD, synth.CutEES, synth.CutSupplier}}); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "inbox")
}

// files are the data files of the market's submission of one MPID's cut
// of cutType: inbox/<MPID>/<cut>/synth-<seed>/, without its submission.json.
func files(t *testing.T, inbox, mpid, cutType string) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(inbox, mpid, cutType, synth.SubmissionID(seed), "*"))
	var fs []string
	for _, f := range all {
		if filepath.Base(f) != cut.SubmissionFile {
			fs = append(fs, f)
		}
	}
	if err != nil || len(fs) == 0 {
		t.Fatalf("no files of %s's %s: %v", mpid, cutType, err)
	}
	return fs
}

func definitions(t *testing.T) *Definitions {
	t.Helper()
	d, err := LoadDefinitions(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	if d.Register == nil {
		t.Fatal("the built-in definitions have a programme register: senders are checked")
	}
	return d
}

func newStore(t *testing.T) *local.Store {
	t.Helper()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// recorder records the keys of successful Puts, in order.
type recorder struct {
	store.Store
	mu   sync.Mutex
	puts []string
}

func (r *recorder) Put(ctx context.Context, key string, rd io.Reader, size int64) error {
	err := r.Store.Put(ctx, key, rd, size)
	if err == nil {
		r.mu.Lock()
		r.puts = append(r.puts, key)
		r.mu.Unlock()
	}
	return err
}

// keys lists every object of a store under prefix.
func keys(t *testing.T, st store.Store, prefix string) []string {
	t.Helper()
	var out []string
	if err := st.List(context.Background(), prefix, func(i store.Info) error { out = append(out, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func prepare(t *testing.T, d *Definitions, req Request) *Plan {
	t.Helper()
	p, err := Prepare(d, req, now, nil)
	if err != nil {
		t.Fatalf("Prepare(%+v): %v", req, err)
	}
	return p
}

func sha(t *testing.T, path string) (string, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), int64(len(b))
}

func TestUploadWritesFilesThenSubmissionLast(t *testing.T) {
	ctx := context.Background()
	d := definitions(t)
	local := files(t, market(t, 0), "MTRA", "mop-mtd")
	p := prepare(t, d, Request{MPID: "MTRA", Cut: "mop-mtd", Files: local})
	if p.Refused() || len(p.Broken()) > 0 || p.Rejected() > 0 {
		t.Fatalf("a clean market's files: broken %d, rejected %d", len(p.Broken()), p.Rejected())
	}
	if p.Submission.AsAt != "2026-12-01" || p.Submission.Kind != cut.KindFull {
		t.Fatalf("as-at defaults to today (UTC), kind full: %+v", p.Submission)
	}
	rec := &recorder{Store: newStore(t)}
	id, err := Upload(ctx, rec, p, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "20261201T201500Z-") || len(id) != len("20261201T201500Z-3f9a") || !cut.IsSubmissionID(id) {
		t.Fatalf("generated id %q", id)
	}
	dir := cut.SubmissionDir("MTRA", "mop-mtd", id)
	if len(rec.puts) != len(local)+2 || !strings.HasPrefix(rec.puts[len(local)], audit.Root) || rec.puts[len(rec.puts)-1] != dir+cut.SubmissionFile {
		t.Fatalf("puts %v: want the %d files, the audit record, then %s last", rec.puts, len(local), cut.SubmissionFile)
	}
	// The audit record: who sent what, with sizes and SHA-256.
	recs, err := audit.List(ctx, rec, audit.Filter{MPID: "MTRA"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("audit records %+v, %v", recs, err)
	}
	if r := recs[0]; r.Action != audit.ActionSubmit || r.Submission != id || r.Who != store.Who(rec) || r.Suspect != "" || len(r.Objects) != len(local)+1 {
		t.Fatalf("the submit record: %+v", r)
	}
	for i, f := range local {
		want, size := sha(t, f)
		if o := recs[0].Objects[i]; o.Key != dir+filepath.Base(f) || o.SHA256 != want || o.Size != size {
			t.Errorf("audit object %d: %+v, want %s (%d bytes, %s)", i, o, dir+filepath.Base(f), size, want)
		}
	}
	for i, f := range local {
		if rec.puts[i] != dir+filepath.Base(f) {
			t.Errorf("put %d is %s, want %s", i, rec.puts[i], dir+filepath.Base(f))
		}
	}
	b, err := store.ReadAll(ctx, rec, cut.SubmissionKey("MTRA", "mop-mtd", id))
	if err != nil {
		t.Fatal(err)
	}
	s, err := cut.ParseSubmission(b, "MTRA", "mop-mtd")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files) != len(local) {
		t.Fatalf("submission.json lists %d files, want %d", len(s.Files), len(local))
	}
	for i, f := range local {
		wantSHA, wantSize := sha(t, f)
		got := s.Files[i]
		if got.Name != filepath.Base(f) || got.SHA256 != wantSHA || got.Size != wantSize {
			t.Errorf("files[%d] = %+v, want %s of %d bytes, SHA-256 %s", i, got, filepath.Base(f), wantSize, wantSHA)
		}
		up, err := store.ReadAll(ctx, rec, dir+got.Name)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(up); hex.EncodeToString(sum[:]) != wantSHA {
			t.Errorf("the uploaded %s is not the local file", got.Name)
		}
	}
	// The worker's reader takes it: ready, nothing waited for.
	pending, ignored, err := cut.ScanInbox(ctx, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || len(ignored) != 0 {
		t.Fatalf("ScanInbox: %d pending, ignored %v", len(pending), ignored)
	}
	if pg := pending[0]; pg.ID != id || pg.Waiting != "" || pg.Submission == nil || len(pg.Files) != len(local) {
		t.Fatalf("ScanInbox: %+v, want submission %s ready", pg, id)
	}
}

func TestUsedIDIsRefused(t *testing.T) {
	ctx := context.Background()
	d := definitions(t)
	local := files(t, market(t, 0), "BRGT", "ees")
	st := newStore(t)
	p := prepare(t, d, Request{MPID: "BRGT", Cut: "ees", ID: "first-cut", Files: local})
	if id, err := Upload(ctx, st, p, now, nil); err != nil || id != "first-cut" {
		t.Fatalf("upload with --id: %q, %v", id, err)
	}
	before := keys(t, st, "")
	var re *RequestError
	if _, err := Upload(ctx, st, p, now, nil); !errors.As(err, &re) || !strings.Contains(err.Error(), "used already") {
		t.Fatalf("the same id again: %v, want a request error saying it was used", err)
	}
	// An id whose folder the worker removed but whose receipt is there.
	if err := cut.WriteReceipt(ctx, st, &cut.Receipt{Submission: cut.SubmissionRef{ID: "taken"}, Cut: "ees", MPID: "BRGT", Status: cut.ReceiptPublished}); err != nil {
		t.Fatal(err)
	}
	before = append(before, cut.ReceiptKey("ees", "BRGT", "taken"))
	p.ID = "taken"
	if _, err := Upload(ctx, st, p, now, nil); !errors.As(err, &re) || !strings.Contains(err.Error(), "used already") {
		t.Fatalf("an id with a receipt: %v, want refused", err)
	}
	slices.Sort(before)
	if after := keys(t, st, ""); !slices.Equal(before, after) {
		t.Fatalf("a refused upload wrote: before %v, after %v", before, after)
	}
	// Another MPID may use the same id: ids are per folder.
	used, err := Used(ctx, st, "CRWN", "ees", "first-cut")
	if err != nil || used {
		t.Fatalf("Used for another MPID: %v, %v", used, err)
	}
}

// copyFile writes a changed copy of src into dir (or as it is, when
// change is nil).
func copyFile(t *testing.T, src, dir, name string, change func([]byte) []byte) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		b = change(b)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func dropTrailer(b []byte) []byte {
	i := bytes.LastIndex(bytes.TrimRight(b, "\r\n"), []byte("\n"))
	return b[:i+1]
}

func TestBrokenFilesAreRefusedUnlessAllowed(t *testing.T) {
	ctx := context.Background()
	d := definitions(t)
	inbox := market(t, 0)
	mtd := files(t, inbox, "MTRA", "mop-mtd")
	tmp := t.TempDir()
	for _, c := range []struct {
		name      string
		mpid, cut string
		file      string
		rule      string
	}{
		{"no trailer", "MTRA", "mop-mtd", copyFile(t, mtd[0], tmp, "D0149_cut.dat", dropTrailer), "trailer.missing"},
		{"flow of another cut", "MTRA", "mop-mtd", files(t, inbox, "BRGT", "supplier-customer")[0], "pipeline.flow"},
		{"sender of another organisation", "MTRC", "mop-mtd", mtd[0], "header.sender"},
		{"an EES export in a MOp's folder", "MTRA", "ees", files(t, inbox, "BRGT", "ees")[0], "header.sender"},
		{"EES column nobody knows", "BRGT", "ees", copyFile(t, files(t, inbox, "BRGT", "ees")[0], tmp, "EES_x.csv",
			func(b []byte) []byte { return append([]byte("bogus,"), b...) }), "ees.unknown-column"},
	} {
		st := &recorder{Store: newStore(t)}
		p := prepare(t, d, Request{MPID: c.mpid, Cut: c.cut, Files: []string{c.file}})
		if len(p.Broken()) != 1 || p.Files[0].Rule != c.rule || !p.Refused() {
			t.Errorf("%s: broken %d, rule %q, refused %v; want rule %s, refused", c.name, len(p.Broken()), p.Files[0].Rule, p.Refused(), c.rule)
			continue
		}
		if _, err := Upload(ctx, st, p, now, nil); err == nil || len(st.puts) > 0 {
			t.Errorf("%s: a refused plan uploaded %v (err %v)", c.name, st.puts, err)
		}
		var out bytes.Buffer
		WriteFiles(&out, p.Files)
		WriteRefusal(&out, p)
		if !strings.Contains(out.String(), "BROKEN ["+c.rule+"]") || !strings.Contains(out.String(), "--allow-broken") {
			t.Errorf("%s: the report does not say why and how:\n%s", c.name, out.String())
		}
		p.AllowBroken = true
		if _, err := Upload(ctx, st, p, now, nil); err != nil || len(st.puts) != 3 { // the file, the audit record, submission.json
			t.Errorf("%s: --allow-broken: %v, puts %v", c.name, err, st.puts)
		}
	}
	// The other files of a refused submission are not uploaded either.
	st := &recorder{Store: newStore(t)}
	p := prepare(t, d, Request{MPID: "MTRA", Cut: "mop-mtd", Files: append(mtd[1:], copyFile(t, mtd[0], tmp, "D0149_cut.dat", dropTrailer))})
	if _, err := Upload(ctx, st, p, now, nil); err == nil || len(st.puts) > 0 || len(p.Broken()) != 1 {
		t.Fatalf("one broken file of %d: uploaded %v, %v", len(p.Files), st.puts, err)
	}
	// The same content twice: the worker quarantines the second.
	p = prepare(t, d, Request{MPID: "MTRA", Cut: "mop-mtd", Files: []string{mtd[0], copyFile(t, mtd[0], tmp, "again.dat", nil)}})
	if b := p.Broken(); len(b) != 1 || b[0].Name != "again.dat" || b[0].Rule != "cut.duplicate-file" {
		t.Fatalf("a duplicate: broken %+v", b)
	}
}

func TestRejectedInstancesWarnWithValues(t *testing.T) {
	d := definitions(t)
	inbox := market(t, 0.05)
	for _, c := range []struct{ mpid, cut string }{{"MTRA", "mop-mtd"}, {"BRGT", "ees"}} {
		// The market's faults break some files whole, too: those are
		// refused (TestBrokenFilesAreRefusedUnlessAllowed); send the rest.
		var whole []string
		for _, f := range prepare(t, d, Request{MPID: c.mpid, Cut: c.cut, Files: files(t, inbox, c.mpid, c.cut)}).Files {
			if !f.Broken {
				whole = append(whole, f.Path)
			}
		}
		p := prepare(t, d, Request{MPID: c.mpid, Cut: c.cut, Files: whole, MaxFindings: 3})
		if p.Refused() || p.Rejected() == 0 {
			t.Fatalf("%s: refused %v, rejected %d: rejected instances warn, they do not block", c.cut, p.Refused(), p.Rejected())
		}
		var out bytes.Buffer
		WriteFiles(&out, p.Files)
		if !strings.Contains(out.String(), "REJECTED: the run keeps them aside") || !strings.Contains(out.String(), `value "`) {
			t.Fatalf("%s: the report shows no rejections with values:\n%s", c.cut, out.String())
		}
		for _, f := range p.Files {
			if len(f.Findings) > 3 {
				t.Fatalf("%s: %d findings listed, cap 3", f.Name, len(f.Findings))
			}
		}
		if !(&Result{Files: p.Files}).DataErrors() {
			t.Fatalf("%s: rejected instances are data errors (exit 1)", c.cut)
		}
		out.Reset()
		WriteSubmitted(&out, &Result{ID: "x", Submission: p.Submission, Files: p.Files})
		if want := plural(p.Rejected(), "instance") + " with errors (listed above) will be left out"; !strings.Contains(out.String(), want) {
			t.Fatalf("%s: submitted does not say %q:\n%s", c.cut, want, out.String())
		}
	}
}

func TestRequestMistakes(t *testing.T) {
	d := definitions(t)
	f := files(t, market(t, 0), "BRGT", "ees")[0]
	other := filepath.Join(t.TempDir(), filepath.Base(f))
	copyFile(t, f, filepath.Dir(other), filepath.Base(other), nil)
	ok := Request{MPID: "BRGT", Cut: "ees", Files: []string{f}}
	for _, c := range []struct {
		name string
		edit func(*Request)
		want string
	}{
		{"mpid", func(r *Request) { r.MPID = "brgt" }, `--mpid "brgt" is not an MPID`},
		{"cut", func(r *Request) { r.Cut = "eess" }, `--cut "eess" is not a cut type (one of ees, mop-mtd, registration, supplier-customer)`},
		{"as-at", func(r *Request) { r.AsAt = "30/11/2026" }, `--as-at: asAt "30/11/2026" is neither a date`},
		{"replace without amend", func(r *Request) { r.Replaces = []string{"a.csv"} }, "give --amend VERSION too"},
		{"withdraw without amend", func(r *Request) { r.Withdraws = []string{"a.csv"} }, "give --amend VERSION too"},
		{"path as a name", func(r *Request) { r.Amend, r.Replaces = 1, []string{"x/a.csv"} }, `"x/a.csv" is not a file name`},
		{"negative version", func(r *Request) { r.Amend = -1 }, "--amend -1"},
		{"id", func(r *Request) { r.ID = "-x" }, `--id "-x" is not a submission id`},
		{"no files", func(r *Request) { r.Files = nil }, "no FILE to submit"},
		{"a name twice", func(r *Request) { r.Files = append(r.Files, other) }, "two files are called " + filepath.Base(f)},
		{"withdraw and send", func(r *Request) { r.Amend, r.Withdraws = 1, []string{filepath.Base(f)} }, "both withdrawn and sent"},
		{"named twice", func(r *Request) { r.Amend, r.Replaces, r.Withdraws = 1, []string{"a"}, []string{"a"} }, `"a" is named twice`},
		{"no such file", func(r *Request) { r.Files = append(r.Files, "nofile.csv") }, "nofile.csv: no such file"},
	} {
		r := ok
		r.Files = slices.Clone(ok.Files)
		c.edit(&r)
		_, err := Prepare(d, r, now, nil)
		var re *RequestError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a request error with %q", c.name, err, c.want)
		}
	}
	// Every mistake at once.
	_, err := Prepare(d, Request{MPID: "x", Cut: "y", AsAt: "z"}, now, nil)
	if err == nil || strings.Count(err.Error(), ";") < 3 {
		t.Errorf("all mistakes at once: %v", err)
	}
	var re *RequestError
	if _, err := Prepare(d, Request{MPID: "BRGT", Cut: "ees", Files: []string{filepath.Join(t.TempDir(), "none.csv")}}, now, nil); !errors.As(err, &re) || !strings.HasSuffix(err.Error(), "none.csv: no such file") {
		t.Errorf("a missing file: %v, want a request error naming it", err)
	}
}

func TestAmendments(t *testing.T) {
	ctx := context.Background()
	d := definitions(t)
	f := files(t, market(t, 0), "BRGT", "ees")[0]
	name := filepath.Base(f)
	p := prepare(t, d, Request{MPID: "BRGT", Cut: "ees", AsAt: "2026-11-30T06:00:00Z", Amend: 2, Replaces: []string{name}, Withdraws: []string{"EES_old.csv"}, Files: []string{f}})
	s := p.Submission
	if s.Kind != cut.KindAmend || s.Amends != 2 || !slices.Equal(s.Replaces, []string{name}) || !slices.Equal(s.Withdraws, []string{"EES_old.csv"}) ||
		s.AsAt != "2026-11-30T06:00:00Z" || len(s.Files) != 1 || s.Files[0].Name != name {
		t.Fatalf("amendment: %+v", s)
	}
	if err := s.Check("BRGT", "ees"); err != nil {
		t.Fatal(err)
	}
	st := newStore(t)
	var re *RequestError
	if _, err := Upload(ctx, st, p, now, nil); !errors.As(err, &re) || !strings.Contains(err.Error(), "--amend 2: amends version 2 of BRGT's ees, which is not published (none is published yet)") {
		t.Fatalf("amending a version that is not there: %v", err)
	}
	publish := func(version int, inputs ...string) {
		m := &cut.Manifest{Cut: "ees", MPID: "BRGT", CutID: "c" + string(rune('0'+version)), Version: version, AsAt: "2026-11-01"}
		for _, in := range inputs {
			m.Inputs = append(m.Inputs, cut.Input{Key: "inbox/BRGT/ees/s1/" + in})
		}
		if version == 1 {
			m.Quarantined = []cut.Quarantine{{Input: "inbox/BRGT/ees/s1/EES_bad.csv"}}
		}
		if err := cut.WriteManifest(ctx, st, cut.Prefix("ees", "BRGT", m.CutID), m); err != nil {
			t.Fatal(err)
		}
	}
	publish(1, name)
	if _, err := Upload(ctx, st, p, now, nil); !errors.As(err, &re) || !strings.Contains(err.Error(), "amends version 2 of BRGT's ees, which is not published (only version 1 is)") {
		t.Fatalf("amending version 2 of 1: %v", err)
	}
	publish(2, name, "EES_2.csv")
	if _, err := Upload(ctx, st, p, now, nil); !errors.As(err, &re) || !strings.Contains(err.Error(), "--amend 2: withdraws EES_old.csv, which version 2 does not hold (version 2 holds "+name+", EES_2.csv; quarantined: EES_bad.csv)") {
		t.Fatalf("withdrawing a file the version lacks: %v", err)
	}
	// A file a version quarantined (version 1 here) may be replaced, not
	// withdrawn (it has no rows), and a file the version holds is sent
	// only to replace it: a run makes such amendments wait.
	p.Submission.Withdraws = []string{"EES_bad.csv"}
	p.Submission.Replaces = nil
	if _, err := Upload(ctx, st, p, now, nil); !errors.As(err, &re) ||
		!strings.Contains(err.Error(), "withdraws EES_bad.csv, which version 2 does not hold; sends "+name+", which version 2 holds: replace it (replaces, or --replace "+name) {
		t.Fatalf("withdrawing a quarantined file, adding a file the version has: %v", err)
	}
	p.Submission.Withdraws = []string{"EES_gone.csv"}
	p.Submission.Replaces = []string{name, "EES_bad.csv"}
	if _, err := Upload(ctx, st, p, now, nil); !errors.As(err, &re) || strings.Contains(err.Error(), "replaces EES_bad") ||
		!strings.Contains(err.Error(), "--amend 2: withdraws EES_gone.csv, which version 2 does not hold (version 2 holds") {
		t.Fatalf("replacing a quarantined file: %v", err)
	}
	p.Submission.Replaces = []string{"EES_nowhere.csv"}
	if _, err := Upload(ctx, st, p, now, nil); !errors.As(err, &re) || !strings.Contains(err.Error(), "replaces EES_nowhere.csv, which version 2 does not hold and no version quarantined") {
		t.Fatalf("replacing a file no version has: %v", err)
	}
	p.Submission.Withdraws = []string{"EES_2.csv"}
	p.Submission.Replaces = []string{name}
	id, err := Upload(ctx, st, p, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	WriteSubmitted(&out, &Result{Store: st.String(), ID: id, Folder: cut.SubmissionDir("BRGT", "ees", id), Submission: p.Submission})
	if !strings.Contains(out.String(), "an amendment of version 2, replacing "+name+", withdrawing EES_2.csv, as at 2026-11-30T06:00:00Z") {
		t.Fatalf("submitted:\n%s", out.String())
	}
	// An amendment that only withdraws sends no files.
	p = prepare(t, d, Request{MPID: "BRGT", Cut: "ees", Amend: 2, Withdraws: []string{"EES_2.csv"}})
	if id, err = Upload(ctx, st, p, now, nil); err != nil || len(p.Submission.Files) != 0 {
		t.Fatalf("withdrawing only: %v, %+v", err, p.Submission)
	}
	if got := keys(t, st, cut.SubmissionDir("BRGT", "ees", id)); !slices.Equal(got, []string{cut.SubmissionKey("BRGT", "ees", id)}) {
		t.Fatalf("withdrawing only uploads submission.json alone: %v", got)
	}
}

func TestAChangedFileIsNotUploaded(t *testing.T) {
	ctx := context.Background()
	d := definitions(t)
	tmp := t.TempDir()
	src := files(t, market(t, 0), "BRGT", "ees")[0]
	other := files(t, market(t, 0), "CRWN", "ees")[0]
	for _, c := range []struct {
		name   string
		change func([]byte) []byte
		want   string
	}{
		{"same size, other bytes", func(b []byte) []byte { b = slices.Clone(b); b[len(b)-2] ^= 1; return b }, "SHA-256 differs"},
		{"longer", func(b []byte) []byte { return append(slices.Clone(b), "x\n"...) }, "changed since it was checked"},
		{"shorter", func(b []byte) []byte { return b[:len(b)-1] }, "changed since it was checked"},
	} {
		st := newStore(t)
		good := copyFile(t, other, tmp, "EES_a.csv", nil)
		f := copyFile(t, src, tmp, "EES_b.csv", nil)
		p := prepare(t, d, Request{MPID: "BRGT", Cut: "ees", Files: []string{good, f}, AllowBroken: true})
		copyFile(t, src, tmp, "EES_b.csv", c.change)
		if _, err := Upload(ctx, st, p, now, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if left := keys(t, st, cut.InboxRoot); len(left) > 0 {
			t.Errorf("%s: a failed upload left %v", c.name, left)
		}
	}
}

func TestWaitPrintsTheReceipt(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	rc := &cut.Receipt{Submission: cut.SubmissionRef{ID: "s1"}, Cut: "mop-mtd", MPID: "MTRA", Status: cut.ReceiptPublished, Version: 3, CutID: "abc",
		Prefix: cut.Prefix("mop-mtd", "MTRA", "abc"), AsAt: "2026-11-30", Latest: true, Rows: map[string]int64{"d0150_289": 40, "d0150_288": 12},
		Rejected: 2, ByRule: map[string]int{"item.mpan-check": 2}, RejectedIn: []string{cut.RejectedKey("mop-mtd", "MTRA", "s1", "D0150_1.dat")},
		Quarantined: []cut.Quarantine{{Input: "inbox/MTRA/mop-mtd/s1/D0149_1.dat", Rule: "trailer.missing", Reason: "no ZPT",
			Key: "quarantine/mop-mtd/mpid=MTRA/s1/files/D0149_1.dat", Report: "reports/mop-mtd/mpid=MTRA/s1/D0149_1.dat.report.json"}},
		Finished: now}
	go func() {
		time.Sleep(150 * time.Millisecond)
		cut.WriteReceipt(ctx, st, rc)
	}()
	start := time.Now()
	got, err := Wait(ctx, st, "mop-mtd", "MTRA", "s1", 10*time.Millisecond)
	if err != nil || time.Since(start) < 150*time.Millisecond {
		t.Fatalf("Wait: %v after %s", err, time.Since(start))
	}
	var out bytes.Buffer
	WriteReceipt(&out, cut.ReceiptKey("mop-mtd", "MTRA", "s1"), got)
	for _, want := range []string{
		"receipt of s1 (reports/mop-mtd/mpid=MTRA/s1/receipt.json)",
		"published version 3 of MTRA's mop-mtd, as at 2026-11-30: the latest version",
		"rows: d0150_288 12, d0150_289 40",
		"rejected: 2 instances (item.mpan-check 2)",
		"quarantine/mop-mtd/mpid=MTRA/s1/rejected/D0150_1.dat",
		"quarantined D0149_1.dat [trailer.missing]: no ZPT",
		"report reports/mop-mtd/mpid=MTRA/s1/D0149_1.dat.report.json",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("receipt lacks %q:\n%s", want, out.String())
		}
	}
	if !(&Result{Receipt: got}).DataErrors() {
		t.Error("a receipt with quarantined files is a data error")
	}
	clean := *got
	clean.Rejected, clean.ByRule, clean.RejectedIn, clean.Quarantined = 0, nil, nil, nil
	if (&Result{Receipt: &clean}).DataErrors() {
		t.Error("a clean receipt is no data error")
	}
	// An amendment counts the rejected instances of the parts it carries
	// over: they are no error of its own, and the receipt says so.
	amend := clean
	amend.Amends, amend.Rejected, amend.ByRule = 2, 1, map[string]int{"item.mpan-check": 1}
	if (&Result{Receipt: &amend}).DataErrors() {
		t.Error("an amendment's carried-over rejections are a data error")
	}
	out.Reset()
	WriteReceipt(&out, "k", &amend)
	if !strings.Contains(out.String(), "rejected: 1 instance (item.mpan-check 1), left out, counting those of the parts carried over from version 2") {
		t.Errorf("an amendment's rejections:\n%s", out.String())
	}
	amend.RejectedIn = got.RejectedIn
	if !(&Result{Receipt: &amend}).DataErrors() {
		t.Error("an amendment's own rejected instances are a data error")
	}
	clean.Status = cut.ReceiptNothingPublished
	if !(&Result{Receipt: &clean}).DataErrors() {
		t.Error("nothing published is a data error")
	}
	out.Reset()
	WriteReceipt(&out, "k", &clean)
	if !strings.Contains(out.String(), "NOTHING PUBLISHED") {
		t.Errorf("nothing published:\n%s", out.String())
	}

	// Cancelling stops the wait at once.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	start = time.Now()
	if _, err := Wait(cctx, st, "mop-mtd", "MTRA", "s2", time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled wait: %v after %s", err, time.Since(start))
	}
	if ok, err := Submitted(ctx, st, "MTRA", "mop-mtd", "s1"); !ok || err != nil {
		t.Fatalf("Submitted with a receipt: %v %v", ok, err)
	}
	if ok, err := Submitted(ctx, st, "MTRA", "mop-mtd", "s2"); ok || err != nil {
		t.Fatalf("Submitted of nothing: %v %v", ok, err)
	}
}

// noAudit refuses to add audit records, as a store whose policies predate
// the participants' submit records does.
type noAudit struct{ store.Store }

func (n noAudit) Put(ctx context.Context, key string, rd io.Reader, size int64) error {
	if strings.HasPrefix(key, audit.Root) {
		return errors.New("refused")
	}
	return n.Store.Put(ctx, key, rd, size)
}

// TestUploadNeedsItsAuditRecord: a submission whose audit record cannot be
// written is not sent (nothing takeable, nothing left).
func TestUploadNeedsItsAuditRecord(t *testing.T) {
	d := definitions(t)
	p := prepare(t, d, Request{MPID: "MTRA", Cut: "mop-mtd", Files: files(t, market(t, 0), "MTRA", "mop-mtd")})
	st := noAudit{newStore(t)}
	if _, err := Upload(context.Background(), st, p, now, nil); !errors.Is(err, ErrAuditRecord) {
		t.Fatalf("upload without its audit record: %v", err)
	}
	if left := keys(t, st, cut.InboxRoot); len(left) > 0 {
		t.Fatalf("left in the inbox: %v", left)
	}
}

// A file whose errors are of the file as a whole (a D0150 without one MPAN)
// is sent, but said to have errors and counted as such, as validate and
// run do: not "OK".
func TestFileErrorsAreNotOK(t *testing.T) {
	f := filepath.Join(t.TempDir(), "D0150_hdr.dat")
	os.WriteFile(f, []byte("ZHV|FIX0150|D0150002|M|MTRA|X|SUPA|20240101120000||||TR01|\nZPT|FIX0150|0||0|20240101120001|\n"), 0o600)
	p := prepare(t, definitions(t), Request{MPID: "MTRA", Cut: "mop-mtd", Files: []string{f}})
	if p.Refused() || p.Files[0].Errors != 1 {
		t.Fatalf("plan %+v", p.Files[0])
	}
	var out bytes.Buffer
	WriteFiles(&out, p.Files)
	if !strings.Contains(out.String(), "ERRORS") || strings.Contains(out.String(), ": OK") || !(&Result{Files: p.Files}).DataErrors() {
		t.Fatalf("report:\n%s", out.String())
	}
}
