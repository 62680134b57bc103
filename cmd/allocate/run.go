package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/allocation"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

type runOptions struct {
	plan, plans     string
	store           cli.StoreFlags
	noPacks, asJSON bool
}

func (o *runOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.plan, "plan", "", "plan file, or name of a plan in --plans")
	cmd.Flags().StringVar(&o.plans, "plans", "", "pipelines directory holding plans/*.yaml (default: the built-in ones)")
	cmd.Flags().BoolVar(&o.noPacks, "no-packs", false, "skip load packs (allocation and report only)")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print the report as JSON instead of the summary")
	o.store.Register(cmd.Flags())
}

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run --plan PLAN [--store LOCATION]",
		Short: "Allocate a plan: allocation.parquet, load packs and the report",
		Long: `run allocates a plan against the latest complete cut of every MPID of the
plan's source cut types, and writes under allocations/<plan>/<run id>/:
allocation.parquet (one row per MPAN), packs/<environment>/<role>-<MPID>/
(Parquet tables and D-flow files with a test header from the SI) and
report.{json,md,html}. report.json is written last: a run without it is
incomplete. Assignments of the plan's previous run that are still valid are
kept (the ledger); running again on the same plan and cuts changes nothing.

A plan with policy.exclude_findings reads the latest reconciliation
('datacut reconcile') and keeps out every unit of which an MPAN has a
finding of a listed rule; it exits 2 when there is no reconciliation or it
read other cut versions than the allocation reads (run 'datacut reconcile'
again first).

` + exitCodes,
		Example: `  # the built-in SIT plan against the demo market of 'datacut demo'
  allocate run --plan sit --store ./data
  # an edited plan against MinIO
  allocate run --plan ./my-plan.yaml --store s3://mhhs-cuts
  # allocation and report only
  allocate run --plan uit-qualification --no-packs --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runRun(cmd.Context(), o, cmd.OutOrStdout()) },
	}
	o.register(cmd)
	return cmd
}

func runRun(ctx context.Context, o *runOptions, out io.Writer) error {
	cli.SoftMemoryLimit(900 << 20) // it peaks at about 330 MiB at any size (docs/allocate-memory.md)
	p, err := loadPlan(o.plan, o.plans)
	if err != nil {
		return err
	}
	st, err := o.store.Open(ctx)
	if err != nil {
		return err
	}
	log := zerolog.New(os.Stderr).With().Timestamp().Str("plan", p.Name).Logger()
	started := time.Now()
	oc, err := allocation.Run(ctx, allocation.Options{Store: st, Plan: p, Tool: cli.ToolVersion("allocate"), NoPacks: o.noPacks, Log: log, Definitions: definitions(o.plans),
		Step: func(s string) { log.Info().Str("elapsed", time.Since(started).Round(time.Millisecond).String()).Msg(s) }})
	var stale *allocation.ReconciliationError
	if errors.As(err, &stale) { // policy.exclude_findings: reconcile first
		return cli.Usage("%v", err)
	}
	if err != nil {
		return err
	}
	if o.asJSON {
		b, _ := json.MarshalIndent(oc.Report, "", "  ")
		fmt.Fprintln(out, string(b))
	} else {
		printSummary(out, oc, st, p.Policy.TopUp != nil)
	}
	return shortfallExit(oc.Report)
}

func printSummary(out io.Writer, oc *allocation.Outcome, st store.Store, topUp bool) {
	r := oc.Report
	if oc.Existing {
		fmt.Fprintf(out, "plan %s was already allocated on these cuts: run %s (nothing changed)\n\n", r.Plan, r.RunID)
	}
	fmt.Fprintf(out, "universe: %d MPANs, %d units (%d linked) from %s\n", r.Universe.MPANs, r.Universe.Units, r.Universe.LinkedUnits, r.SourcesText())
	if r.Excluded != nil {
		fmt.Fprintf(out, "%s\n", r.Excluded.Text())
	}
	// The synthetic column and timing only when the plan tops up.
	synthetic := map[string]int{}
	for _, e := range r.Environments {
		for _, d := range e.Demands {
			synthetic[e.Name] += d.Synthetic
		}
	}
	fmt.Fprintf(out, "%-12s %8s %8s %9s %8s %12s", "environment", "asked", "filled", "shortfall", "MPANs", "reappointed")
	if topUp {
		fmt.Fprintf(out, " %10s", "synthetic")
	}
	fmt.Fprintln(out)
	for _, e := range r.Environments {
		fmt.Fprintf(out, "%-12s %8d %8d %9d %8d %12d", e.Name, e.Asked, e.Filled, e.Asked-e.Filled, e.MPANs, e.Reappointed)
		if topUp {
			fmt.Fprintf(out, " %10d", synthetic[e.Name])
		}
		fmt.Fprintln(out)
	}
	shown := 0
	for _, e := range r.Environments {
		for _, d := range e.Demands {
			if d.Shortfall > 0 && shown < 8 {
				if shown == 0 {
					fmt.Fprintln(out, "\nshort:")
				}
				fmt.Fprintf(out, "  %s: %d of %d: %s\n", d.Key, d.Filled, d.Asked, d.Reason)
				shown++
			}
		}
	}
	fmt.Fprintf(out, "\nreport:     %s\n", where(st, oc.Prefix+cut.ReportHTML))
	fmt.Fprintf(out, "allocation: %s\n", where(st, oc.Prefix+cut.AllocationFile))
	fmt.Fprintf(out, "packs:      %s\n", where(st, cut.PackPrefix(oc.Prefix, "<environment>", "<role>", "<MPID>")))
	fmt.Fprintf(out, "timings:    universe %.1fs, allocation %.1fs, ", r.Timings.UniverseSeconds, r.Timings.AllocateSeconds)
	if topUp {
		fmt.Fprintf(out, "top-up %.1fs (choosing units, and publishing their records within the packs time), ", r.Timings.TopUpSeconds)
	}
	fmt.Fprintf(out, "packs %.1fs, total %.1fs\n", r.Timings.PacksSeconds, r.Timings.Seconds)
}

// where is a key of the store as a user would open it: a path, or a URL.
func where(st store.Store, key string) string {
	s := st.String()
	if strings.HasPrefix(s, "s3://") {
		return strings.TrimSuffix(s, "/") + "/" + key
	}
	return filepath.Join(s, filepath.FromSlash(key))
}
