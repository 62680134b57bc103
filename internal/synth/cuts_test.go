package synth

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/universe"
	"github.com/mhhs-sit/datacut/pipelines"
)

// TestWriteUniverseCuts: the cuts are published the way the universe finds
// them (internal/cut's keys and manifests), join into a universe of every
// MPAN, and store the EES attribute codes as dictionaries.
func TestWriteUniverseCuts(t *testing.T) {
	ctx := context.Background()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	sum, err := WriteUniverseCuts(ctx, st, UniverseCutsOptions{MPANs: n, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	sources, key, err := universe.Latest(ctx, st, []*cut.Type{types.Named("ees"), types.Named("registration")})
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) != sum.Tables || key != "synthetic-unmasked" {
		t.Fatalf("%d sources (key %q), want %d", len(sources), key, sum.Tables)
	}
	rows := map[string]int64{}
	for _, s := range sources {
		if want := cut.Prefix(s.Cut, s.MPID, "synth00000003000"); s.Prefix != want {
			t.Errorf("cut at %s, want %s", s.Prefix, want)
		}
		tb := s.Manifest.Tables[0]
		if tb.Key != cut.TableKey(s.Prefix, tb.Name) || tb.Bytes == 0 {
			t.Errorf("manifest table %+v", tb)
		}
		rows[s.Cut] += tb.Rows
	}
	if rows["ees"] != n || rows["registration"] != n {
		t.Fatalf("rows per cut %v, want %d each", rows, n)
	}
	u, err := universe.Build(ctx, st, sources, key, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	if u.Stats.MPANs != n || u.Stats.LinkedUnits == 0 {
		t.Fatalf("universe %+v", u.Stats)
	}
	r, err := cut.OpenTable(ctx, st, sources[0].Manifest.Tables[0].Key, memory.DefaultAllocator, pqarrow.ArrowReadProperties{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rg := r.PF.MetaData().RowGroup(0)
	for i, c := range eesColumns {
		cc, err := rg.ColumnChunk(i)
		if err != nil {
			t.Fatal(err)
		}
		dict := cc.HasDictionaryPage()
		switch c.name {
		case "gsp_group", "supplier", "mop", "meter_type", "market_segment_indicator":
			if !dict {
				t.Errorf("column %s is not dictionary-encoded", c.name)
			}
		case "mpan_core":
			if dict {
				t.Errorf("column %s is dictionary-encoded", c.name)
			}
		}
	}
}
