package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/submit"
	"github.com/mhhs-sit/datacut/internal/synth"
)

// execDatacut runs 'datacut ARGS' the way main does.
func execDatacut(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	code = cli.Execute(ctx, root, args, &errb)
	return code, out.String(), errb.String()
}

// execSubmit runs 'datacut submit ARGS'.
func execSubmit(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	return execDatacut(ctx, append([]string{"submit"}, args...)...)
}

// demoSeed is the seed 'datacut demo' generates its market with: each
// participant's cut is the submission synth-1.
const demoSeed = 1

// demoMarket writes the market 'datacut demo' generates into dir/data,
// without running the pipelines on it: every cut is a submission
// (inbox/<MPID>/<cut>/synth-1/) no run has taken.
func demoMarket(t *testing.T, dir string) *local.Store {
	t.Helper()
	st, err := local.Open(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(context.Background(), st, synth.Options{MPANs: 5000, Seed: demoSeed, FaultRate: 0.005}); err != nil {
		t.Fatal(err)
	}
	return st
}

// demoFile is a data file of the demo market's submission of mpid's cut.
func demoFile(dir, mpid, cutType, name string) string {
	return filepath.Join(dir, "data", filepath.FromSlash(cut.SubmissionDir(mpid, cutType, synth.SubmissionID(demoSeed))), name)
}

// takeLater plays the worker: once a submission other than the market's
// own is ready in the inbox, it writes a receipt (and the version's
// manifest) for it. It stops when the test ends, and says then if the
// receipt could not be written.
func takeLater(t *testing.T, st store.Store, status string) {
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		ctx := context.Background()
		for {
			select {
			case <-stop:
				done <- nil
				return
			case <-time.After(20 * time.Millisecond):
			}
			pending, _, err := cut.ScanInbox(ctx, st, nil)
			if err != nil {
				continue
			}
			for _, p := range pending {
				if p.ID != "" && p.ID != synth.SubmissionID(demoSeed) && p.Waiting == "" {
					done <- publish(st, p.Cut, p.MPID, p.ID, status)
					return
				}
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func publish(st store.Store, cutType, mpid, id, status string) error {
	ctx := context.Background()
	rc := &cut.Receipt{Submission: cut.SubmissionRef{ID: id}, Cut: cutType, MPID: mpid, Status: status, AsAt: "2026-11-30", Finished: time.Now()}
	if status == cut.ReceiptPublished {
		rc.Version, rc.CutID, rc.Latest, rc.Rows = 1, "c1", true, map[string]int64{"ees_portfolio": 7}
		m := &cut.Manifest{Cut: cutType, MPID: mpid, CutID: "c1", Version: 1, AsAt: "2026-11-30", Submission: cut.SubmissionRef{ID: id},
			Inputs: []cut.Input{{Key: cut.SubmissionDir(mpid, cutType, id) + "EES_0001.csv", Submission: id}}}
		if err := cut.WriteManifest(ctx, st, cut.Prefix(cutType, mpid, "c1"), m); err != nil {
			return err
		}
	}
	return cut.WriteReceipt(ctx, st, rc)
}

// TestSubmitHelpExamples runs the help's examples, in their order, in a
// directory of their own: 'datacut demo', each submit, and 'datacut run'
// (the export is the test's environment; the S3 example needs a server).
func TestSubmitHelpExamples(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv(mask.KeyEnv, testKey)
	ctx := context.Background()
	var ran []string
	for _, line := range strings.Split(newSubmitCmd().Example, "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "datacut" || strings.Contains(line, "s3://") {
			continue
		}
		var args []string
		for _, a := range fields[1:] {
			if strings.Contains(a, "*") {
				m, _ := filepath.Glob(a)
				if len(m) == 0 {
					t.Fatalf("%s: %s matches nothing", line, a)
				}
				args = append(args, m...)
				continue
			}
			args = append(args, a)
		}
		want := []int{cli.ExitOK}
		switch {
		case args[0] == "run":
			want = []int{cli.ExitData} // the demo's intended faults: rejected instances, published all the same
		case args[0] == "submit":
			want = []int{cli.ExitOK, cli.ExitData} // files with the demo's faults are sent all the same
		case args[0] == "demo":
			want = []int{cli.ExitOK, cli.ExitData}
		}
		code, out, errOut := execDatacut(ctx, args...)
		if !slices.Contains(want, code) {
			t.Fatalf("%s: exit %d, want %v\n%s%s", line, code, want, out, errOut)
		}
		switch {
		case args[0] == "run":
			// The four submissions are published, and the demo's files
			// are gone from the inbox.
			if n := len(regexp.MustCompile(`(?m)^\S+ +\S+ +\S+ +published `).FindAllString(out, -1)); n != 4 {
				t.Fatalf("%s: %d versions published, want 4:\n%s", line, n, out)
			}
			if _, err := os.Stat(demoFile(".", "IRIS", "ees", "EES_0001.csv")); !os.IsNotExist(err) {
				t.Fatalf("%s: the demo's files are still in the inbox (%v)", line, err)
			}
		case args[0] == "submit" && !strings.Contains(out, "submitted") && !strings.Contains(out, "receipt of iris-1"):
			t.Fatalf("%s: neither sent nor a receipt:\n%s", line, out)
		}
		ran = append(ran, args[0])
	}
	if want := []string{"demo", "submit", "submit", "submit", "submit", "run", "submit"}; !slices.Equal(ran, want) {
		t.Fatalf("ran %v, want %v", ran, want)
	}
	st, err := local.Open("data")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mpid, cut string
		versions  int
	}{{"FRNT", "ees", 2}, {"MTRA", "mop-mtd", 2}, {"IRIS", "ees", 3}} {
		vs, err := cut.Versions(ctx, st, c.cut, c.mpid)
		if err != nil || len(vs) != c.versions {
			t.Fatalf("%s's %s: %d versions, want %d (%v)", c.mpid, c.cut, len(vs), c.versions, err)
		}
	}
}

func TestSubmitWaitsForTheReceipt(t *testing.T) {
	dir := t.TempDir()
	st := demoMarket(t, dir)
	// A clean file (every EES file of the demo has faults on purpose).
	clean, err := local.Open(filepath.Join(dir, "clean"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(context.Background(), clean, synth.Options{MPANs: 2000, Seed: demoSeed, Cuts: []string{synth.CutEES}}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "clean", filepath.FromSlash(cut.SubmissionDir("FRNT", "ees", synth.SubmissionID(demoSeed))), "EES_0001.csv")
	takeLater(t, st, cut.ReceiptPublished)
	code, out, errOut := execSubmit(context.Background(), "--store", st.Root(), "--mpid", "FRNT", "--cut", "ees", "--wait", "--timeout", "20s", file)
	if code != cli.ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"EES_0001.csv: OK", "submitted 2", "published version 1 of FRNT's ees", "rows: ees_portfolio 7"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "waiting up to 20s for the receipt reports/ees/mpid=FRNT/") {
		t.Errorf("stderr: %s", errOut)
	}

	// Nothing published: exit 1, with the receipt as JSON.
	st2 := demoMarket(t, t.TempDir())
	takeLater(t, st2, cut.ReceiptNothingPublished)
	code, out, _ = execSubmit(context.Background(), "--store", st2.Root(), "--mpid", "FRNT", "--cut", "ees", "--wait", "--json", file)
	var res submit.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if code != cli.ExitData || !res.Uploaded || res.Receipt == nil || res.Receipt.Status != cut.ReceiptNothingPublished ||
		len(res.Submission.Files) != 1 || res.Files[0].SHA256 != res.Submission.Files[0].SHA256 || res.ID == "" {
		t.Fatalf("nothing published: exit %d, %+v", code, res)
	}

	// No run comes: the timeout says how to wait again (exit 3); a
	// cancelled context (Ctrl-C) stops the same way.
	code, _, errOut = execSubmit(context.Background(), "--store", st2.Root(), "--mpid", "FRNT", "--cut", "ees", "--id", "late", "--wait", "--timeout", "1s", file)
	if code != cli.ExitFailure || !strings.Contains(errOut, "no receipt after 1s") || !strings.Contains(errOut, "wait again with: datacut submit --store "+st2.Root()+" --mpid FRNT --cut ees --id late --wait") {
		t.Fatalf("timeout: exit %d, %s", code, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	code, _, errOut = execSubmit(ctx, "--store", st2.Root(), "--mpid", "FRNT", "--cut", "ees", "--id", "late", "--wait")
	if code != cli.ExitFailure || !strings.Contains(errOut, "stopped waiting: submission late stays in the inbox") || time.Since(start) > 10*time.Second {
		t.Fatalf("cancelled: exit %d after %s, %s", code, time.Since(start), errOut)
	}
	code, _, errOut = execSubmit(context.Background(), "--store", st2.Root(), "--mpid", "FRNT", "--cut", "ees", "--id", "never-sent", "--wait")
	if code != cli.ExitUsage || !strings.Contains(errOut, "no submission never-sent") {
		t.Fatalf("waiting for what was never sent: exit %d, %s", code, errOut)
	}
}

func TestSubmitRefusals(t *testing.T) {
	dir := t.TempDir()
	st := demoMarket(t, dir)
	inbox := filepath.Join(dir, "data", "inbox")
	ees := demoFile(dir, "FRNT", "ees", "EES_0001.csv")
	s := st.Root()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", s, "--mpid", "FRNT", "--cut", "eees", ees}, `--cut "eees" is not a cut type (one of ees, mop-mtd, registration, supplier-customer)`},
		{[]string{"--store", s, "--mpid", "frnt", "--cut", "ees", ees}, `--mpid "frnt" is not an MPID`},
		{[]string{"--store", s, "--mpid", "FRNT", "--cut", "ees", "--replace", "a.csv", ees}, "give --amend VERSION too"},
		{[]string{"--store", s, "--mpid", "FRNT", "--cut", "ees", "--as-at", "yesterday", ees}, `--as-at: asAt "yesterday"`},
		{[]string{"--store", s, "--mpid", "FRNT", "--cut", "ees", "--timeout", "1m", ees}, "--timeout is for --wait"},
		{[]string{"--store", s, "--mpid", "FRNT", "--cut", "ees", ees, ees}, "two files are called EES_0001.csv"},
		{[]string{"--store", s, "--mpid", "FRNT", "--cut", "ees", "--amend", "3", ees}, "--amend 3: amends version 3 of FRNT's ees, which is not published (none is published yet)"},
		{[]string{"--store", s, "--mpid", "FRNT", "--cut", "ees", "--bogus", ees}, "unknown flag: --bogus"},
	} {
		code, out, errOut := execSubmit(context.Background(), c.args...)
		if code != cli.ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q\n%s", c.args, code, errOut, c.want, out)
		}
	}
	// A file the run would quarantine (an EES export in a MOp's folder):
	// exit 1, nothing sent, and the way out said.
	code, out, _ := execSubmit(context.Background(), "--store", s, "--mpid", "MTRA", "--cut", "ees", ees)
	if code != cli.ExitData || !strings.Contains(out, "BROKEN [header.sender]") || !strings.Contains(out, "not submitted") {
		t.Fatalf("broken: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(inbox, "MTRA", "ees")); !os.IsNotExist(err) {
		t.Fatalf("a refused submission wrote to the inbox: %v", err)
	}
	code, out, _ = execSubmit(context.Background(), "--store", s, "--mpid", "MTRA", "--cut", "ees", "--allow-broken", "--id", "anyway", ees)
	if code != cli.ExitData || !strings.Contains(out, "submitted anyway") {
		t.Fatalf("--allow-broken: exit %d\n%s", code, out)
	}
	code, _, errOut := execSubmit(context.Background(), "--store", s, "--mpid", "MTRA", "--cut", "ees", "--allow-broken", "--id", "anyway", ees)
	if code != cli.ExitUsage || !strings.Contains(errOut, "submission id anyway of MTRA's ees was used already") {
		t.Fatalf("an id twice: exit %d, %s", code, errOut)
	}
}
