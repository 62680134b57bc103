package status

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/browsertest"
)

// The page, opened in headless Chromium, draws one chip per state whose
// count is the rows of that state, keeps every row in its table, and shows
// each row's latest version with its as-at date, how many versions exist,
// the quarantined files and the waiting submissions with age and reason.
func TestHTMLInChromium(t *testing.T) {
	st := fixture(t)
	rows, err := Build(context.Background(), st, builtInRegister(t), now, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, rows, "synthetic-1", now); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "status.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := browsertest.DumpDOM(t, path)
	want := map[string]int{}
	for _, r := range rows {
		want[r.State]++
	}
	chips := regexp.MustCompile(`<button class="chip" data-state="(\w+)" data-count="(\d+)">`).FindAllStringSubmatch(dom, -1)
	if len(chips) != 5 {
		t.Fatalf("the page drew %d chips, want one per state (5)", len(chips))
	}
	for _, c := range chips {
		if n, _ := strconv.Atoi(c[2]); n != want[c[1]] {
			t.Errorf("chip %s counts %d, the rows hold %d", c[1], n, want[c[1]])
		}
	}
	trs := regexp.MustCompile(`(?s)<tr class="\w+" data-state=.*?</tr>`).FindAllString(dom, -1)
	if len(trs) != len(rows) {
		t.Errorf("the table holds %d rows, want %d", len(trs), len(rows))
	}
	if want[Stale] != 1 || want[Unexpected] != 1 || want[Received] != 1 {
		t.Errorf("states %v: the fixture should give one stale, one unexpected, one received", want)
	}
	for _, h := range []string{"<th>Latest</th>", "<th>As at</th>", "<th>Versions</th>", "<th>Quarantined</th>", "<th>Waiting submissions</th>"} {
		if !strings.Contains(dom, h) {
			t.Errorf("the table has no column %s", h)
		}
	}
	row := func(mpid, cutType string) string {
		for _, tr := range trs {
			if strings.Contains(tr, "<td>"+mpid+"</td><td>"+cutType+"</td>") {
				return tr
			}
		}
		t.Fatalf("no row for %s %s", mpid, cutType)
		return ""
	}
	for _, c := range []struct{ mpid, cut, want string }{
		{"BRGT", "ees", `>v2</td><td class="asat" title="2026-11-30">2026-11-30</td><td class="n versions">3</td><td class="n">14</td><td class="n">2</td>`},
		{"BRGT", "ees", `<span class="sub">s-ready</span> <span class="age" title="newest upload 2026-12-01 06:00 UTC">3h</span> <span class="why">ready: the next run takes it</span>`},
		{"BRGT", "ees", `<span class="sub">(loose files)</span> <span class="age" title="newest upload 2026-11-29 07:00 UTC">2d</span> <span class="why">loose files, not in a submission folder`},
		{"MTRA", "ees", `>v1</td><td class="asat" title="2026-11-30T06:00:00Z">2026-11-30</td>`},
		{"MTRA", "mop-mtd", `<td class="version">—</td><td class="asat">—</td><td class="n versions">0</td><td class="n">—</td><td class="n">—</td>
<td class="n">1</td>`},
		{"MTRA", "mop-mtd", `<li class="blocked"><span class="sub">2026-12-01</span> <span class="age" title="newest upload 2026-12-01 08:15 UTC">45m</span> <span class="why">no submission.json yet: it is uploaded last, after every file</span></li>`},
	} {
		if tr := row(c.mpid, c.cut); !strings.Contains(tr, c.want) {
			t.Errorf("%s %s's row has no %s:\n%s", c.mpid, c.cut, c.want, tr)
		}
	}
}
