package ees_test

import (
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/ees"
)

// Columns are matched by name in any order; rows come out in the
// mapping's order, whatever the file's.
func TestColumnsByName(t *testing.T) {
	a := read(t, "mpan-core,post-code,msn\n1012345678903,AB1 2CD,S12A34567\n")
	b := read(t, "msn,post-code,mpan-core\nS12A34567,AB1 2CD,1012345678903\n")
	c := read(t, "mpan-core\n1012345678903\n")
	for _, r := range []result{a, b, c} {
		if r.broken != nil || len(r.rows) != 1 || len(r.rejected) != 0 {
			t.Fatalf("got %+v", r)
		}
	}
	for _, h := range []string{"mpan-core", "post-code", "msn"} {
		i := col(t, h)
		if string(a.rows[0].Values[i]) != string(b.rows[0].Values[i]) || len(a.rows[0].Values[i]) == 0 {
			t.Errorf("%s: %q and %q", h, a.rows[0].Values[i], b.rows[0].Values[i])
		}
	}
	if v := c.rows[0].Values[col(t, "msn")]; len(v) != 0 {
		t.Errorf("an absent column has value %q", v)
	}
	if string(b.rows[0].MPAN) != "1012345678903" {
		t.Errorf("MPAN %q", b.rows[0].MPAN)
	}
}

// Header problems are all named, by the mapping's names or by position,
// never by the cell's text.
func TestHeaderProblems(t *testing.T) {
	for name, c := range map[string]struct {
		data, rule string
		want, not  []string
	}{
		"no header": {"1460000123591,Jane Canary,1 Canary Row\n1012345678903,x,y\n", ees.RuleNoHeader,
			[]string{"line 1 is not a header row", "known: mpan-core,"}, []string{"1460000123591", "Canary"}},
		"unknown": {"mpan-core,msn,Secret Column Name\n1012345678903,S1,x\n", ees.RuleUnknownColumn,
			[]string{"column 3 is not an EES column", "known: mpan-core"}, []string{"Secret"}},
		"unknowns": {"Secret1,mpan-core,Secret2\n", ees.RuleUnknownColumn,
			[]string{"columns 1, 3 are not"}, []string{"Secret"}},
		"twice": {"mpan-core,msn,post-code,msn\n", ees.RuleDuplicateColumn,
			[]string{"msn appears twice (columns 2 and 4)"}, nil},
		"missing": {"msn,post-code\n", ees.RuleMissingColumn,
			[]string{"lacks required column mpan-core"}, nil},
		"all three": {"msn,Secret,msn\n", ees.RuleUnknownColumn,
			[]string{"column 2 is not", "msn appears twice (columns 1 and 3)", "lacks required column mpan-core"}, []string{"Secret"}},
		"bom": {"\ufeffmpan-core,Secret\n", ees.RuleUnknownColumn, []string{"column 2 is not"}, []string{"Secret", "\ufeff"}},
	} {
		r := read(t, c.data)
		if r.broken == nil || r.broken.Finding.Rule != c.rule || r.broken.Finding.Line != 1 {
			t.Errorf("%s: got %v, want %s on line 1", name, r.broken, c.rule)
			continue
		}
		msg := r.broken.Finding.Message
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not say %q", name, msg, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(msg, n) {
				t.Errorf("%s: %q quotes %q", name, msg, n)
			}
		}
	}
	if r := read(t, "\ufeffmpan-core\n1012345678903\n"); r.broken != nil || len(r.rows) != 1 {
		t.Errorf("a BOM before the header: %+v", r)
	}
}

// Lines ending in CR alone are lines.
func TestCRLineEnds(t *testing.T) {
	for _, data := range []string{
		"mpan-core,post-code\r1012345678903,AB1 2CD\r1012345678904,AB1 2CD\r",
		"mpan-core,post-code\r\n1012345678903,AB1 2CD\r\n1012345678904,AB1 2CD",
		"mpan-core,post-code\n1012345678903,AB1 2CD\r1012345678904,AB1 2CD\n",
	} {
		r := read(t, data)
		if r.broken != nil || len(r.rows) != 2 || r.rows[1].Line != 3 {
			t.Errorf("%q: %+v", data, r)
		}
	}
}

// A CSV error is reported at the line its record starts on.
func TestCSVErrorLine(t *testing.T) {
	for name, c := range map[string]struct {
		data string
		line int
	}{
		"unclosed quote":  {"mpan-core,post-code\n1012345678903,\"AB1\n1012345678904,AB1 2CD\n1012345678905,AB1 2CD\n", 2},
		"bare quote":      {"mpan-core,post-code\n1012345678903,AB1 2CD\n1012345678904,AB\"1\n", 3},
		"long record":     {"mpan-core,post-code\n1012345678903,AB1\n1012345678903,\"" + strings.Repeat("x\n", ees.MaxLine), 3},
		"long line":       {"mpan-core,post-code\n1012345678903," + strings.Repeat("x", ees.MaxLine+10), 2},
		"long line ended": {"mpan-core,post-code\n1012345678903,x\n1012345678903," + strings.Repeat("x", ees.MaxLine+10) + "\n1012345678903,x\n", 3},
		"quoted header":   {"mpan-core,\"post-code\n", 1},
	} {
		r := read(t, c.data)
		if r.broken == nil || r.broken.Finding.Rule != ees.RuleCSV || r.broken.Finding.Line != c.line {
			t.Errorf("%s: got %v, want %s on line %d", name, r.broken, ees.RuleCSV, c.line)
		}
	}
}
