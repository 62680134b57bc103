package cut

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/mhhs-sit/datacut/internal/store"
)

// SourceRef names a published cut an allocation run read. A run's report
// lists them under "sources": what retention must keep while the run is
// its plan's latest.
type SourceRef struct {
	Cut     string `json:"cut"`
	MPID    string `json:"mpid"`
	CutID   string `json:"cutId"`
	Version int    `json:"version,omitempty"`
}

// LedgerState is allocations/<plan>/latest.json: the plan's latest
// complete run, and the environments of it released since (their units
// are held no more).
type LedgerState struct {
	RunID    string   `json:"runId"`
	Released []string `json:"releasedEnvironments,omitempty"`
}

// ReadLedger is the id of the plan's latest complete run, or "" if the
// plan was never allocated (or released).
func ReadLedger(ctx context.Context, st store.Store, plan string) (string, error) {
	l, err := ReadLedgerState(ctx, st, plan)
	return l.RunID, err
}

// ReadLedgerState reads the plan's ledger pointer; the zero state if the
// plan was never allocated.
func ReadLedgerState(ctx context.Context, st store.Store, plan string) (LedgerState, error) {
	var l LedgerState
	b, err := store.ReadAll(ctx, st, LedgerKey(plan))
	if store.IsNotFound(err) {
		return l, nil
	}
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("%s: %w", LedgerKey(plan), err)
	}
	return l, nil
}

// WriteLedger makes runID the plan's latest run, holding all its units:
// written after the run's report, so the pointer never names an incomplete
// run.
func WriteLedger(ctx context.Context, st store.Store, plan, runID string) error {
	return WriteLedgerState(ctx, st, plan, LedgerState{RunID: runID})
}

// WriteLedgerState writes the plan's ledger pointer.
func WriteLedgerState(ctx context.Context, st store.Store, plan string, l LedgerState) error {
	b, _ := json.Marshal(l)
	return st.Put(ctx, LedgerKey(plan), bytes.NewReader(b), int64(len(b)))
}

// LedgerPlans lists the plans with a ledger pointer in the store, in name
// order.
func LedgerPlans(ctx context.Context, st store.Store) ([]string, error) {
	var plans []string
	err := st.List(ctx, AllocationsRoot, func(i store.Info) error {
		rest := strings.TrimPrefix(i.Key, AllocationsRoot)
		if plan, ok := strings.CutSuffix(rest, "/latest.json"); ok && !strings.Contains(plan, "/") {
			plans = append(plans, plan)
		}
		return nil
	})
	sort.Strings(plans)
	return plans, err
}

// LatestRunSources lists, for every plan allocated in the store, the cuts
// its latest run read.
func LatestRunSources(ctx context.Context, st store.Store) ([]SourceRef, error) {
	plans, err := LedgerPlans(ctx, st)
	if err != nil {
		return nil, err
	}
	var out []SourceRef
	for _, plan := range plans {
		id, err := ReadLedger(ctx, st, plan)
		if err != nil {
			return nil, err
		}
		if id == "" { // a pointer naming no run: this plan keeps nothing, the others still do
			continue
		}
		b, err := store.ReadAll(ctx, st, RunPrefix(plan, id)+ReportJSON)
		if err != nil {
			return nil, fmt.Errorf("the latest run of plan %s: %w", plan, err)
		}
		var rep struct {
			Sources []SourceRef `json:"sources"`
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			return nil, fmt.Errorf("%s%s: %w", RunPrefix(plan, id), ReportJSON, err)
		}
		out = append(out, rep.Sources...)
	}
	return out, nil
}
