package audit

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

// TestWriteAndList: records are new objects named by time, action and
// MPID, listed oldest first and filtered; one whose key does not name what
// it says (a participant's submit record rewritten as another action or
// MPID) is listed as suspect.
func TestWriteAndList(t *testing.T) {
	ctx := context.Background()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i, r := range []Record{
		{Action: ActionTake, MPID: "BRGT", Time: t0.Add(2 * time.Minute)},
		{Action: ActionSubmit, MPID: "BRGT", Time: t0.Add(time.Minute)},
		{Action: ActionAllocate, Time: t0.Add(3 * time.Minute), Objects: []Object{{Op: OpPut, Key: "allocations/sit/r1/packs/SIT-A/supplier-CRWN/x"}}},
	} {
		if err := Write(ctx, st, r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	var keys []string
	st.List(ctx, Root, func(i store.Info) error { keys = append(keys, i.Key); return nil })
	if len(keys) != 3 || !strings.HasPrefix(keys[0], "audit/2026-12-01/20261201T090100.000000000Z-submit-BRGT-") {
		t.Fatalf("keys %v", keys)
	}
	recs, err := List(ctx, st, Filter{})
	if err != nil || len(recs) != 3 || recs[0].Action != ActionSubmit || recs[2].Action != ActionAllocate {
		t.Fatalf("List: %+v, %v", recs, err)
	}
	for _, r := range recs {
		if r.Schema != Schema || r.Who != store.Who(st) || r.Suspect != "" {
			t.Errorf("record %+v", r)
		}
	}
	if recs, _ := List(ctx, st, Filter{MPID: "CRWN"}); len(recs) != 1 || recs[0].Action != ActionAllocate {
		t.Errorf("records of CRWN (by a key it names): %+v", recs)
	}
	if recs, _ := List(ctx, st, Filter{Since: t0.Add(90 * time.Second)}); len(recs) != 2 {
		t.Errorf("records since 09:01:30: %d", len(recs))
	}
	// BRGT's identity may add keys matching its submit records only; a
	// record it writes there claiming to be a take is flagged.
	forged := []byte(`{"schema":"datacut.audit/v1","time":"2026-12-01T10:00:00Z","who":"s3:datacut-worker","action":"take","mpid":"BRGT"}`)
	if err := st.Put(ctx, "audit/2026-12-01/20261201T100000.000000000Z-submit-BRGT-ffffff.json", bytes.NewReader(forged), int64(len(forged))); err != nil {
		t.Fatal(err)
	}
	recs, _ = List(ctx, st, Filter{Since: t0.Add(time.Hour)})
	if len(recs) != 1 || recs[0].Suspect == "" {
		t.Fatalf("a forged record: %+v", recs)
	}
}
