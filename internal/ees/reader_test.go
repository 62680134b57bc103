package ees_test

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
)

func columns(t testing.TB) (*ees.Columns, func(string) *dflow.Item) {
	cat := dflow.DefaultCatalog()
	cols, err := ees.LoadColumns(filepath.Join("..", "..", "pipelines", "ees-columns.yaml"), cat)
	if err != nil {
		t.Fatal(err)
	}
	return cols, func(ref string) *dflow.Item {
		if it := cat.Item(ref); it != nil {
			return it
		}
		return cols.Extra[ref]
	}
}

const sample = "mpan-core,address-line-1,post-code,registration-from,Domestic Premises Indicator,msn,supplier\n" +
	"1012345678903,1 High Street,AB1 2CD,01/04/2023,true,S12A34567,BRGT\n" +
	"1012345678904,2 High Street,AB1 2CD,20230401,N,S12A34568,BRGT\n" +
	"2300000000019,3 High Street,AB1 2CD,31/02/2023,false,,BRGT\n" +
	"\"2300000000019\",\"4, High Street\",AB1 2CD,20230401,maybe,,BRGT\n"

type result struct {
	rows     []ees.Row
	rejected []string
	broken   *dflow.BrokenError
}

func read(t *testing.T, data string) result {
	cols, res := columns(t)
	r := ees.NewReader(strings.NewReader(data), "t.csv", cols, res)
	var out result
	for {
		row, err := r.Next()
		if err == io.EOF {
			return out
		}
		if errors.As(err, &out.broken) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		cp := *row
		cp.MPAN = append([]byte(nil), row.MPAN...)
		cp.Values = append([][]byte(nil), row.Values...)
		for i := range cp.Values {
			cp.Values[i] = append([]byte(nil), row.Values[i]...)
		}
		out.rows = append(out.rows, cp)
		if row.Rejected() {
			out.rejected = append(out.rejected, row.Findings[0].Rule)
		}
	}
}

func TestRowsValidateAndNormalise(t *testing.T) {
	res := read(t, sample)
	if res.broken != nil || len(res.rows) != 4 {
		t.Fatalf("broken %v, %d rows", res.broken, len(res.rows))
	}
	if got := strings.Join(res.rejected, ","); got != dflow.RuleMPANCheck+","+dflow.RuleDate+","+dflow.RuleBoolean {
		t.Fatalf("rejections %s", got)
	}
	r := res.rows[0]
	if string(r.Values[3]) != "20230401" || string(r.Values[4]) != "T" || string(r.MPAN) != "1012345678903" || r.Line != 2 {
		t.Fatalf("row 1 = %q line %d", r.Values, r.Line)
	}
	if string(res.rows[1].Values[4]) != "F" || res.rows[3].Line != 5 {
		t.Fatal("N is false; lines count from the header")
	}
	for _, f := range res.rows[2].Findings {
		if strings.Contains(f.Message, "31/02") || strings.Contains(f.Message, "2300000000019") {
			t.Fatalf("finding leaks a value: %s", f.Message)
		}
	}
}

func TestBrokenFiles(t *testing.T) {
	for name, c := range map[string]struct{ data, rule string }{
		"empty":          {"", dflow.RuleHeaderMissing},
		"unknown column": {"mpan-core,favourite-colour\n1012345678903,red\n", ees.RuleUnknownColumn},
		"no mpan":        {"post-code\nAB1 2CD\n", dflow.RuleHeaderMalformed},
		"bad quote":      {"mpan-core,post-code\n1012345678903,\"AB1\n", ees.RuleCSV},
		"long line":      {"mpan-core,post-code\n1012345678903," + strings.Repeat("x", ees.MaxLine+10), ees.RuleCSV},
	} {
		res := read(t, c.data)
		if res.broken == nil || res.broken.Finding.Rule != c.rule {
			t.Errorf("%s: got %v, want %s", name, res.broken, c.rule)
		}
	}
	// A short row is rejected, not the file.
	res := read(t, "mpan-core,post-code\n1012345678903\n1012345678903,AB1 2CD\n")
	if res.broken != nil || len(res.rejected) != 1 || res.rejected[0] != dflow.RuleFieldCount {
		t.Fatalf("short row: %+v", res)
	}
}

func TestArrowTable(t *testing.T) {
	cols, resolve := columns(t)
	r := ees.NewReader(strings.NewReader(sample), "t.csv", cols, resolve)
	cs, _ := r.Columns()
	b := ees.NewArrowBuilder(cs)
	defer b.Release()
	for {
		row, err := r.Next()
		if err != nil {
			break
		}
		if !row.Rejected() {
			if err := b.Append("t.csv", row); err != nil {
				t.Fatal(err)
			}
		}
	}
	rec := b.Record()
	defer rec.Release()
	if rec.NumRows() != 1 || rec.Schema().Field(5).Name != "mpan_core" || rec.Schema().Field(8).Type.String() != "date32" {
		t.Fatalf("record %v", rec.Schema())
	}
	if ref, _ := rec.Schema().Field(10).Metadata.GetValue(dflow.MetaRef); ref != "J0004" {
		t.Fatalf("msn ref %s", ref)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("mpan-core\n\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cols, res := columns(t)
		r := ees.NewReader(strings.NewReader(string(data)), "f.csv", cols, res)
		for i := 0; ; i++ {
			if i > len(data)+2 {
				t.Fatal("no progress")
			}
			row, err := r.Next()
			if err != nil {
				var be *dflow.BrokenError
				if err != io.EOF && !errors.As(err, &be) {
					t.Fatalf("error %v", err)
				}
				return
			}
			if len(row.Findings) > dflow.MaxInstanceFindings {
				t.Fatal("unbounded findings")
			}
		}
	})
}
