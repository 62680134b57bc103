package allocation

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/store"
)

// otherRun is another plan's latest run, whose units (but for those of
// its released environments) are reserved for it.
type otherRun struct {
	plan, run string
	released  []string
}

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
		l, err := cut.ReadLedgerState(ctx, st, other)
		if err != nil {
			return nil, err
		}
		if l.RunID != "" { // released: holds nothing
			out = append(out, otherRun{other, l.RunID, l.Released})
		}
	}
	return out, nil
}

// heldBy reads the units the other plans' latest runs hold.
func heldBy(ctx context.Context, st store.Store, others []otherRun, mem memory.Allocator) (solver.Held, error) {
	held := solver.Held{}
	for _, o := range others {
		ledger, err := readRunLedger(ctx, st, o.plan, o.run, o.released, mem)
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
	return previous, moveLedger(ctx, st, planName, cut.LedgerState{}, tool, audit.ActionRelease, "released the units of run "+previous)
}

// ReleaseEnvironment frees the units the plan's latest run gave to one of
// its environments: other plans may take them, the plan's other
// environments keep theirs, and its next run allocates the environment
// afresh. It is audited.
func ReleaseEnvironment(ctx context.Context, st store.Store, planName, env, tool string) (run string, err error) {
	l, err := cut.ReadLedgerState(ctx, st, planName)
	if err != nil {
		return "", err
	}
	if l.RunID == "" {
		return "", &LedgerRequestError{fmt.Sprintf("plan %s holds no units in %s (never allocated, or released already)", planName, st)}
	}
	rep, err := readReport(ctx, st, cut.RunPrefix(planName, l.RunID))
	if err != nil {
		return "", err
	}
	var envs []string
	for _, e := range rep.Environments {
		envs = append(envs, e.Name)
	}
	switch {
	case !slices.Contains(envs, env):
		return "", &LedgerRequestError{fmt.Sprintf("plan %s's run %s has no environment %q (it has %s)", planName, l.RunID, env, strings.Join(envs, ", "))}
	case slices.Contains(l.Released, env):
		return "", &LedgerRequestError{fmt.Sprintf("environment %s of plan %s's run %s is released already", env, planName, l.RunID)}
	}
	l.Released = append(l.Released, env)
	slices.Sort(l.Released)
	return l.RunID, moveLedger(ctx, st, planName, l, tool, audit.ActionRelease, fmt.Sprintf("released the units of environment %s of run %s", env, l.RunID))
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
	return moveLedger(ctx, st, planName, cut.LedgerState{RunID: runID}, tool, audit.ActionRollback, fmt.Sprintf("latest run %s, was %q", runID, current))
}

func moveLedger(ctx context.Context, st store.Store, planName string, l cut.LedgerState, tool, action, detail string) error {
	if err := cut.WriteLedgerState(ctx, st, planName, l); err != nil {
		return err
	}
	return audit.Write(ctx, st, audit.Record{Tool: tool, Action: action, Detail: "plan " + planName + ": " + detail,
		Objects: []audit.Object{{Op: audit.OpPut, Key: cut.LedgerKey(planName)}}})
}
