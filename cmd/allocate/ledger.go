package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/allocation"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
)

// ledgerOptions are release's and rollback's flags.
type ledgerOptions struct {
	plan, to, env string
	store         cli.StoreFlags
}

const ledgerExitCodes = `Exit codes:
  0  done
  2  usage or configuration error (flags, no store, nothing to release, no such
     run or environment)
  3  the store could not be read or written`

func newReleaseCmd() *cobra.Command {
	o := &ledgerOptions{}
	cmd := &cobra.Command{
		Use:   "release --plan NAME [--environment ENV] [--store LOCATION]",
		Short: "Free the units a plan's latest run holds, for other plans",
		Long: `release frees every unit the plan's latest run holds: a unit held by one
plan's latest run is not given to another plan (unless that plan's policy has
share: true), so release a plan whose environments are done with. With
--environment, only the units of that environment are freed: the plan's other
environments keep theirs, and its next run allocates that environment afresh.
The plan's runs stay; its next run starts afresh; 'allocate rollback' holds a
run's units again. Recorded in the audit trail.

` + ledgerExitCodes,
		Example: `  allocate release --plan sit --environment SIT-A --store ./data
  allocate release --plan sit --store ./data`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRelease(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&o.plan, "plan", "", "plan name")
	cmd.Flags().StringVar(&o.env, "environment", "", "release only this environment's units (its name in the plan)")
	o.store.Register(cmd.Flags())
	return cmd
}

func newRollbackCmd() *cobra.Command {
	o := &ledgerOptions{}
	cmd := &cobra.Command{
		Use:   "rollback --plan NAME --to RUN [--store LOCATION]",
		Short: "Make an earlier run of a plan its latest again",
		Long: `rollback makes an earlier complete run of the plan its latest: its units are
held for the plan again, 'allocate report' shows it, and the next run keeps
what of it is still valid. Runs are the folders allocations/<plan>/<run>/.
Recorded in the audit trail.

` + ledgerExitCodes,
		Example: `  allocate rollback --plan sit --to 627f1c4685711933 --store ./data`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRollback(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&o.plan, "plan", "", "plan name")
	cmd.Flags().StringVar(&o.to, "to", "", "the run to go back to (its folder's name)")
	o.store.Register(cmd.Flags())
	return cmd
}

func (o *ledgerOptions) name() (string, error) {
	if o.plan == "" {
		return "", cli.Usage("--plan is required (the plan's name)")
	}
	return strings.TrimSuffix(o.plan, ".yaml"), nil
}

func runRelease(ctx context.Context, o *ledgerOptions, out io.Writer) error {
	name, err := o.name()
	if err != nil {
		return err
	}
	st, err := o.store.OpenExisting(ctx)
	if err != nil {
		return err
	}
	if o.env != "" {
		run, err := allocation.ReleaseEnvironment(ctx, st, name, o.env, cli.ToolVersion("allocate"))
		if err != nil {
			return ledgerErr(err)
		}
		fmt.Fprintf(out, "released the units of environment %s of plan %s's run %s: other plans may take them, its other environments keep theirs\n  to hold them again: allocate rollback --plan %s --to %s\n", o.env, name, run, name, run)
		return nil
	}
	run, err := allocation.Release(ctx, st, name, cli.ToolVersion("allocate"))
	if err != nil {
		return ledgerErr(err)
	}
	fmt.Fprintf(out, "released the units of plan %s's run %s: other plans may take them\n  to hold them again: allocate rollback --plan %s --to %s\n", name, run, name, run)
	return nil
}

func runRollback(ctx context.Context, o *ledgerOptions, out io.Writer) error {
	name, err := o.name()
	if err != nil {
		return err
	}
	if o.to == "" || strings.ContainsAny(o.to, "/\\") {
		return cli.Usage("--to is required: a run of the plan (a folder name under %s)", cut.PlanRoot(name))
	}
	st, err := o.store.OpenExisting(ctx)
	if err != nil {
		return err
	}
	if err := allocation.Rollback(ctx, st, name, o.to, cli.ToolVersion("allocate")); err != nil {
		return ledgerErr(err)
	}
	fmt.Fprintf(out, "plan %s's latest run is %s again: its units are held for the plan\n", name, o.to)
	return nil
}

// ledgerErr is exit 2 for a request that cannot be done as asked, else the
// store's failure (exit 3).
func ledgerErr(err error) error {
	var re *allocation.LedgerRequestError
	if errors.As(err, &re) {
		return &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	return err
}
