package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/allocation"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

type reportOptions struct {
	plan, format string
	store        cli.StoreFlags
}

func (o *reportOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.plan, "plan", "", "plan name")
	cmd.Flags().StringVar(&o.format, "format", "md", "md, json or html")
	o.store.Register(cmd.Flags())
}

func newReportCmd() *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report --plan NAME [--store LOCATION] [--format md|json|html]",
		Short: "Print the report of a plan's latest allocation",
		Long: `report prints the report of the plan's latest complete run: coverage per
environment and demand (asked, filled, shortfall and why), fill rates per
participant, MPANs by segment and GSP group.

Exit codes:
  0  the report was printed (a demand that fell short is in the report;
     'allocate run' exits 1 for it)
  2  usage or configuration error (flags, no store)
  3  the report could not be read (no run of the plan yet, I/O, object store)`,
		Example: `  allocate report --plan sit --store ./data
  allocate report --plan sit --format html > sit.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runReport(cmd.Context(), o, cmd.OutOrStdout()) },
	}
	o.register(cmd)
	return cmd
}

// reportFiles are the report's formats and the files of a run holding them.
var reportFiles = map[string]string{"md": cut.ReportMarkdown, "json": cut.ReportJSON, "html": cut.ReportHTML}

func runReport(ctx context.Context, o *reportOptions, out io.Writer) error {
	if o.plan == "" {
		return cli.Usage("--plan is required (the plan's name)")
	}
	file := reportFiles[o.format]
	if file == "" {
		return cli.Usage("--format is md, json or html")
	}
	name := strings.TrimSuffix(filepath.Base(o.plan), ".yaml")
	st, err := o.store.OpenExisting(ctx)
	if err != nil {
		return err
	}
	_, prefix, err := allocation.ReadLatestReport(ctx, st, name)
	if err != nil {
		return err
	}
	b, err := store.ReadAll(ctx, st, prefix+file)
	if err != nil {
		return err
	}
	_, err = out.Write(b)
	return err // a shortfall is in the report, not the exit code: report > sit.html works in scripts
}
