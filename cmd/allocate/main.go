// Command allocate is the SI allocator: it assigns MPAN sets from published
// cuts to SIT/UIT test environments and builds each participant's load pack.
package main

import (
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/allocation"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
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
	root.AddCommand(newRunCmd(), newLintCmd(), newReportCmd(), newReleaseCmd(), newRollbackCmd(), newSynthCutsCmd())
	return root
}

func main() { cli.Main(newRootCmd()) }

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

// definitions is the pipelines directory dir, or the built-in one.
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

// shortfallExit is exit 1 when some demand of the report fell short.
func shortfallExit(r *allocation.Report) error {
	if asked, filled := r.Totals(); filled < asked {
		return cli.DataErrors
	}
	return nil
}
