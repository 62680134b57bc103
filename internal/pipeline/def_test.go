package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mhhs-sit/datacut/pipelines"
)

func TestBuiltInPipelinesLint(t *testing.T) {
	set, err := Load(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(set.Names(), ",") != "ees,mop-mtd,registration,supplier-customer" {
		t.Fatalf("pipelines %v", set.Names())
	}
	if flows := set.ByName["mop-mtd"].in.(*dflowInput).flows; !flows["D0150"] || flows["D0204"] {
		t.Fatal("mop-mtd flows")
	}
	// The directory on disk is the same as the embedded one.
	disk, err := Load(os.DirFS(filepath.Join("..", "..", "pipelines")))
	if err != nil || len(disk.ByName) != 4 {
		t.Fatalf("on disk: %v", err)
	}
}

func TestLintErrors(t *testing.T) {
	dpia, _ := pipelines.FS.ReadFile("dpia.yaml")
	cols, _ := pipelines.FS.ReadFile("ees-columns.yaml")
	fsys := func(name, body string) fstest.MapFS {
		return fstest.MapFS{"dpia.yaml": {Data: dpia}, "ees-columns.yaml": {Data: cols}, "cuts/" + name + ".yaml": {Data: []byte(body)}}
	}
	thin := "version: x\ndomains:\n  keep: {method: keep}\nitems:\n  J0003: keep\n"
	for _, c := range []struct{ name, body, want string }{
		{"x", "name: x\nrules: dpia.yaml\ninput:\n  format: dflow\n  flows: [D9999]\ntables: per-group\n", "cuts/x.yaml:5:3: flow D9999 is not in DTC"},
		{"x", "name: y\nrules: dpia.yaml\ninput:\n  format: dflow\n  flows: [D0150]\ntables: per-group\n", "cuts/x.yaml:1:1: name \"y\" must match"},
		{"x", "name: x\nrules: dpia.yaml\ninput:\n  format: xml\ntables: per-group\n", "unknown input format"},
		{"x", "name: x\nrules: dpia.yaml\ninputs: {}\n", `cuts/x.yaml:3:1: unknown key "inputs"`},
		{"x", "name: x\nrules: nope.yaml\ninput:\n  format: dflow\n  flows: [D0150]\ntables: per-group\n", "cuts/x.yaml:2:"},
		{"x", "name: x\nrules: dpia.yaml\ninput:\n  format: dflow\n  flows: [D0150]\n  encoding: latin1\ntables: per-group\n", `cuts/x.yaml:6:3: unknown encoding "latin1" (one of auto, utf-8, windows-1252)`},
		{"x", "name: x\nrules: dpia.yaml\ninput:\n  format: ees-csv\n  columns: ees-columns.yaml\n  encoding: utf-8\ntables: per-group\n", "cuts/x.yaml:6:3: encoding is for the dflow format"},
	} {
		_, err := Load(fsys(c.name, c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.body, err, c.want)
		}
	}
	if _, err := Load(fsys("x", "name: x\nrules: dpia.yaml\ninput:\n  format: dflow\n  flows: [D0150]\n  encoding: windows-1252\ntables: per-group\n")); err != nil {
		t.Errorf("encoding windows-1252: %v", err)
	}
	// Fail-closed: rules that do not cover the flow's items.
	f := fsys("x", "name: x\nrules: thin.yaml\ninput:\n  format: dflow\n  flows: [D0150]\ntables: per-group\n")
	f["thin.yaml"] = &fstest.MapFile{Data: []byte(thin)}
	if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "J0004 (Meter Id)") {
		t.Errorf("coverage: %v", err)
	}
}
