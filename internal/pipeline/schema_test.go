package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
)

// A file whose columns differ from its cut's earlier files is found by the
// writer, which runs behind the reader across files: the right file is
// still quarantined (rule pipeline.schema) and the rest published.
func TestFileWithOtherColumnsIsQuarantined(t *testing.T) {
	ctx := context.Background()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, st, synth.Options{MPANs: 300, Seed: 3, Cuts: []string{"ees"}}); err != nil {
		t.Fatal(err)
	}
	first := listKeys(t, st, "inbox/")[0] // inbox/<MPID>/ees/EES_0001.csv
	prefix := first[:strings.LastIndexByte(first, '/')+1]
	b, _ := store.ReadAll(ctx, st, first)
	// The same rows without their last column, then a good copy after it.
	var short bytes.Buffer
	for _, line := range strings.SplitAfter(string(b), "\n") {
		text := strings.TrimRight(line, "\r\n")
		if i := strings.LastIndexByte(text, ','); i >= 0 {
			line = text[:i] + line[len(text):]
		}
		short.WriteString(line)
	}
	for name, data := range map[string][]byte{"EES_0002.csv": short.Bytes(), "EES_0003.csv": b} {
		if err := st.Put(ctx, prefix+name, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := Run(ctx, runOpts(t, st))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sum.Cuts {
		if !strings.HasPrefix(first, "inbox/"+c.MPID+"/") {
			continue
		}
		if c.Status != StatusPublished || c.Quarantined != 1 {
			t.Fatalf("cut %s/%s: %s, %d quarantined; want published with 1 quarantined", c.Cut, c.MPID, c.Status, c.Quarantined)
		}
		q := listKeys(t, st, "quarantine/")
		if len(q) != 2 || !strings.HasSuffix(q[0], "EES_0002.csv") || !strings.HasSuffix(q[1], "EES_0002.csv.report.json") {
			t.Fatalf("quarantine holds %v, want EES_0002.csv and its report", q)
		}
		rep, _ := store.ReadAll(ctx, st, q[1])
		if !strings.Contains(string(rep), `"pipeline.schema"`) {
			t.Errorf("report %s does not name rule pipeline.schema", rep)
		}
		return
	}
	t.Fatalf("no result for the cut of %s", first)
}
