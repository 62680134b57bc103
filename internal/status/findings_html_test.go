package status

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/browsertest"
	"github.com/mhhs-sit/datacut/internal/reconcile"
)

// The page's findings column, opened in headless Chromium, shows each
// row's open findings of the latest reconciliation by severity, with the
// run and the worklist in its title; a row of an MPID with no findings
// shows zeros, and one whose findings were not read a dash.
func TestHTMLFindingsInChromium(t *testing.T) {
	st := fixture(t)
	ctx := context.Background()
	run := reconciled(t, st)
	rows, err := Build(ctx, st, builtInRegister(t), now, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := OpenFindings(ctx, st, []string{"BRGT", "CRWN", "MTRA"})
	if err != nil {
		t.Fatal(err)
	}
	rec.Attach(rows)
	var b bytes.Buffer
	if err := WriteHTML(&b, rows, "synthetic-1", now); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "status.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := browsertest.DumpDOM(t, path)
	if !strings.Contains(dom, "<th>Quarantined</th><th>Open findings</th><th>Waiting submissions</th>") {
		t.Fatal("the table has no Open findings column")
	}
	trs := regexp.MustCompile(`(?s)<tr class="\w+" data-state=.*?</tr>`).FindAllString(dom, -1)
	cell := func(mpid, cutType string) string {
		t.Helper()
		for _, tr := range trs {
			if strings.Contains(tr, "<td>"+mpid+"</td><td>"+cutType+"</td>") {
				if m := regexp.MustCompile(`<td class="n findings"[^>]*>[^<]*</td>`).FindString(tr); m != "" {
					return m
				}
				t.Fatalf("%s %s's row has no findings cell:\n%s", mpid, cutType, tr)
			}
		}
		t.Fatalf("no row for %s %s", mpid, cutType)
		return ""
	}
	worklist := func(mpid string) string { return reconcile.WorklistKey(run, mpid) }
	for _, c := range []struct{ mpid, cut, want string }{
		{"BRGT", "ees", `<td class="n findings" title="reconciliation ` + run + `, worklist ` + worklist("BRGT") + `">2 errors, 0 warnings</td>`},
		{"BRGT", "supplier-customer", `<td class="n findings" title="reconciliation ` + run + `, worklist ` + worklist("BRGT") + `">0 errors, 1 warnings</td>`},
		{"CRWN", "ees", `<td class="n findings" title="reconciliation ` + run + `, worklist ` + worklist("CRWN") + `">1 errors, 0 warnings</td>`},
		{"MTRA", "ees", `<td class="n findings" title="reconciliation ` + run + `">0 errors, 0 warnings</td>`},
		{"DLTA", "ees", `<td class="n findings">—</td>`},
	} {
		if got := cell(c.mpid, c.cut); got != c.want {
			t.Errorf("%s %s: findings cell %s, want %s", c.mpid, c.cut, got, c.want)
		}
	}
}
