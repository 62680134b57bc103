package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/retention"
)

type pruneOptions struct {
	store     cli.StoreFlags
	keep      int
	olderThan time.Duration
	dryRun    bool
	json      bool
}

func newPruneCmd() *cobra.Command {
	o := &pruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune [--store LOCATION] [--keep N] [--older-than DURATION] [--dry-run]",
		Short: "Remove old published cuts and old quarantine, keeping what allocations read",
		Long: `prune removes published cuts beyond the newest N of each MPID and cut type,
except every cut that a plan's latest allocation run read (allocations/<plan>/
latest.json), and, with --older-than, quarantined files and their reports kept
longer than that. A cut goes manifest first, so readers never see half of one,
and its listing markers go with it. It prints what it removes; --dry-run only
prints.

` + cli.ExitCodesDoc,
		Example: `  datacut prune --store ./data --keep 3 --dry-run
  datacut prune --store ./data --keep 3 --older-than 2160h   # quarantine kept 90 days`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPrune(cmd.Context(), o, cmd.OutOrStdout(), time.Now())
		},
	}
	o.store.Register(cmd.Flags())
	cmd.Flags().IntVar(&o.keep, "keep", 3, "published cuts to keep per MPID and cut type, newest first")
	cmd.Flags().DurationVar(&o.olderThan, "older-than", 0, "also remove quarantined files and reports older than this (default: keep them)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print what would be removed, remove nothing")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func runPrune(ctx context.Context, o *pruneOptions, out io.Writer, now time.Time) error {
	if o.keep < 1 {
		return cli.Usage("--keep must be at least 1: the latest cut of each MPID and cut type is always kept")
	}
	if o.olderThan < 0 {
		return cli.Usage("--older-than must be positive, like 720h")
	}
	st, err := o.store.Open(ctx)
	if err != nil {
		return err
	}
	res, err := retention.Prune(ctx, retention.Options{Store: st, Keep: o.keep, QuarantineAge: o.olderThan, DryRun: o.dryRun, Now: now})
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
	for _, p := range res.Pinned {
		fmt.Fprintf(out, "kept %s: a plan's latest allocation read it\n", p)
	}
	fmt.Fprintf(out, "%s %d, kept %d for allocations, in %s\n", verb, len(res.Removed), len(res.Pinned), st)
	return nil
}
