package allocation

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/store"
)

// otherRun is another plan's latest run, whose units are reserved for it.
type otherRun struct{ plan, run string }

// otherRuns are the latest runs of the store's other plans, in plan order:
// none when p may share.
func otherRuns(ctx context.Context, st store.Store, p *plan.Plan) ([]otherRun, error) {
	if p.Policy.Share {
		return nil, nil
	}
	plans, err := cut.LedgerPlans(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("listing the plans allocated: %w", err)
	}
	var out []otherRun
	for _, other := range plans {
		if other == p.Name {
			continue
		}
		run, err := cut.ReadLedger(ctx, st, other)
		if err != nil {
			return nil, err
		}
		if run != "" { // released: holds nothing
			out = append(out, otherRun{other, run})
		}
	}
	return out, nil
}

// heldBy reads the units the other plans' latest runs hold.
func heldBy(ctx context.Context, st store.Store, others []otherRun, mem memory.Allocator) (solver.Held, error) {
	held := solver.Held{}
	for _, o := range others {
		ledger, err := readRunLedger(ctx, st, o.plan, o.run, mem)
		if err != nil {
			return nil, err
		}
		for unit := range ledger {
			held[unit] = o.plan
		}
	}
	return held, nil
}

// LedgerRequestError is a release or rollback that cannot be done as
// asked (nothing held, no such run), as against a store that failed.
type LedgerRequestError struct{ msg string }

func (e *LedgerRequestError) Error() string { return e.msg }

// Release frees every unit the plan's latest run holds: its ledger names
// no run, so other plans may take them and its next run starts afresh.
// The runs themselves stay. It is audited.
func Release(ctx context.Context, st store.Store, planName, tool string) (previous string, err error) {
	if previous, err = cut.ReadLedger(ctx, st, planName); err != nil {
		return "", err
	}
	if previous == "" {
		return "", &LedgerRequestError{fmt.Sprintf("plan %s holds no units in %s (never allocated, or released already)", planName, st)}
	}
	return previous, moveLedger(ctx, st, planName, "", tool, audit.ActionRelease, "released the units of run "+previous)
}

// Rollback makes an earlier complete run of the plan its latest: the
// ledger holds that run's units again and the next run keeps them. It is
// audited.
func Rollback(ctx context.Context, st store.Store, planName, runID, tool string) error {
	if _, err := readReport(ctx, st, cut.RunPrefix(planName, runID)); store.IsNotFound(err) {
		return &LedgerRequestError{fmt.Sprintf("no complete run %s of plan %s in %s (allocate report lists the latest; runs are folders under %s)",
			runID, planName, st, cut.PlanRoot(planName))}
	} else if err != nil {
		return err
	}
	current, err := cut.ReadLedger(ctx, st, planName)
	if err != nil {
		return err
	}
	return moveLedger(ctx, st, planName, runID, tool, audit.ActionRollback, fmt.Sprintf("latest run %s, was %q", runID, current))
}

func moveLedger(ctx context.Context, st store.Store, planName, runID, tool, action, detail string) error {
	if err := cut.WriteLedger(ctx, st, planName, runID); err != nil {
		return err
	}
	return audit.Write(ctx, st, audit.Record{Tool: tool, Action: action, Detail: "plan " + planName + ": " + detail,
		Objects: []audit.Object{{Op: audit.OpPut, Key: cut.LedgerKey(planName)}}})
}
