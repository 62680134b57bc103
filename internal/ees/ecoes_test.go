package ees_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
)

// ECOES's own headings, in any case and spacing, and the aliases of
// ees-columns.yaml name the same columns as ours.
func TestHeadingAliasesAndSpelling(t *testing.T) {
	ours := read(t, "mpan-core,msn,post-code,registration-from,mop\n1012345678903,S12A34567,AB1 2CD,01/04/2023,MOPA\n")
	theirs := read(t, "MPAN Core,Meter Serial Number,POST_CODE, Supplier Effective From Date ,MOP Id\n1012345678903,S12A34567,AB1 2CD,01/04/2023,MOPA\n")
	for _, r := range []result{ours, theirs} {
		if r.broken != nil || len(r.rows) != 1 || len(r.rejected) != 0 {
			t.Fatalf("got %+v", r)
		}
	}
	for _, h := range []string{"mpan-core", "msn", "post-code", "registration-from", "mop"} {
		i := col(t, h)
		if a, b := string(ours.rows[0].Values[i]), string(theirs.rows[0].Values[i]); a != b || a == "" {
			t.Errorf("%s: %q and %q", h, a, b)
		}
	}
}

// An unknown heading is refused with the closest of our names, and the
// message quotes none of the file's text.
func TestUnknownHeadingSuggestsClosest(t *testing.T) {
	r := read(t, "mpan-core,Post Kode,Secret Thing\n1012345678903,AB1 2CD,x\n")
	if r.broken == nil || r.broken.Finding.Rule != ees.RuleUnknownColumn {
		t.Fatalf("got %+v", r.broken)
	}
	msg := r.broken.Finding.Message
	if !strings.Contains(msg, "closest known names, column 2: post-code, ") || !strings.Contains(msg, "column 3: ") {
		t.Fatalf("message %q", msg)
	}
	if strings.Contains(msg, "Kode") || strings.Contains(msg, "Secret") {
		t.Fatalf("message quotes the file: %q", msg)
	}
}

// ECOES dates: dd/mm/yyyy (before late 2025) and yyyymmdd (since) both
// read as the same date; an empty DIP id is no error.
func TestECOESDateFormsAndEmptyDIPIds(t *testing.T) {
	r := read(t, "mpan-core,registration-from,mtc-date,supplier-dip,Data Service Dip Id,Metering Service Dip Id,dno-dip\n"+
		"1012345678903,01/12/2025,20251201,,,,\n"+
		"2300000000019,20251201,01/12/2025,SUPPLIERD1,,DIPMS00001,\n")
	if r.broken != nil || len(r.rows) != 2 || len(r.rejected) != 0 {
		t.Fatalf("got %+v", r)
	}
	for _, row := range r.rows {
		for _, h := range []string{"registration-from", "mtc-date"} {
			if v := string(row.Values[col(t, h)]); v != "20251201" {
				t.Errorf("row %d %s = %q", row.Ordinal, h, v)
			}
		}
	}
}

// ecoesRow is one data row of the layout: every column's value valid (an
// MPAN core, dates in yyyymmdd or dd/mm/yyyy, empty DIP ids).
func ecoesRow(t *testing.T, layout []string, core string) string {
	vals := map[string]string{"mpan-core": core, "post-code": "AB1 2CD", "supplier": "BRGT", "registration-from": "20251201",
		"mtc": "845", "mtc-date": "01/12/2025", "pc": "01", "energisation-status": "E", "msn": "S12A34567", "meter-install-date": "20200101"}
	var out []string
	for _, h := range layout {
		out = append(out, vals[h])
	}
	return strings.Join(out, ",")
}

func layout(t *testing.T, name string) []string {
	cols, _ := columns(t)
	for _, l := range cols.Layouts {
		if l.Name == name {
			return l.Columns
		}
	}
	t.Fatalf("no layout %s", name)
	return nil
}

// An export whose title row names no column is read by position, with the
// layout whose column count its rows have, and says so.
func TestPositionalLayouts(t *testing.T) {
	for _, name := range []string{"ecoes-mhhs", "ecoes-legacy"} {
		t.Run(name, func(t *testing.T) {
			l := layout(t, name)
			data := "ECOES Portfolio Download\n" + ecoesRow(t, l, "1012345678903") + "\n" + ecoesRow(t, l, "2300000000019") + "\n"
			cols, resolve := columns(t)
			rd := ees.NewReader(strings.NewReader(data), "p.csv", cols, resolve)
			var lines []int
			for {
				row, err := rd.Next()
				if err != nil {
					if err.Error() != "EOF" {
						t.Fatal(err)
					}
					break
				}
				if row.Rejected() {
					t.Fatalf("row %d rejected: %v", row.Line, row.Findings)
				}
				if got := string(row.Values[col(t, "msn")]); got != "S12A34567" {
					t.Fatalf("msn %q", got)
				}
				lines = append(lines, row.Line)
			}
			if len(lines) != 2 || lines[0] != 2 || lines[1] != 3 {
				t.Fatalf("rows at lines %v", lines)
			}
			ff := rd.FileFindings()
			if len(ff) != 1 || ff[0].Rule != ees.RulePositional || ff[0].Severity != dflow.SevWarning || !strings.Contains(ff[0].Message, name) {
				t.Fatalf("file findings %v", ff)
			}
		})
	}
	// A first line that is data (it holds an MPAN core) is never skipped
	// as a title: the file has no header row.
	l := layout(t, "ecoes-legacy")
	r := read(t, ecoesRow(t, l, "1012345678903")+"\n"+ecoesRow(t, l, "2300000000019")+"\n")
	if r.broken == nil || r.broken.Finding.Rule != ees.RuleNoHeader {
		t.Fatalf("headerless export: %+v", r)
	}
	// No layout fits: still not a header row.
	r = read(t, "ECOES Portfolio Download\n1012345678903,x,y\n")
	if r.broken == nil || r.broken.Finding.Rule != ees.RuleNoHeader || !strings.Contains(r.broken.Finding.Message, "tried ecoes-mhhs (47 columns after 1 title rows)") {
		t.Fatalf("got %+v", r.broken)
	}
}

// Aliases and layouts are checked like the rest of the mapping.
func TestAliasAndLayoutLint(t *testing.T) {
	cat := dflow.DefaultCatalog()
	base := "columns:\n  mpan-core: J0003\n  msn: J0004\n  post-code: J0263\n"
	for _, tc := range []struct{ name, add, want string }{
		{"alias of no column", "aliases:\n  mpn: [MPAN]\n", `aliases of "mpn": no such column`},
		{"alias that is a name", "aliases:\n  msn: [Post Code]\n", `alias "Post Code" of "msn" is already a name of "post-code"`},
		{"alias twice", "aliases:\n  msn: [Meter]\n  post-code: [meter]\n", `alias "meter" of "post-code" is already a name of "msn"`},
		{"two names one heading", "  MSN: J0004\n", `column "MSN" is column "msn" written another way`},
		{"layout of unknown column", "positional:\n  - {name: a, title_rows: 1, columns: [mpan-core, nope]}\n", `column "nope" is not a column of the mapping`},
		{"layout without required", "positional:\n  - {name: a, title_rows: 1, columns: [msn]}\n", `lacks required column "mpan-core"`},
		{"layout key", "positional:\n  - {name: a, rows: 1, columns: [mpan-core]}\n", `unknown key "rows"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ees.ParseColumns("c.yaml", []byte(base+tc.add), cat)
			var de *defs.Error
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	c, err := ees.ParseColumns("c.yaml", []byte(base+"aliases:\n  msn: [Meter Serial Number]\npositional:\n  - {name: a, title_rows: 0, columns: [mpan-core, msn]}\n"), cat)
	if err != nil || len(c.Layouts) != 1 {
		t.Fatalf("valid: %v %+v", err, c)
	}
	if h, ok := c.Lookup(" meter  serial_number "); !ok || h != "msn" {
		t.Fatalf("lookup %q %v", h, ok)
	}
}
