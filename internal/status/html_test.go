package status

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/browsertest"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

// The page, opened in headless Chromium, draws one chip per state whose
// count is the rows of that state, and keeps every row in its table.
func TestHTMLInChromium(t *testing.T) {
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	publish(t, st, "ees", "BRGT", "new", now.Add(-time.Hour))
	publish(t, st, "ees", "CRWN", "c1", now.Add(-200*time.Hour))
	publish(t, st, "ees", "MTRA", "m1", now)
	rows, err := Build(context.Background(), st, builtInRegister(t), now)
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
	if got := len(regexp.MustCompile(`<tr class="\w+" data-state=`).FindAllString(dom, -1)); got != len(rows) {
		t.Errorf("the table holds %d rows, want %d", got, len(rows))
	}
	if want[Stale] != 1 || want[Unexpected] != 1 || want[Received] != 1 {
		t.Errorf("states %v: the fixture should give one stale, one unexpected, one received", want)
	}
}
