package mask

import (
	"bytes"
	"io"
	"sort"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/dflow/dflowgen"
)

func d0150Records(t *testing.T, mem memory.Allocator) map[string]arrow.Record {
	return d0150File(t, mem, 11, "REC1")
}

// d0150File generates a D0150 file of 20 instances and returns its tables
// by group code.
func d0150File(t *testing.T, mem memory.Allocator, seed uint64, fileID string) map[string]arrow.Record {
	f := dflow.DefaultCatalog().Flow("D0150", "002")
	var src bytes.Buffer
	g := dflowgen.New(seed)
	g.EmptyOptional = 0
	if err := g.File(&src, f, fileID, 20); err != nil {
		t.Fatal(err)
	}
	r := dflow.NewReader(&src, "x", dflow.Options{})
	b := dflow.NewArrowBuilder(f)
	defer b.Release()
	for {
		in, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b.Append(fileID, in)
	}
	out := map[string]arrow.Record{}
	b.Flush(0, func(g *dflow.Group, rec arrow.Record) error { out[g.Code] = rec; return nil })
	return out
}

func TestRecordMasksColumnWise(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := testMasker(t, testKeyHex)
	recs := d0150Records(t, mem)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for code, rec := range recs {
		masked, err := m.Record(rec, mem)
		if err != nil {
			t.Fatalf("group %s: %v", code, err)
		}
		if !masked.Schema().Equal(rec.Schema()) || masked.NumRows() != rec.NumRows() {
			t.Fatalf("group %s: schema or rows changed", code)
		}
		for i, f := range rec.Schema().Fields() {
			ref, _ := f.Metadata.GetValue(dflow.MetaRef)
			if f.Name == dflow.ColInstanceMPAN {
				ref = "J0003"
			}
			in, out := rec.Column(i), masked.Column(i)
			for j := 0; j < in.Len(); j++ {
				var want string
				if s, ok := in.(*array.String); ok && ref != "" && !in.IsNull(j) {
					v, err := m.Value(ref, []byte(s.Value(j)), 0)
					if err != nil {
						t.Fatal(err)
					}
					want = string(v)
				} else {
					want = in.ValueStr(j)
				}
				if m.rules.Items[ref] != nil && m.rules.Items[ref].Domain.Method == MethodBlank {
					want = array.NullValueStr
				}
				if got := out.ValueStr(j); got != want {
					t.Fatalf("group %s column %s row %d: %q, want %q", code, f.Name, j, got, want)
				}
			}
		}
		// Lineage: the masked instance MPAN equals the masked MPAN of the 288 row.
		if code == "288" {
			mp := masked.Column(5).(*array.String)
			im := masked.Column(4).(*array.String)
			for j := 0; j < mp.Len(); j++ {
				if mp.Value(j) != im.Value(j) || mp.Value(j) == rec.Column(5).(*array.String).Value(j) {
					t.Fatalf("row %d: mpan %s instance mpan %s", j, mp.Value(j), im.Value(j))
				}
			}
		}
		masked.Release()
	}
}

// A session remembers results by instance ordinal (MPANs, meter serials
// and every other cached domain); the next file reuses the ordinals for
// other values, which must not get the first file's results. Every masked
// string must equal what the Masker gives without a session.
func TestSessionMatchesMaskerAcrossFiles(t *testing.T) {
	mem := memory.NewGoAllocator()
	m := testMasker(t, testKeyHex)
	s := m.Session()
	seen := map[string]map[string]bool{}
	for file, seed := range []uint64{11, 12, 11} {
		recs := d0150File(t, mem, seed, "REC"+string(rune('1'+file)))
		codes := make([]string, 0, len(recs))
		for code := range recs {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for _, code := range codes {
			rec := recs[code]
			masked, err := s.Record(rec, mem)
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range rec.Schema().Fields() {
				ref, _ := f.Metadata.GetValue(dflow.MetaRef)
				if f.Name == dflow.ColInstanceMPAN {
					ref = "J0003"
				}
				in, ok := rec.Column(i).(*array.String)
				if ref == "" || !ok {
					continue
				}
				out := masked.Column(i).(*array.String)
				for j := 0; j < in.Len(); j++ {
					if in.IsNull(j) {
						continue
					}
					want, err := m.Value(ref, []byte(in.Value(j)), 0)
					if err != nil {
						t.Fatal(err)
					}
					if out.Value(j) != string(want) {
						t.Fatalf("file %d group %s column %s row %d: %s, want %s", file, code, f.Name, j, out.Value(j), want)
					}
					if seen[ref] == nil {
						seen[ref] = map[string]bool{}
					}
					seen[ref][in.Value(j)] = true
				}
			}
			masked.Release()
		}
		for _, r := range recs {
			r.Release()
		}
	}
	for _, ref := range []string{"J0003", "J0004"} {
		if len(seen[ref]) < 40 {
			t.Errorf("the files share %s values (%d distinct): the test needs different values under the same ordinals", ref, len(seen[ref]))
		}
	}
}

func TestRecordRefusesUnknownColumns(t *testing.T) {
	mem := memory.NewGoAllocator()
	m := testMasker(t, testKeyHex)
	s := arrow.NewSchema([]arrow.Field{{Name: "mystery", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, s)
	b.Field(0).(*array.StringBuilder).Append("x")
	rec := b.NewRecord()
	if _, err := m.Record(rec, mem); err == nil {
		t.Fatal("a column without a J-ref was passed through")
	}
}
