package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
)

type lintOptions struct {
	plan, plans string
}

func (o *lintOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.plan, "plan", "", "one plan file to check")
	cmd.Flags().StringVar(&o.plans, "plans", "", "pipelines directory holding plans/*.yaml (default: the built-in ones)")
}

func newLintCmd() *cobra.Command {
	o := &lintOptions{}
	cmd := &cobra.Command{
		Use:   "lint [--plan FILE] [--plans DIR]",
		Short: "Check allocation plans without touching data",
		Long: `lint decodes allocation plans strictly and checks roles, participants,
attributes, filter values and per keys. Errors name file:line:col.

` + exitCodes,
		Example: `  allocate lint
  allocate lint --plan ./my-plan.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runLint(cmd.Context(), o, cmd.OutOrStdout()) },
	}
	o.register(cmd)
	return cmd
}

func runLint(_ context.Context, o *lintOptions, out io.Writer) error {
	if o.plan != "" {
		p, err := loadPlan(o.plan, o.plans)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: ok (%d environments)\n", p.Path, len(p.Environments))
		return nil
	}
	types, err := cut.LoadTypes(definitions(o.plans))
	if err != nil {
		return cli.Usage("%v", err)
	}
	plans, err := plan.Load(definitions(o.plans), types)
	if err != nil {
		return cli.Usage("%v", err)
	}
	if len(plans) == 0 {
		return cli.Usage("no plans in %s (plans/*.yaml)", dirName(o.plans))
	}
	for _, name := range sortedNames(plans) {
		p := plans[name]
		fmt.Fprintf(out, "%s: ok (%s; %d environments)\n", p.Path, p.Description, len(p.Environments))
	}
	return nil
}

func sortedNames(m map[string]*plan.Plan) []string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
