package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
)

type synthCutsOptions struct {
	dir   string
	mpans int
	seed  uint64
}

// newSynthCutsCmd writes a synthetic market straight as published cut
// tables (the EES columns the universe reads and D0204 related MPANs), for
// measuring the allocator at national scale without parsing 30 GB of
// D-flows first. Hidden: a tool for performance work.
func newSynthCutsCmd() *cobra.Command {
	o := &synthCutsOptions{}
	cmd := &cobra.Command{
		Use:    "synth-cuts --mpans N --store DIR",
		Short:  "Write a synthetic market directly as published cut tables (performance work)",
		Hidden: true,
		Args:   cobra.NoArgs,
		Example: `  allocate synth-cuts --mpans 30000000 --store /tmp/national
  allocate run --plan cmd/allocate/testdata/national.yaml --store /tmp/national --no-packs`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSynthCuts(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.register(cmd)
	return cmd
}

func (o *synthCutsOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.dir, "store", "./data", "local directory")
	cmd.Flags().IntVar(&o.mpans, "mpans", 1_000_000, "MPANs in the market")
	cmd.Flags().Uint64Var(&o.seed, "seed", 1, "market seed")
}

func runSynthCuts(ctx context.Context, o *synthCutsOptions, out io.Writer) error {
	if o.mpans <= 0 {
		return cli.Usage("--mpans must be positive")
	}
	st, err := local.Open(o.dir)
	if err != nil {
		return err
	}
	sum, err := synth.WriteUniverseCuts(ctx, st, synth.UniverseCutsOptions{MPANs: o.mpans, Seed: o.seed, Tool: "allocate synth-cuts"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %d MPANs as %d cut tables in %s (%.0fs)\n", sum.MPANs, sum.Tables, st, sum.Seconds)
	return nil
}
