package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/pipelines"
)

// lint checks the register when the definitions have one, says so when
// they do not, and fails on a broken one with its file:line:col.
func TestLintProgramme(t *testing.T) {
	var out bytes.Buffer
	if err := lintProgramme(pipelines.FS, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "programme.yaml: ok (35 organisations, 36 MPIDs; version synthetic-1)\n" {
		t.Errorf("built in: %q", got)
	}

	cuts, err := pipelines.FS.ReadFile("cuts/ees.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"cuts/ees.yaml": {Data: cuts}}
	out.Reset()
	if err := lintProgramme(fsys, &out); err != nil || !strings.Contains(out.String(), "programme.yaml: none (optional") {
		t.Errorf("without a register: %v %q", err, out.String())
	}

	fsys["programme.yaml"] = &fstest.MapFile{Data: []byte("version: x\norganisations:\n  - {name: A, sit: true, mpids: [{mpid: AAAA, roles: [supplier]}]}\nsupplies: {supplier: {mop-mtd: {due: 2027-01-01}}}\n")}
	err = lintProgramme(fsys, &out)
	if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), `programme.yaml:4:23: unknown cut type "mop-mtd" (defined: ees)`) {
		t.Errorf("broken register: %v (exit %d)", err, cli.Code(err))
	}
}

// lint reports the built-in catalogue corrections it checked.
func TestLintCorrections(t *testing.T) {
	var out bytes.Buffer
	if err := lintCorrections(&out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "internal/dflow/corrections.yaml: ok (8 conditional groups; 6 role codes mapped; DTC 15.4)\n" {
		t.Errorf("lint says %q", got)
	}
}

// lint checks the reconciliation rules: the built-in ones pass, one naming
// a table its cut does not publish fails at its line.
func TestLintReconcile(t *testing.T) {
	var out bytes.Buffer
	if err := lintReconcile(pipelines.FS, &out); err != nil || !strings.HasPrefix(out.String(), "reconcile.yaml: ok (") {
		t.Fatalf("built in: %v %q", err, out.String())
	}
	fsys := fstest.MapFS{}
	for _, f := range []string{"cuts/ees.yaml", "cuts/registration.yaml", "cuts/mop-mtd.yaml", "cuts/supplier-customer.yaml", "ees-columns.yaml", "reconcile.yaml"} {
		b, err := pipelines.FS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if f == "reconcile.yaml" {
			b = bytes.Replace(b, []byte("table: d0204_445,"), []byte("table: d0150_445,"), 1)
		}
		fsys[f] = &fstest.MapFile{Data: b}
	}
	err := lintReconcile(fsys, &out)
	if cli.Code(err) != cli.ExitUsage || !regexp.MustCompile(`reconcile.yaml:\d+:\d+: rule energisation: authority names table "d0150_445", which cut type registration does not publish`).MatchString(err.Error()) {
		t.Errorf("broken rules: %v (exit %d)", err, cli.Code(err))
	}
}

// lint checks the roles: the built-in ones pass; a directory's that name a
// route role the catalogue does not route fail at their line, and valid
// ones that differ from the built-in ones are said not to be in use.
func TestLintRoles(t *testing.T) {
	var out bytes.Buffer
	if err := lintRoles(pipelines.FS, &out); err != nil || out.String() != "roles.yaml: ok (6 roles; version 2026.12-2)\n" {
		t.Fatalf("built in: %v %q", err, out.String())
	}
	b, _ := pipelines.FS.ReadFile("roles.yaml")
	for _, c := range []struct{ from, to, want string }{
		{"[HHDA, NHHDA]", "[HHDA, NHHDAA]", `roles.yaml:34:5: role da: the DTC catalogue routes no flow to or from "NHHDAA"`},
		{"[HHDA, NHHDA]", "[HHDA, NHHDA, SVAA]", "roles.yaml: ok (6 roles; version 2026.12-2; they differ from the built-in roles"},
		// A central system has no appointee.
		{"central: true\n", "central: true\n    appointee: supplier\n", "roles.yaml:44:5: role ees: a central role has no appointee"},
	} {
		out.Reset()
		fsys := fstest.MapFS{"roles.yaml": &fstest.MapFile{Data: bytes.Replace(b, []byte(c.from), []byte(c.to), 1)}}
		err := lintRoles(fsys, &out)
		if got := out.String() + fmt.Sprint(err); !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.to, got, c.want)
		}
	}
}
