package ees_test

import (
	"bytes"
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

// col is the index of the mapping's column h in a row's values.
func col(t testing.TB, h string) int {
	cols, _ := columns(t)
	for i, o := range cols.Order {
		if o == h {
			return i
		}
	}
	t.Fatalf("no column %s", h)
	return -1
}

func TestRowsValidateAndNormalise(t *testing.T) {
	res := read(t, sample)
	reg, dom := col(t, "registration-from"), col(t, "Domestic Premises Indicator")
	if res.broken != nil || len(res.rows) != 4 {
		t.Fatalf("broken %v, %d rows", res.broken, len(res.rows))
	}
	if got := strings.Join(res.rejected, ","); got != dflow.RuleMPANCheck+","+dflow.RuleDate+","+dflow.RuleBoolean {
		t.Fatalf("rejections %s", got)
	}
	r := res.rows[0]
	if string(r.Values[reg]) != "20230401" || string(r.Values[dom]) != "T" || string(r.MPAN) != "1012345678903" || r.Line != 2 {
		t.Fatalf("row 1 = %q line %d", r.Values, r.Line)
	}
	if string(res.rows[1].Values[dom]) != "F" || res.rows[3].Line != 5 {
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
		"no mpan":        {"post-code\nAB1 2CD\n", ees.RuleMissingColumn},
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
	sc := rec.Schema()
	if rec.NumRows() != 1 || sc.NumFields() != dflow.LineageColumns+len(cols.Order) || sc.Field(dflow.LineageColumns).Name != "mpan_core" ||
		sc.Field(dflow.LineageColumns+col(t, "registration-from")).Type.String() != "date32" {
		t.Fatalf("record %v", sc)
	}
	msn := dflow.LineageColumns + col(t, "msn")
	if ref, _ := sc.Field(msn).Metadata.GetValue(dflow.MetaRef); ref != "J0004" {
		t.Fatalf("msn ref %s", ref)
	}
	if ad := rec.Column(dflow.LineageColumns + col(t, "address-line-9")); ad.NullN() != 1 {
		t.Fatalf("a column the file does not have is null: %v", ad)
	}
}

// FuzzReader: no input makes the reader panic or stop making progress,
// findings are bounded, no error or finding quotes an input cell (of
// more than 3 characters, other than a column name or words the messages
// use themselves), and its CSV reader reads every record, line and error
// as encoding/csv did.
func FuzzReader(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("mpan-core\n\"\n"))
	// ECOES as exported: its headings, an unknown one, a title row read by
	// position (32 columns), yyyymmdd dates and empty DIP ids.
	f.Add([]byte("MPAN Core,Meter Serial Number,Post Kode,supplier-dip,Supplier Effective From Date\n1012345678903,S1,AB1 2CD,,20251201\n"))
	f.Add([]byte("Portfolio Report\n1012345678903,,,,,,,,,,AB1 2CD,BRGT,20251201,845,01/12/2025,,,01,,,E,,,,,,,,S1,20200101,,\n"))
	cols, res := columns(f)
	vocab := messageVocabulary(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := ees.CSVRecords(string(data)), ees.ReferenceCSVRecords(string(data)); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("CSV read as\n%q, encoding/csv read\n%q", got, want)
		}
		r := ees.NewReader(bytes.NewReader(data), "f.csv", cols, res)
		cells := inputCells(data, cols, vocab)
		said := func(msg string) {
			for _, c := range cells {
				if strings.Contains(msg, c) {
					t.Fatalf("message quotes input cell %q: %s", c, msg)
				}
			}
		}
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
				if be != nil {
					said(be.Error())
				}
				return
			}
			if len(row.Findings) > dflow.MaxInstanceFindings {
				t.Fatal("unbounded findings")
			}
			for _, fd := range row.Findings {
				said(fd.String())
			}
		}
	})
}

// inputCells are the data's cells (split at commas, quotes and line ends)
// that a message must not quote: longer than 3 characters, not a column
// name, not part of the messages' own words (vocab), not a number short
// enough to be a line or position.
func inputCells(data []byte, cols *ees.Columns, vocab string) []string {
	var out []string
	for _, c := range strings.FieldsFunc(string(data), func(r rune) bool { return r == ',' || r == '"' || r == '\n' || r == '\r' }) {
		c = strings.TrimSpace(c)
		if len(c) <= 3 || strings.Contains(vocab, c) {
			continue
		}
		if _, ok := cols.Header[c]; ok {
			continue
		}
		if len(c) <= 7 && strings.Trim(c, "0123456789") == "" {
			continue
		}
		out = append(out, c)
	}
	return out
}

// messageVocabulary is the text the reader's messages are made of: what it
// says of a set of bad files, the rule ids, the valid sets it may list.
func messageVocabulary(t testing.TB) string {
	cols, res := columns(t)
	var b strings.Builder
	for _, data := range []string{"", "x\n", "mpan-core,x,msn,msn\n", "msn\n", "mpan-core\n\"x\n", "mpan-core\nx\"y\n", "mpan-core\n\"x\"y\n",
		"mpan-core\n\"" + strings.Repeat("x", ees.MaxLine+1),
		sample, "mpan-core,registration-from,Domestic Premises Indicator,post-code,pc,llfc\n1,x,x," + strings.Repeat("x", 20) + ",-1,1.5\n\xff\n1012345678903,-1,+1\n"} {
		r := ees.NewReader(strings.NewReader(data), "f.csv", cols, res)
		for {
			row, err := r.Next()
			var be *dflow.BrokenError
			if errors.As(err, &be) {
				b.WriteString(be.Error() + "\n")
			}
			if err != nil {
				break
			}
			for _, fd := range row.Findings {
				b.WriteString(fd.String() + "\n")
			}
		}
	}
	b.WriteString(strings.Join([]string{ees.RuleCSV, ees.RuleNoHeader, ees.RuleUnknownColumn, ees.RuleDuplicateColumn, ees.RuleMissingColumn}, "\n"))
	for _, h := range cols.Order {
		if it := res(cols.Header[h]); it != nil {
			b.WriteString("\n" + it.Name + " " + it.Format.String() + " " + strings.Join(it.ValidSet, ", "))
		}
	}
	return b.String()
}
