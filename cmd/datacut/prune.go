package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/retention"
)

type pruneOptions struct {
	defsFlags
	store     cli.StoreFlags
	keep      int
	plans     []string
	olderThan time.Duration
	dryRun    bool
	json      bool
}

func newPruneCmd() *cobra.Command {
	o := &pruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune [--store LOCATION] [--keep N] [--plan FILE]... [--older-than DURATION] [--dry-run]",
		Short: "Remove old versions of published cuts and old quarantine, keeping what allocations read or pin",
		Long: `prune removes versions of each MPID's published cut beyond the newest N (by
version number), except:

  - the version its latest.json names (always),
  - every version a plan's latest allocation run read (allocations/<plan>/
    latest.json names the run; its report lists its sources),
  - every version a plan pins (sources.pins): the plans in the definitions
    directory (built in, or --pipelines DIR) and every --plan FILE.

A version goes manifest first, so readers never see half of one. With
--older-than, a submission's quarantine and reports (quarantine/<cut>/
mpid=<M>/<submission>/ and reports/<cut>/mpid=<M>/<submission>/) go together
once the newest of them is older than that, unless the submission is still in
the inbox (its receipt tells a run it was taken). It prints what it removes and
what it keeps only for a reason; --dry-run only prints.

` + cli.ExitCodesDoc,
		Example: `  datacut prune --store ./data --keep 3 --dry-run
  datacut prune --store ./data --keep 3 --plan ./plans/cohort-b.yaml
  datacut prune --store ./data --keep 3 --older-than 2160h   # quarantine kept 90 days`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPrune(cmd.Context(), o, cmd.OutOrStdout(), time.Now())
		},
	}
	o.defsFlags.register(cmd.Flags())
	o.store.Register(cmd.Flags())
	cmd.Flags().IntVar(&o.keep, "keep", 3, "versions to keep of each MPID's cut, highest version numbers first")
	cmd.Flags().StringArrayVar(&o.plans, "plan", nil, "an allocation plan file whose pinned versions are kept, besides the definitions' plans/*.yaml (repeat)")
	cmd.Flags().DurationVar(&o.olderThan, "older-than", 0, "also remove submissions' quarantine and reports older than this (default: keep them)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print what would be removed, remove nothing")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func runPrune(ctx context.Context, o *pruneOptions, out io.Writer, now time.Time) error {
	if o.keep < 1 {
		return cli.Usage("--keep must be at least 1: the latest version of each MPID's cut is always kept")
	}
	if o.olderThan < 0 {
		return cli.Usage("--older-than must be positive, like 720h")
	}
	plans, err := o.loadPlans()
	if err != nil {
		return err
	}
	st, err := o.store.OpenExisting(ctx)
	if err != nil {
		return err
	}
	res, err := retention.Prune(ctx, retention.Options{Store: st, Keep: o.keep, Plans: plans, QuarantineAge: o.olderThan, DryRun: o.dryRun, Now: now, Tool: cli.ToolVersion("datacut")})
	if err != nil {
		return err
	}
	if o.json {
		return json.NewEncoder(out).Encode(res)
	}
	verb := "removed"
	if o.dryRun {
		verb = "would remove"
	}
	for _, r := range res.Removed {
		fmt.Fprintf(out, "%s %s (%s)\n", verb, r.Key, r.Reason)
	}
	for _, k := range res.Kept {
		fmt.Fprintf(out, "kept %s: %s\n", k.Key, strings.Join(k.Reasons, "; "))
	}
	fmt.Fprintf(out, "%s %d, kept %d for a reason, in %s (pins of %d plans)\n", verb, len(res.Removed), len(res.Kept), st, len(plans))
	return nil
}

// loadPlans reads the plans whose pins prune keeps: plans/*.yaml of the
// definitions and every --plan file. A plan that does not lint stops the
// prune: its pins would not be known.
func (o *pruneOptions) loadPlans() ([]*plan.Plan, error) {
	types, err := cut.LoadTypes(o.definitions())
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	byName, err := plan.Load(o.definitions(), types)
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	var out []*plan.Plan
	for _, n := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, byName[n])
	}
	for _, f := range o.plans {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, cli.Usage("--plan: %v", err)
		}
		p, err := plan.Decode(f, b, types)
		if err != nil {
			return nil, cli.Usage("%v", err)
		}
		out = append(out, p)
	}
	return out, nil
}
