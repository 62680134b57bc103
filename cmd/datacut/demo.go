package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/pipelines"
)

type demoOptions struct {
	dir   string
	mpans int
}

func newDemoCmd() *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo [--store DIR] [--mpans N]",
		Short: "Generate a small synthetic market and run every pipeline on it",
		Long: `demo is the first thing to run: it generates a synthetic market with a few
faults into a local directory (./data), runs every pipeline on it (validate,
mask, publish Parquet) and prints the summary and where the tables are.

It masks with $` + mask.KeyEnv + ` when set, else with a fixed demo key that is
printed as such: never use the demo key for real data.

` + cli.ExitCodesDoc,
		Example: `  go run ./cmd/datacut demo
  datacut demo --store /tmp/market --mpans 50000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDemo(cmd.Context(), o, cmd.OutOrStdout()) },
	}
	cmd.Flags().StringVar(&o.dir, "store", "./data", "local directory for the market and its cuts")
	cmd.Flags().IntVar(&o.mpans, "mpans", 5000, "MPANs in the synthetic market")
	return cmd
}

func runDemo(ctx context.Context, o *demoOptions, out io.Writer) error {
	key, err := mask.LoadKey("")
	if err != nil {
		sum := sha256.Sum256([]byte("datacut demo key: never for real data"))
		key, _ = mask.ParseKey(hex.EncodeToString(sum[:]))
		fmt.Fprintf(out, "masking with the DEMO key (%s): set %s to the programme key for real data\n", key.Fingerprint(), mask.KeyEnv)
	}
	st, err := cli.OpenStore(ctx, o.dir, locationNone())
	if err != nil {
		return err
	}
	gen, err := synth.Generate(ctx, st, synth.Options{MPANs: o.mpans, Seed: 1, FaultRate: 0.005})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "generated a synthetic market of %d MPANs: %d files, %.1f MB, %d faulty units and %d broken files on purpose\n\n",
		gen.MPANs, gen.Files["mop-mtd"]+gen.Files["registration"]+gen.Files["ees"]+gen.Files["supplier-customer"],
		float64(gen.Bytes)/1e6, gen.Faults, gen.BrokenFiles)
	set, err := pipeline.Load(pipelines.FS)
	if err != nil {
		return err
	}
	bar := newProgress(0, "publishing cuts (bytes)")
	sum, err := pipeline.Run(ctx, pipeline.Options{Store: st, Pipelines: set, Key: key, KeepRaw: true, Log: quietLogger(),
		Tool: cli.ToolVersion("datacut"), Progress: func(d, t int64) { bar.setTotal(t); bar.set(d) }})
	bar.done()
	if err != nil {
		return err
	}
	printRunSummary(out, sum, st.String())
	fmt.Fprintf(out, "\nnext: datacut ls --store %s cuts/   ·   datacut verify --store %s --cut <prefix>   (the faults above are intended)\n", o.dir, o.dir)
	if sum.Count(pipeline.StatusFailed) > 0 {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("some cuts failed")}
	}
	return nil
}

// quietLogger keeps the demo's screen to the summary (DATACUT_LOG=1 for all).
func quietLogger() zerolog.Logger {
	l := logger()
	if os.Getenv("DATACUT_LOG") == "" {
		l = l.Level(zerolog.WarnLevel)
	}
	return l
}
