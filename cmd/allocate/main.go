// Command allocate is the SI allocator: it assigns MPAN sets from published
// cuts to SIT/UIT test environments and builds each participant's load pack.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/allocation"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/pipelines"
)

const exitCodes = `Exit codes:
  0  success: every demand filled
  1  allocated, but some demands fell short (the report says why)
  2  usage or configuration error (flags, plan lint)
  3  the run could not complete (I/O, object store, internal failure)`

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "allocate",
		Short: "Assign MPANs from published cuts to test environments and build load packs",
		Long: `allocate is the Systems Integrator's allocator. It reads a plan
(pipelines/plans/*.yaml), joins the latest published cuts into an MPAN
universe, gives units (an MPAN, or linked MPANs together) to each
environment's demands, and writes per environment and participant the data
it loads, with a report for test leads.

` + exitCodes,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newLintCmd(), newReportCmd(), newSynthCutsCmd())
	return root
}

// loadPlan reads a plan by file path, or by name from --plans DIR (the
// embedded plans when empty).
func loadPlan(ref, dir string) (*plan.Plan, error) {
	if ref == "" {
		return nil, cli.Usage("--plan is required: a plan file, or the name of one in pipelines/plans (sit, uit-qualification)")
	}
	types, err := cut.LoadTypes(definitions(dir))
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	if strings.HasSuffix(ref, ".yaml") || strings.ContainsRune(ref, os.PathSeparator) {
		b, err := os.ReadFile(ref)
		if err != nil {
			return nil, cli.Usage("%v", err)
		}
		p, err := plan.Decode(ref, b, types)
		if err != nil {
			return nil, cli.Usage("%v", err)
		}
		return p, nil
	}
	plans, err := plan.Load(definitions(dir), types)
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	p := plans[ref]
	if p == nil {
		return nil, cli.Usage("no plan %q in %s (plans/*.yaml)", ref, dirName(dir))
	}
	return p, nil
}

func definitions(dir string) fs.FS {
	if dir == "" {
		return pipelines.FS
	}
	return os.DirFS(dir)
}

func dirName(dir string) string {
	if dir == "" {
		return "the built-in pipelines"
	}
	return dir
}

type runOptions struct {
	plan, plans     string
	store           cli.StoreFlags
	noPacks, asJSON bool
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
	cmd.Flags().StringVar(&o.plan, "plan", "", "plan file, or name of a plan in --plans")
	cmd.Flags().StringVar(&o.plans, "plans", "", "pipelines directory holding plans/*.yaml (default: the built-in ones)")
	cmd.Flags().BoolVar(&o.noPacks, "no-packs", false, "skip load packs (allocation and report only)")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print the report as JSON instead of the summary")
	o.store.Register(cmd.Flags())
	return cmd
}

func runRun(ctx context.Context, o *runOptions, out io.Writer) error {
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
	oc, err := allocation.Run(ctx, allocation.Options{Store: st, Plan: p, Tool: cli.ToolVersion("allocate"), NoPacks: o.noPacks, Log: log,
		Step: func(s string) { log.Info().Str("elapsed", time.Since(started).Round(time.Millisecond).String()).Msg(s) }})
	if err != nil {
		return err
	}
	if o.asJSON {
		b, _ := json.MarshalIndent(oc.Report, "", "  ")
		fmt.Fprintln(out, string(b))
	} else {
		printSummary(out, oc, st)
	}
	return shortfallExit(oc.Report)
}

func shortfallExit(r *allocation.Report) error {
	if asked, filled := r.Totals(); filled < asked {
		return cli.DataErrors
	}
	return nil
}

func printSummary(out io.Writer, oc *allocation.Outcome, st store.Store) {
	r := oc.Report
	if oc.Existing {
		fmt.Fprintf(out, "plan %s was already allocated on these cuts: run %s (nothing changed)\n\n", r.Plan, r.RunID)
	}
	fmt.Fprintf(out, "universe: %d MPANs, %d units (%d linked) from %d cuts\n", r.Universe.MPANs, r.Universe.Units, r.Universe.LinkedUnits, len(r.Sources))
	fmt.Fprintf(out, "%-12s %8s %8s %9s %8s %12s\n", "environment", "asked", "filled", "shortfall", "MPANs", "reappointed")
	for _, e := range r.Environments {
		fmt.Fprintf(out, "%-12s %8d %8d %9d %8d %12d\n", e.Name, e.Asked, e.Filled, e.Asked-e.Filled, e.MPANs, e.Reappointed)
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
	fmt.Fprintf(out, "\nreport:     %s\n", where(st, oc.Prefix+"report.html"))
	fmt.Fprintf(out, "allocation: %s\n", where(st, oc.Prefix+"allocation.parquet"))
	fmt.Fprintf(out, "packs:      %s\n", where(st, oc.Prefix+"packs/<environment>/<role>-<MPID>/"))
	fmt.Fprintf(out, "timings:    universe %.1fs, allocation %.1fs, packs %.1fs, total %.1fs\n",
		r.Timings.UniverseSeconds, r.Timings.AllocateSeconds, r.Timings.PacksSeconds, r.Timings.Seconds)
}

func where(st store.Store, key string) string {
	s := st.String()
	if strings.HasPrefix(s, "s3://") {
		return strings.TrimSuffix(s, "/") + "/" + key
	}
	return filepath.Join(s, filepath.FromSlash(key))
}

func newLintCmd() *cobra.Command {
	var planRef, dir string
	cmd := &cobra.Command{
		Use:   "lint [--plan FILE] [--plans DIR]",
		Short: "Check allocation plans without touching data",
		Long: `lint decodes allocation plans strictly and checks roles, participants,
attributes, filter values and per keys. Errors name file:line.

` + exitCodes,
		Example: `  allocate lint
  allocate lint --plan ./my-plan.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if planRef != "" {
				p, err := loadPlan(planRef, dir)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%s: ok (%d environments)\n", p.Path, len(p.Environments))
				return nil
			}
			types, err := cut.LoadTypes(definitions(dir))
			if err != nil {
				return cli.Usage("%v", err)
			}
			plans, err := plan.Load(definitions(dir), types)
			if err != nil {
				return cli.Usage("%v", err)
			}
			if len(plans) == 0 {
				return cli.Usage("no plans in %s (plans/*.yaml)", dirName(dir))
			}
			for _, name := range sortedNames(plans) {
				p := plans[name]
				fmt.Fprintf(out, "%s: ok (%s; %d environments)\n", p.Path, p.Description, len(p.Environments))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&planRef, "plan", "", "one plan file to check")
	cmd.Flags().StringVar(&dir, "plans", "", "pipelines directory holding plans/*.yaml (default: the built-in ones)")
	return cmd
}

func sortedNames(m map[string]*plan.Plan) []string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func newReportCmd() *cobra.Command {
	var name, format string
	var sf cli.StoreFlags
	cmd := &cobra.Command{
		Use:   "report --plan NAME [--store LOCATION] [--format md|json|html]",
		Short: "Print the report of a plan's latest allocation",
		Long: `report prints the report of the plan's latest complete run: coverage per
environment and demand (asked, filled, shortfall and why), fill rates per
participant, MPANs by segment and GSP group.

` + exitCodes,
		Example: `  allocate report --plan sit --store ./data
  allocate report --plan sit --format html > sit.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return cli.Usage("--plan is required (the plan's name)")
			}
			name = strings.TrimSuffix(filepath.Base(name), ".yaml")
			ctx := cmd.Context()
			st, err := sf.Open(ctx)
			if err != nil {
				return err
			}
			rep, prefix, err := allocation.ReadLatestReport(ctx, st, name)
			if err != nil {
				return err
			}
			file := map[string]string{"md": "report.md", "json": "report.json", "html": "report.html"}[format]
			if file == "" {
				return cli.Usage("--format is md, json or html")
			}
			b, err := store.ReadAll(ctx, st, prefix+file)
			if err != nil {
				return err
			}
			cmd.OutOrStdout().Write(b)
			return shortfallExit(rep)
		},
	}
	cmd.Flags().StringVar(&name, "plan", "", "plan name")
	cmd.Flags().StringVar(&format, "format", "md", "md, json or html")
	sf.Register(cmd.Flags())
	return cmd
}

func main() { cli.Main(newRootCmd()) }
