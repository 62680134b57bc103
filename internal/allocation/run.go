// Package allocation runs an allocation plan end to end: the universe from
// the latest published cuts, the allocation (internal/solver), and its outputs in the store
// under allocations/<plan>/<run id>/ (allocation.parquet, load packs, the
// report), with report.json written last and latest.json (the ledger pointer)
// after it.
package allocation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/universe"
	"github.com/mhhs-sit/datacut/pipelines"
)

// Options of a run.
type Options struct {
	Store   store.Store
	Plan    *plan.Plan
	Tool    string
	NoPacks bool // allocation and report only
	// Definitions is the pipelines directory the plan came from: its EES
	// column mapping names the columns of the packs' EES CSV (default: the
	// built-in definitions).
	Definitions fs.FS
	Log         zerolog.Logger
	Mem         memory.Allocator
	Step        func(step string) // progress: called as each step starts
}

// Outcome of a run.
type Outcome struct {
	RunID    string
	Prefix   string
	Existing bool // the same plan and sources were allocated before
	Report   *Report
}

// Run allocates the plan. A run whose plan and sources were allocated
// before finds the complete run and changes nothing.
func Run(ctx context.Context, opt Options) (*Outcome, error) {
	if opt.Mem == nil {
		opt.Mem = memory.DefaultAllocator
	}
	step := func(s string) {
		if opt.Step != nil {
			opt.Step(s)
		}
	}
	st, p := opt.Store, opt.Plan
	started := time.Now()
	step("finding the latest cuts")
	sources, key, err := universe.Find(ctx, st, p.Sources.Types, p.Sources.Pins)
	if err != nil {
		return nil, err
	}
	for i := range sources { // held to the end; their per-file lists grow with the market
		sources[i].Manifest = sources[i].Manifest.Brief()
	}
	others, err := otherRuns(ctx, st, p)
	if err != nil {
		return nil, err
	}
	excl, err := readExclusion(ctx, st, p, sources, key, opt.Mem)
	if err != nil {
		return nil, err
	}
	inputs := runID(p, key, sources, others, excl.id())
	ledger, state, err := readLedger(ctx, st, p.Name, opt.Mem)
	if err != nil {
		return nil, err
	}
	id, done, err := chooseRun(ctx, st, p.Name, inputs, state)
	if err != nil {
		return nil, err
	}
	prefix := cut.RunPrefix(p.Name, id)
	if done != nil {
		return &Outcome{RunID: id, Prefix: prefix, Existing: true, Report: done}, nil
	}
	previous := state.RunID
	step("joining the universe")
	t0 := time.Now()
	u, err := universe.Build(ctx, st, sources, key, opt.Mem)
	if err != nil {
		return nil, err
	}
	defer func() {
		if u != nil {
			u.Close() // a spilled universe's file, when the run fails before the packs
		}
	}()
	tUniverse := time.Since(t0)
	step("allocating")
	t0 = time.Now()
	held, err := heldBy(ctx, st, others, opt.Mem)
	if err != nil {
		return nil, err
	}
	excluded, exclusion := excl.apply(u)
	kept, err := topUpKept(ctx, st, p, state, opt.Mem)
	if err != nil {
		return nil, err
	}
	res := solver.AllocateWith(p, u, ledger, held, solver.Extras{Excluded: excluded, Synthetic: kept})
	tAllocate := time.Since(t0)
	rows := Rows(res)
	t0 = time.Now()
	synthRows, synthPoints := topUp(res, held)
	rows = append(rows, synthRows...)
	tTopUp := time.Since(t0)
	if err := u.Err(); err != nil {
		return nil, err
	}
	// The report is built now: from here on the rows are all the run needs,
	// so the universe's memory is free to go while the packs are built.
	rep := buildReport(res, rows, sources, id, previous)
	rep.InputsID = inputs
	if err := u.Close(); err != nil {
		return nil, err
	}
	u = nil // nor its memory: the packs need only the rows
	rep.Excluded = exclusion
	spool, err := os.MkdirTemp(store.TempDir(st), "allocate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(spool)
	put := func(name, path string) error {
		if err := store.PutFile(ctx, st, prefix+name, path); err != nil {
			return fmt.Errorf("storing %s%s: %w", prefix, name, err)
		}
		return nil
	}
	step("writing the allocation")
	if err := writeAllocation(filepath.Join(spool, cut.AllocationFile), rows, opt.Mem); err != nil {
		return nil, fmt.Errorf("writing %s: %w", cut.AllocationFile, err)
	}
	if err := put(cut.AllocationFile, filepath.Join(spool, cut.AllocationFile)); err != nil {
		return nil, err
	}
	var packs []PackInfo
	t0 = time.Now()
	if !opt.NoPacks {
		step("building load packs")
		defs := opt.Definitions
		if defs == nil {
			defs = pipelines.FS
		}
		layouts, err := eesLayouts(defs, p)
		if err != nil {
			return nil, err
		}
		packStore, packSources := st, sources
		if len(synthPoints) > 0 {
			t := time.Now()
			step("publishing the synthetic units' records")
			extra, more, err := topUpSources(ctx, st, spool, p, defs, synthPoints)
			if err != nil {
				return nil, err
			}
			packStore, packSources = extra, append(slices.Clip(sources), more...)
			tTopUp += time.Since(t)
		}
		if packs, err = writePacks(ctx, packStore, prefix, id, previous, spool, p, rows, packSources, layouts, opt.Mem); err != nil {
			return nil, err
		}
	}
	tPacks := time.Since(t0)
	rep.addPacks(packs)
	rep.Tool = opt.Tool
	rep.Timings = Timings{Started: started.UTC(), Seconds: time.Since(started).Seconds(),
		UniverseSeconds: tUniverse.Seconds(), AllocateSeconds: tAllocate.Seconds(), PacksSeconds: tPacks.Seconds(),
		TopUpSeconds: tTopUp.Seconds()}
	step("writing the report")
	for name, render := range map[string]func(*Report) ([]byte, error){cut.ReportMarkdown: renderMarkdown, cut.ReportHTML: renderHTML} {
		b, err := render(rep)
		if err != nil {
			return nil, err
		}
		if err := st.Put(ctx, prefix+name, bytes.NewReader(b), int64(len(b))); err != nil {
			return nil, err
		}
	}
	// report.json is the run's completion record: written last, so a run
	// without it does not exist; latest.json then moves the ledger on.
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := st.Put(ctx, prefix+cut.ReportJSON, bytes.NewReader(b), int64(len(b))); err != nil {
		return nil, err
	}
	if err := cut.WriteLedger(ctx, st, p.Name, id); err != nil {
		return nil, err
	}
	if err := auditRun(ctx, st, opt.Tool, p.Name, id, prefix); err != nil {
		return nil, err
	}
	return &Outcome{RunID: id, Prefix: prefix, Report: rep}, nil
}

// auditRun records an allocation run: every object it wrote, by key and
// size, and the ledger pointer it moved.
func auditRun(ctx context.Context, st store.Store, tool, plan, id, prefix string) error {
	rec := audit.Record{Tool: tool, Action: audit.ActionAllocate, Detail: fmt.Sprintf("plan %s, run %s", plan, id)}
	err := st.List(ctx, prefix, func(i store.Info) error {
		rec.Objects = append(rec.Objects, audit.Object{Op: audit.OpPut, Key: i.Key, Size: i.Size})
		return nil
	})
	if err != nil {
		return err
	}
	rec.Objects = append(rec.Objects, audit.Object{Op: audit.OpPut, Key: cut.LedgerKey(plan)})
	return audit.Write(ctx, st, rec)
}

// ReadLatestReport loads the report of the plan's latest run.
func ReadLatestReport(ctx context.Context, st store.Store, planName string) (*Report, string, error) {
	id, err := cut.ReadLedger(ctx, st, planName)
	if err != nil {
		return nil, "", err
	}
	if id == "" {
		return nil, "", fmt.Errorf("plan %s has not been allocated in %s: run 'allocate run --plan %s' first", planName, st, planName)
	}
	prefix := cut.RunPrefix(planName, id)
	rep, err := readReport(ctx, st, prefix)
	return rep, prefix, err
}

func readReport(ctx context.Context, st store.Store, prefix string) (*Report, error) {
	b, err := store.ReadAll(ctx, st, prefix+cut.ReportJSON)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%sreport.json: %w", prefix, err)
	}
	return &r, nil
}

// chooseRun names the run to make from the inputs (runID), or finds it
// done: the plan's latest run, if it was made from the same inputs and
// still holds all its units. A run of the same inputs that is not the
// latest (the plan was released since, in part or whole, or rolled back)
// stays as it is: the new run's name then also covers the ledger's state.
func chooseRun(ctx context.Context, st store.Store, planName, inputs string, l cut.LedgerState) (string, *Report, error) {
	if l.RunID != "" && len(l.Released) == 0 {
		rep, err := readReport(ctx, st, cut.RunPrefix(planName, l.RunID))
		if err != nil {
			return "", nil, err
		}
		if rep.inputs() == inputs {
			return l.RunID, rep, nil
		}
	}
	id := inputs
	for {
		_, err := readReport(ctx, st, cut.RunPrefix(planName, id))
		if store.IsNotFound(err) {
			return id, nil, nil
		}
		if err != nil {
			return "", nil, err
		}
		h := sha256.Sum256([]byte(fmt.Sprintf("%s\nafter ledger %q released %q", id, l.RunID, l.Released)))
		id = hex.EncodeToString(h[:])[:16]
	}
}

// runID names a run by what decides its result: the plan, the key, the
// cuts read, what other plans hold (the ledger is the plan's own earlier
// result) and the reconciliation whose findings it excludes, if any.
func runID(p *plan.Plan, key string, sources []universe.Source, others []otherRun, reconciliation string) string {
	h := sha256.New()
	fmt.Fprintf(h, "plan %s\nkey %s\n", p.Hash, key)
	if reconciliation != "" { // only then: other plans' runs keep their ids
		fmt.Fprintf(h, "reconciliation %s\n", reconciliation)
	}
	for _, o := range others { // what they hold is not this run's to give
		fmt.Fprintf(h, "held by %s %s\n", o.plan, o.run)
		if len(o.released) > 0 {
			fmt.Fprintf(h, "released %s\n", strings.Join(o.released, ","))
		}
	}
	ids := make([]string, 0, len(sources))
	for _, s := range sources {
		ids = append(ids, s.Cut+"/"+s.MPID+"/"+s.CutID)
	}
	sort.Strings(ids)
	for _, s := range ids {
		fmt.Fprintln(h, s)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
