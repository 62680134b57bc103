package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cli"
)

func execute(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := newRootCmd()
	var out, errs bytes.Buffer
	root.SetOut(&out)
	code = cli.Execute(context.Background(), root, args, &errs)
	return code, out.String(), errs.String()
}

func TestCommandLine(t *testing.T) {
	store := t.TempDir()
	missing := filepath.Join(store, "typo")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: bad\nsi: MHSI\nsources: {cuts: [ees]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA]}\n  demands:\n  - {name: d, count: 1, filter: {segment: Q}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plans := map[string]string{
		"fraction.yaml": "name: f\nsi: MHSI\nsources: {cuts: [ees]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA]}\n  demands:\n  - {name: d, count: 2.5}\n",
		"cuttype.yaml":  "name: c\nsi: MHSI\nsources: {cuts: [ees, mop-mtdd]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA]}\n",
		"ees.yaml":      "name: e\nsi: MHSI\nsources: {cuts: [ees]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA], ees: [ECOE]}\n",
		"eesper.yaml":   "name: e\nsi: MHSI\nsources: {cuts: [ees]}\npolicy: {reappoint: [ees]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA], ees: [ECOE]}\n",
	}
	for name, text := range plans {
		if err := os.WriteFile(filepath.Join(store, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fraction, cuttype := filepath.Join(store, "fraction.yaml"), filepath.Join(store, "cuttype.yaml")
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"bogus"}, cli.ExitUsage, "", `allocate: unknown command "bogus" for "allocate"`},
		{[]string{"reprot"}, cli.ExitUsage, "", "Did you mean this?\n\treport"},
		{[]string{"run"}, cli.ExitUsage, "", "allocate: --plan is required: a plan file, or the name of one in pipelines/plans"},
		{[]string{"run", "sit"}, cli.ExitUsage, "", `unknown command "sit" for "allocate run"`},
		{[]string{"run", "--plan", "nope", "--store", store}, cli.ExitUsage, "", `no plan "nope" in the built-in pipelines`},
		{[]string{"run", "--plan", "sit", "--store", "s3://bucket", "--s3-endpoint", ""}, cli.ExitUsage, "", "DATACUT_S3_ENDPOINT"},
		{[]string{"lint"}, cli.ExitOK, "plans/sit.yaml: ok", ""},
		{[]string{"lint", "--plan", "testdata/national.yaml"}, cli.ExitOK, "testdata/national.yaml: ok", ""},
		{[]string{"lint", "--plan", bad}, cli.ExitUsage, "", bad + `:8:43: environment E demand d: filter segment value "Q" is not one of S, A, U`},
		{[]string{"lint", "--plan", fraction}, cli.ExitUsage, "", fraction + ":8:22: cannot unmarshal !!float `2.5` into int: a whole number is needed"},
		{[]string{"lint", "--plan", cuttype}, cli.ExitUsage, "", cuttype + `:3:23: sources.cuts: unknown cut type "mop-mtdd" (one of ees, mop-mtd, `},
		// The EES, a central system, is onboarded like any role, never re-appointed.
		{[]string{"lint", "--plan", filepath.Join(store, "ees.yaml")}, cli.ExitOK, "ees.yaml: ok", ""},
		{[]string{"lint", "--plan", filepath.Join(store, "eesper.yaml")}, cli.ExitUsage, "", "eesper.yaml:4:22: policy.reappoint: ees is a central system"},
		{[]string{"report"}, cli.ExitUsage, "", "--plan is required"},
		{[]string{"report", "--plan", "sit", "--format", "pdf", "--store", store}, cli.ExitUsage, "", "--format is md, json or html"},
		{[]string{"report", "--plan", "sit", "--store", store}, cli.ExitFailure, "", "allocate: "},
		{[]string{"report", "--plan", "sit", "--store", missing}, cli.ExitUsage, "", "allocate: no store at " + missing + ": check --store"},
		{[]string{"synth-cuts", "--mpans", "0"}, cli.ExitUsage, "", "--mpans must be positive"},
	} {
		code, stdout, stderr := execute(t, c.args...)
		if code != c.code || !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.stderr) {
			t.Errorf("allocate %s: exit %d\nstdout %q\nstderr %q\nwant exit %d, %q, %q", strings.Join(c.args, " "), code, stdout, stderr, c.code, c.stdout, c.stderr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("allocate report made the store %s", missing)
	}
}

// allocate run exits 1 when a demand falls short; allocate report prints
// that run's report and exits 0, so 'report > sit.html' works in scripts;
// release (of the plan or one environment) and rollback move the plan's
// ledger.
func TestReportExitsZeroOnAShortfall(t *testing.T) {
	store := t.TempDir()
	if code, _, errs := execute(t, "synth-cuts", "--mpans", "2000", "--store", store); code != cli.ExitOK {
		t.Fatalf("synth-cuts: exit %d: %s", code, errs)
	}
	if code, _, errs := execute(t, "run", "--plan", "testdata/national.yaml", "--no-packs", "--store", store); code != cli.ExitData {
		t.Fatalf("run of a plan asking more than 2000 MPANs hold: exit %d, want 1: %s", code, errs)
	}
	for _, format := range []string{"md", "json", "html"} {
		code, out, errs := execute(t, "report", "--plan", "national", "--store", store, "--format", format)
		if code != cli.ExitOK || !strings.Contains(out, "SIT-MIG") {
			t.Errorf("report --format %s: exit %d, %d bytes: %s", format, code, len(out), errs)
		}
	}

	// Release frees the run's units, once; rollback holds them again.
	code, out, errs := execute(t, "release", "--plan", "national", "--store", store)
	run, _, _ := strings.Cut(strings.TrimPrefix(out, "released the units of plan national's run "), ":")
	if code != cli.ExitOK || len(run) != 16 {
		t.Fatalf("release: exit %d: %s%s", code, out, errs)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"release", "--plan", "national", "--store", store}, cli.ExitUsage, "holds no units"},
		{[]string{"rollback", "--plan", "national", "--store", store}, cli.ExitUsage, "--to is required"},
		{[]string{"rollback", "--plan", "national", "--to", "nosuchrun", "--store", store}, cli.ExitUsage, "no complete run nosuchrun of plan national"},
		{[]string{"rollback", "--plan", "national", "--to", run, "--store", store}, cli.ExitOK, "latest run is " + run + " again"},
		{[]string{"release", "--plan", "national", "--environment", "SIT-Z", "--store", store}, cli.ExitUsage, `no environment "SIT-Z" (it has SIT-A, `},
		{[]string{"release", "--plan", "national", "--environment", "SIT-A", "--store", store}, cli.ExitOK, "released the units of environment SIT-A of plan national's run " + run},
		{[]string{"release", "--plan", "national", "--environment", "SIT-A", "--store", store}, cli.ExitUsage, "released already"},
	} {
		code, out, errs := execute(t, c.args...)
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("allocate %s: exit %d: %s%s, want %d and %q", strings.Join(c.args, " "), code, out, errs, c.code, c.want)
		}
	}
}
