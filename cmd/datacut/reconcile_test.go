package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/reconcile"
)

// reconcile on a clean market exits 0; with cross faults it exits 1, lists
// the findings per rule and participant, and the same cuts give the same
// run; a rules file that names what does not exist is a usage error.
func TestReconcileCommand(t *testing.T) {
	t.Setenv(mask.KeyEnv, testKey)
	ctx := context.Background()
	clean, faulty := t.TempDir(), t.TempDir()
	for _, c := range []struct {
		dir   string
		cross string
	}{{clean, "0"}, {faulty, "0.05"}} {
		if code, out, errs := execDatacut(ctx, "synth", "--store", c.dir, "--mpans", "1500", "--cross-faults", c.cross); code != cli.ExitOK {
			t.Fatalf("synth: exit %d\n%s%s", code, out, errs)
		}
		if code, out, errs := execDatacut(ctx, "run", "--store", c.dir); code != cli.ExitOK {
			t.Fatalf("run: exit %d\n%s%s", code, out, errs)
		}
	}
	code, out, errs := execDatacut(ctx, "reconcile", "--store", clean)
	if code != cli.ExitOK || !strings.Contains(out, "0 findings (0 errors") {
		t.Fatalf("clean market: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = execDatacut(ctx, "reconcile", "--store", faulty)
	if code != cli.ExitData || !regexp.MustCompile(`(?m)^supplier\s+compare\s+error\s+[1-9]`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^MTR[A-D]\s+[1-9]\d*\s+reconciliation/\w+/worklists/MTR[A-D]\.csv$`).MatchString(out) {
		t.Fatalf("market with cross faults: exit %d\n%s%s", code, out, errs)
	}
	run := regexp.MustCompile(`run (reconciliation/\w+/)`).FindStringSubmatch(out)
	if run == nil {
		t.Fatalf("no run named:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(faulty, run[1], reconcile.ManifestFile)); err != nil {
		t.Fatal(err)
	}
	code, js, _ := execDatacut(ctx, "reconcile", "--store", faulty, "--json")
	var m reconcile.Manifest
	if err := json.Unmarshal([]byte(js), &m); err != nil || code != cli.ExitData || reconcile.Prefix(m.ID) != run[1] || m.Totals.Errors == 0 {
		t.Fatalf("--json: exit %d, %v, run %s (first %s)\n%s", code, err, m.ID, run[1], js)
	}
	// datacut status shows each participant its open findings of the run,
	// as many as the manifest counts, and where its worklist is.
	code, st, errs := execDatacut(ctx, "status", "--store", faulty)
	if code != cli.ExitOK || !strings.Contains(st, "open findings, reconciliation "+m.ID+" of ") {
		t.Fatalf("status after reconcile: exit %d\n%s%s", code, st, errs)
	}
	for _, p := range m.Totals.ByMPID {
		errors := 0
		for rule, n := range p.ByRule {
			for _, r := range m.Totals.ByRule {
				if r.Rule == rule && r.Severity == reconcile.SevError {
					errors += n
				}
			}
		}
		line := fmt.Sprintf("  %-4s %7d %8d  %s\n", p.MPID, errors, p.Findings-errors, reconcile.WorklistKey(m.ID, p.MPID))
		if !strings.Contains(st, line) {
			t.Errorf("status does not say %q:\n%s", line, st)
		}
	}
	bad := filepath.Join(t.TempDir(), "rules.yaml")
	b, _ := os.ReadFile("../../pipelines/reconcile.yaml")
	os.WriteFile(bad, []byte(strings.Replace(string(b), "kind: orphan", "kind: orphans", 1)), 0o600)
	wantUsage(t, []string{"reconcile", "--store", faulty, "--rules", bad}, "rules.yaml:", `kind "orphans" is not one of compare, missing, orphan, linked, customer-missing`)
}

// The help's examples work on the demo's data, in a folder beside a copy
// of the definitions: each reconcile exits 1 (the demo's faults).
func TestReconcileHelpExamples(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "d")
	if err := os.MkdirAll(filepath.Join(root, "pipelines"), 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../pipelines/reconcile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "pipelines", "reconcile.yaml"), b, 0o600)
	t.Setenv(mask.KeyEnv, "")
	var demo strings.Builder
	if err := runDemo(context.Background(), &demoOptions{dir: filepath.Join(dir, "data"), mpans: 1500}, &demo); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	ran := 0
	for _, line := range strings.Split(newReconcileCmd().Example, "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "datacut" || fields[1] != "reconcile" {
			continue
		}
		code, out, errs := execDatacut(context.Background(), fields[1:]...)
		if code != cli.ExitData || errs != "" || !strings.Contains(out, "errors") {
			t.Errorf("%s: exit %d\n%s%s", line, code, out, errs)
		}
		ran++
	}
	if ran != 3 {
		t.Fatalf("ran %d examples, want 3", ran)
	}
}
