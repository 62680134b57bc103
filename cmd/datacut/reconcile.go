package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/reconcile"
)

type reconcileOptions struct {
	defsFlags
	store cli.StoreFlags
	rules string
	json  bool
}

func newReconcileCmd() *cobra.Command {
	o := &reconcileOptions{}
	cmd := &cobra.Command{
		Use:   "reconcile [--store LOCATION] [--rules FILE] [--json]",
		Short: "Where participants' latest cuts disagree about the same MPAN: findings and a worklist per participant",
		Long: `reconcile reads the latest published version of every MPID's cut of each type
the reconciliation rules name and checks, masked MPAN by masked MPAN (masking
is consistent, so they join across cuts), where participants disagree: the
EES against the registration service's D0204 (supplier, agents, energisation,
classes, codes, GSP group), meter serials against the appointed MOp's meter
technical details, meter technical details the appointed MOp should hold,
MPANs no registration service knows, linked MPANs that do not list each
other, domestic MPANs without customer details.

The rules are data: pipelines/reconcile.yaml is built in; --rules FILE
checks another file (decoded strictly and linted against the cut types and
the DTC catalogue first). Each finding names the participant that must act,
its cut version, and the file id and line of its record, so it can find the
record in the raw extract it kept; and the other party. Values are shown only
for items the DPIA rules keep in clear (codes, MPIDs); for masked items a
finding says "differs".

The run is written to reconciliation/<run id>/: findings.parquet,
worklists/<MPID>.csv (one per participant with findings: its own findings
only), summary.html (self-contained), and manifest.json last (totals per rule
and participant). The run id is a hash of the cut versions read and the
rules: the same inputs give the same id and the same bytes.

` + cli.ExitCodesDoc + `
Exit 1 means there are findings of error severity.`,
		Example: `  mkdir d && cd d && datacut demo
  datacut reconcile --store ./data            # exit 1: the demo's faults leave MPANs unregistered
  datacut reconcile --store ./data --json
  datacut reconcile --store ./data --rules ../pipelines/reconcile.yaml   # from a folder beside the repository's pipelines/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReconcile(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.defsFlags.register(cmd.Flags())
	o.store.Register(cmd.Flags())
	cmd.Flags().StringVar(&o.rules, "rules", "", "reconciliation rules file (default: the built-in "+reconcile.RulesFile+")")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the run's manifest (totals and files) as JSON")
	return cmd
}

// loadReconcileRules loads the rules: --rules FILE, else the definitions'.
func (o *reconcileOptions) loadRules() (*reconcile.Rules, error) {
	types, err := reconcile.LoadTypes(o.definitions())
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	var r *reconcile.Rules
	if o.rules != "" {
		b, rerr := os.ReadFile(o.rules)
		if rerr != nil {
			return nil, cli.Usage("reading --rules: %v", rerr)
		}
		r, err = reconcile.Parse(filepath.Base(o.rules), b, types)
	} else {
		r, err = reconcile.Load(o.definitions(), reconcile.RulesFile, types)
	}
	var de *defs.Error
	if errors.As(err, &de) || errors.Is(err, fs.ErrNotExist) {
		return nil, cli.Usage("%v", err)
	}
	return r, err
}

func runReconcile(ctx context.Context, o *reconcileOptions, out io.Writer) error {
	reconcileMemory()
	rules, err := o.loadRules()
	if err != nil {
		return err
	}
	set, err := o.pipelines()
	if err != nil {
		return err
	}
	dpia := set.Rules(pipeline.DefaultRules)
	if dpia == nil {
		return cli.Usage("no pipeline in %s uses %s, the DPIA rules that say which values findings may show", o.where(), pipeline.DefaultRules)
	}
	st, err := o.store.OpenExisting(ctx)
	if err != nil {
		return err
	}
	res, err := reconcile.Run(ctx, reconcile.Options{Store: st, Rules: rules, Clear: func(ref string) bool { return !dpia.Sensitive(ref) }})
	if err != nil {
		return err
	}
	m, err := reconcile.Write(ctx, st, res, cli.ToolVersion("datacut"))
	if err != nil {
		return err
	}
	if o.json {
		b, _ := json.MarshalIndent(m, "", "  ")
		fmt.Fprintf(out, "%s\n", b)
	} else {
		printReconcile(out, m, st.String())
	}
	if m.Totals.Errors > 0 {
		return cli.DataErrors
	}
	return nil
}

func printReconcile(out io.Writer, m *reconcile.Manifest, where string) {
	fmt.Fprintf(out, "%-22s %-16s %-8s %8s\n", "RULE", "KIND", "SEVERITY", "FINDINGS")
	for _, r := range m.Totals.ByRule {
		fmt.Fprintf(out, "%-22s %-16s %-8s %8d\n", r.Rule, r.Kind, r.Severity, r.Findings)
	}
	if len(m.Totals.ByMPID) > 0 {
		fmt.Fprintf(out, "\n%-6s %8s  %s\n", "MPID", "FINDINGS", "WORKLIST")
		for _, p := range m.Totals.ByMPID {
			fmt.Fprintf(out, "%-6s %8d  %s%s%s.csv\n", p.MPID, p.Findings, reconcile.Prefix(m.ID), reconcile.WorklistDir, p.MPID)
		}
	}
	fmt.Fprintf(out, "\n%d findings (%d errors, %d warnings) over %d cut versions; run %s in %s\n", m.Totals.Findings, m.Totals.Errors,
		m.Totals.Warnings, len(m.Sources), reconcile.Prefix(m.ID), where)
	fmt.Fprintf(out, "summary: %s%s\n", reconcile.Prefix(m.ID), reconcile.SummaryHTML)
}

// reconcileMemory asks the garbage collector to keep the heap under 2.5
// GiB: a reconciliation of 10^7 MPANs holds about half of that live at its
// peak, and collecting only at twice the live heap would pass the 3 GB it
// is built to stay under. An explicit GOMEMLIMIT wins.
func reconcileMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(2560 << 20)
	}
}
