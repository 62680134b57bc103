package dflow_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/dflow/dflowgen"
)

// toTables reads a file into per-group Arrow records.
func toTables(t *testing.T, data []byte, batch int) (*dflow.Reader, map[string][]arrow.Record) {
	t.Helper()
	r := dflow.NewReader(bytes.NewReader(data), "x", dflow.Options{})
	h, err := r.Header()
	if err != nil {
		t.Fatal(err)
	}
	b := dflow.NewArrowBuilder(r.Flow())
	defer b.Release()
	tables := map[string][]arrow.Record{}
	emit := func(g *dflow.Group, rec arrow.Record) error {
		tables[g.Code] = append(tables[g.Code], rec)
		return nil
	}
	for {
		in, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append(h.FileID, in); err != nil {
			t.Fatal(err)
		}
		if err := b.Flush(batch, emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(0, emit); err != nil {
		t.Fatal(err)
	}
	return r, tables
}

func TestEveryFlowRoundTripsThroughArrow(t *testing.T) {
	for _, f := range dflow.DefaultCatalog().Flows {
		t.Run(f.Key(), func(t *testing.T) {
			var src bytes.Buffer
			if err := dflowgen.New(uint64(len(f.Groups))+3).File(&src, f, "ARROW1", 4); err != nil {
				t.Fatal(err)
			}
			r, tables := toTables(t, src.Bytes(), 3)
			h, _ := r.Header()
			var out bytes.Buffer
			w, err := dflow.NewWriter(&out, *h, dflow.WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := dflow.RenderTables(w, f, tables); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(r.Trailer().Checksum, r.Trailer().Completed); err != nil {
				t.Fatal(err)
			}
			for code, recs := range tables {
				child := f.Group(code).ParentG != nil
				for _, rec := range recs {
					if nullable := rec.Schema().Field(2).Nullable; nullable == child || (child && rec.Column(2).NullN() > 0) {
						t.Errorf("group %s: parent_line nullable %v with %d nulls; a child group's is never null", code, nullable, rec.Column(2).NullN())
					}
					rec.Release()
				}
			}
			if !bytes.Equal(out.Bytes(), src.Bytes()) {
				t.Fatalf("Arrow round trip differs:\n%s\nvs\n%s", out.String(), src.String())
			}
		})
	}
}

func TestArrowSchemaCarriesCatalogue(t *testing.T) {
	f := dflow.DefaultCatalog().Flow("D0150", "002")
	s := f.Group("288").Schema()
	wantCols := []string{"source_file_id", "record_line", "parent_line", "instance", "instance_mpan_core",
		"mpan_core", "effective_from_settlement_date_msmtd", "measurement_class_id", "energisation_status"}
	if s.NumFields() != len(wantCols) {
		t.Fatalf("288 schema: %s", s)
	}
	for i, n := range wantCols {
		if s.Field(i).Name != n {
			t.Fatalf("column %d = %s, want %s", i, s.Field(i).Name, n)
		}
	}
	ref, _ := s.Field(5).Metadata.GetValue(dflow.MetaRef)
	name, _ := s.Field(5).Metadata.GetValue(dflow.MetaName)
	if ref != "J0003" || name != "MPAN Core" || s.Field(5).Type.ID() != arrow.STRING {
		t.Fatalf("mpan_core field: %v %s %s", s.Field(5).Type, ref, name)
	}
	if !s.Field(2).Nullable || f.Group("289").Schema().Field(2).Nullable {
		t.Errorf("parent_line should be nullable at level 1 only")
	}
	if s.Field(6).Type.ID() != arrow.DATE32 {
		t.Fatalf("date column type %s", s.Field(6).Type)
	}
	// Typed columns across the catalogue: decimals, ints, bools and timestamps exist.
	seen := map[arrow.Type]bool{}
	for _, fl := range dflow.DefaultCatalog().Flows {
		for _, g := range fl.Groups {
			for i := range g.Fields {
				seen[g.Fields[i].ArrowType().ID()] = true
			}
		}
	}
	for _, id := range []arrow.Type{arrow.STRING, arrow.INT64, arrow.DECIMAL128, arrow.DATE32, arrow.TIMESTAMP, arrow.BOOL} {
		if !seen[id] {
			t.Errorf("no column of type %s in the catalogue", id)
		}
	}
}

func TestColumnName(t *testing.T) {
	for in, want := range map[string]string{
		"Effective from Settlement Date {MSMTD}": "effective_from_settlement_date_msmtd",
		"Meter Id (Serial Number)":               "meter_id_serial_number",
		"3 Phase Indicator":                      "c_3_phase_indicator",
		"Associated Import / Export MSID":        "associated_import_export_msid",
	} {
		if got := dflow.ColumnName(in); got != want {
			t.Errorf("ColumnName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A child record without its parent's line cannot become a row: its
// parent_line column holds no nulls.
func TestArrowBuilderRefusesOrphans(t *testing.T) {
	f := dflow.DefaultCatalog().Flow("D0150", "002")
	b := dflow.NewArrowBuilder(f)
	defer b.Release()
	in := &dflow.Instance{Ordinal: 1, Records: []dflow.Record{{Line: 7, Group: f.Group("289"), Code: "289"}}}
	if err := b.Append("F1", in); err == nil {
		t.Fatal("a child record without a parent line was accepted")
	}
}
