package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cli"
)

// TestDemoThenVerifyCut: the README's main command publishes every cut, and
// the leak check on a published cut finds nothing.
func TestDemoThenVerifyCut(t *testing.T) {
	t.Setenv("DATACUT_MASK_KEY", "")
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runDemo(context.Background(), &demoOptions{dir: dir, mpans: 1500}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"DEMO key", "versions published", "mop-mtd", "registration", "ees", "supplier-customer", "tables:",
		"Corrected and sent as an amendment of version 1", "--amend 1 --replace"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	// the amendment: a second summary with version 2, the latest
	if amended := out.String()[strings.Index(out.String(), "Corrected and sent"):]; !regexp.MustCompile(`published\s+2\*`).MatchString(amended) {
		t.Fatalf("no version 2 after the amendment:\n%s", amended)
	}
	var ls bytes.Buffer
	if err := runLs(context.Background(), &lsOptions{store: cli.StoreFlags{Location: dir}}, "cuts/mop-mtd/", &ls); err != nil {
		t.Fatal(err)
	}
	prefix := regexp.MustCompile(`cuts/mop-mtd/mpid=\w+/cut=\w+/`).FindString(ls.String())
	if prefix == "" {
		t.Fatalf("no published MTD cut:\n%s", ls.String())
	}
	var v bytes.Buffer
	t.Setenv("DATACUT_MASK_KEY", "")
	if err := runVerify(context.Background(), &verifyOptions{cut: prefix, store: cli.StoreFlags{Location: dir}}, &v); err != nil {
		t.Fatalf("verify: %v\n%s", err, v.String())
	}
	if !strings.Contains(v.String(), "no raw sensitive values found") {
		t.Fatal(v.String())
	}
}
