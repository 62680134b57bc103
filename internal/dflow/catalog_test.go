package dflow_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/dflow/dtcgen"
)

// dtcSource finds the shared DTC extraction: $DTC_SOURCE, or shared/ beside
// the repository (where CI and developers have it).
func dtcSource(t *testing.T) string {
	if s := os.Getenv("DTC_SOURCE"); s != "" {
		return s
	}
	dir, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "dtc", "15.4"))
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatalf("DTC source not found at %s (set DTC_SOURCE): %v", dir, err)
	}
	return dir
}

func TestCatalogueIsFresh(t *testing.T) {
	got, err := dtcgen.Build(dtcSource(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, dflow.CatalogJSON()) {
		t.Fatal("internal/dflow/catalog.json is stale against the shared DTC source: run `go generate ./internal/dflow` and commit")
	}
}

func TestCatalogueResolvesFormats(t *testing.T) {
	cat := dflow.DefaultCatalog()
	if cat.DTCVersion != "15.4" || len(cat.Flows) != 206 {
		t.Fatalf("version %s, %d flows", cat.DTCVersion, len(cat.Flows))
	}
	g := cat.Flow("D0150", "002").Group("290")
	if g.Parent != "288" || g.Level != 2 || g.Min != 0 || g.Max != dflow.Unbounded {
		t.Fatalf("D0150 290: %+v", g)
	}
	// Alias item J1677 has a blank format in the flow; the override resolves it.
	for _, f := range g.Fields {
		if f.Ref == "J1677" && f.Format.Kind != dflow.KindChar {
			t.Fatalf("J1677 format %s", f.Format)
		}
	}
	// Sign and scale come from the item: J0081 EAC is NUM(14,1) in the dictionary.
	if it := cat.Item("J0081"); it.Format.Scale == 0 || it.Type != dflow.TypeDecimal {
		t.Fatalf("J0081 %+v", it)
	}
	for _, ref := range []string{"J0003", "J0083", "J1261", "J2243", "J2244"} {
		if !cat.Item(ref).MPAN {
			t.Errorf("%s should be MPAN-typed", ref)
		}
	}
	if it := cat.Item("J0080"); len(it.ValidSet) != 2 {
		t.Fatalf("J0080 valid set %v", it.ValidSet)
	}
	if f, exact := cat.Nearest("D0150", "009"); f == nil || exact || f.Version != "002" {
		t.Fatalf("Nearest D0150 009 = %v %v", f, exact)
	}
	if f, _ := cat.Nearest("D9999", "001"); f != nil {
		t.Fatal("unknown flow resolved")
	}
}
