package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
)

// TestLargestCutsFirst: cuts are taken largest first (one worker takes
// them in that order), so a run does not end on one big cut while the
// other workers idle; the summary still lists them in discovery order.
func TestLargestCutsFirst(t *testing.T) {
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(context.Background(), st, synth.Options{MPANs: 3000, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	size := map[string]int64{} // MPID/cut → pending bytes
	if err := st.List(context.Background(), "inbox/", func(i store.Info) error {
		if f, err := cut.ParseInboxKey(i.Key); err == nil && f.Name != cut.SubmissionFile {
			size[f.MPID+"/"+f.Type] += i.Size
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	opt := runOpts(t, st)
	opt.Workers, opt.Log = 1, zerolog.New(&logs)
	sum, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	var taken []string
	for _, line := range bytes.Split(logs.Bytes(), []byte("\n")) {
		var e struct{ Message, Cut, MPID string }
		if json.Unmarshal(line, &e) == nil && e.Message == "version published" {
			taken = append(taken, e.MPID+"/"+e.Cut)
		}
	}
	if len(taken) != len(size) || len(taken) < 10 {
		t.Fatalf("%d cuts published, %d submitted", len(taken), len(size))
	}
	if !slices.IsSortedFunc(taken, func(a, b string) int { return cmp.Compare(size[b], size[a]) }) {
		t.Errorf("cuts taken in the order %v, not largest first", taken)
	}
	listed := make([]string, len(sum.Cuts))
	for i, c := range sum.Cuts {
		listed[i] = c.MPID + "/" + c.Cut
	}
	if slices.IsSortedFunc(listed, func(a, b string) int { return cmp.Compare(size[b], size[a]) }) || !slices.IsSorted(listed) {
		t.Errorf("summary lists %v, want discovery (name) order", listed)
	}
}
