package ees_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
)

func TestLoadColumnsFS(t *testing.T) {
	cat := dflow.DefaultCatalog()
	dir := filepath.Join("..", "..", "pipelines")
	fromFS, err := ees.LoadColumnsFS(os.DirFS(dir), "ees-columns.yaml", cat)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := ees.LoadColumns(filepath.Join(dir, "ees-columns.yaml"), cat)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(fromFS.Refs(), ",") != strings.Join(fromFile.Refs(), ",") || len(fromFS.Extra) != len(fromFile.Extra) || len(fromFS.Extra) == 0 {
		t.Fatalf("LoadColumnsFS and LoadColumns disagree")
	}
	if _, err := ees.LoadColumnsFS(fstest.MapFS{}, "ees-columns.yaml", cat); err == nil || !strings.Contains(err.Error(), "reading ees-columns.yaml") {
		t.Fatalf("a missing file: %v", err)
	}
}

func TestColumnsErrorsAtLineAndColumn(t *testing.T) {
	cat := dflow.DefaultCatalog()
	src := "columns:\n  mpan-core: J0003\n  dip: EES.dip\n  odd: J9999\n  bad: EES.bad\n" +
		"extra_items:\n  EES.dip: {name: DIP id, format: CHAR(10)}\n  EES.bad: {name: Bad, format: WHAT(3)}\n" +
		"  J0003: {name: MPAN, format: CHAR(13)}\n  EES.x: {name: X, format: CHAR(1), colour: red}\n"
	_, err := ees.ParseColumns("c.yaml", []byte(src), cat)
	var de *defs.Error
	if !errors.As(err, &de) || len(de.Problems) != 1 || de.Problems[0].String() != `c.yaml:10:37: unknown key "colour" (known here: format, name)` {
		t.Fatalf("unknown key: %v", err)
	}
	src = strings.Replace(src, ", colour: red", "", 1)
	_, err = ees.ParseColumns("c.yaml", []byte(src), cat)
	if !errors.As(err, &de) {
		t.Fatalf("want *defs.Error, got %v", err)
	}
	var got []string
	for _, p := range de.Problems {
		got = append(got, p.String())
	}
	want := []string{
		"c.yaml:8:24: extra item EES.bad: ",
		"c.yaml:9:3: extra item J0003 is a DTC item: map the column to it directly",
		`c.yaml:4:8: column "odd" maps to J9999, which is neither a DTC item nor an extra item`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d: got %q, want %q...", i, got[i], want[i])
		}
	}
	if c, err := ees.ParseColumns("c.yaml", []byte("columns:\n  mpan-core: J0003\n"), cat); err != nil || c.Header["mpan-core"] != "J0003" {
		t.Fatalf("got %v, %v", c, err)
	}
	if _, err := ees.ParseColumns("c.yaml", []byte("required: [mpan-core, msn]\ncolumns:\n  mpan-core: J0003\n"), cat); err == nil || !strings.Contains(err.Error(), `c.yaml:1:23: required column "msn" is not among the columns`) {
		t.Fatalf("a required column not in the mapping: %v", err)
	}
	if c, err := ees.ParseColumns("c.yaml", []byte("columns:\n  msn: J0004\n  mpan-core: J0003\n"), cat); err != nil || strings.Join(c.Order, ",") != "msn,mpan-core" || strings.Join(c.Required, ",") != "mpan-core" {
		t.Fatalf("order and default required: %+v, %v", c, err)
	}
}
