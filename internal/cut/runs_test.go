package cut

import (
	"context"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/store/local"
)

// One plan's empty ledger pointer must not hide the sources of every other
// plan's latest run: retention would then remove versions they read.
func TestLatestRunSourcesSkipsAnEmptyLedger(t *testing.T) {
	ctx := context.Background()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(key, body string) {
		if err := st.Put(ctx, key, strings.NewReader(body), int64(len(body))); err != nil {
			t.Fatal(err)
		}
	}
	put(LedgerKey("a-empty"), `{"runId":""}`)
	if err := WriteLedger(ctx, st, "b", "r1"); err != nil {
		t.Fatal(err)
	}
	put(RunPrefix("b", "r1")+ReportJSON, `{"sources":[{"cut":"ees","mpid":"BRGT","cutId":"x","version":2}]}`)
	got, err := LatestRunSources(ctx, st)
	if err != nil || len(got) != 1 || got[0].CutID != "x" || got[0].Version != 2 {
		t.Fatalf("%+v %v, want plan b's one source", got, err)
	}
}
