package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/submit"
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
faults into a local directory (./data), one submission per participant and cut
type, runs every pipeline on it (validate, mask, publish Parquet) and prints the
summary and where the tables are. Then it plays one participant's Monday
morning: a file of theirs was quarantined for a wrong trailer, so it corrects
the trailer and sends the file as an amendment of the version just published
(what 'datacut submit --amend' does), and runs again: version 2 holds every
row.

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
	if sum.Count(pipeline.StatusFailed) > 0 {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("some cuts failed")}
	}
	if err := demoAmendment(ctx, st, o.dir, sum, func(mpid, cutType string) (*pipeline.Summary, error) {
		return pipeline.Run(ctx, pipeline.Options{Store: st, Pipelines: set, Key: key, MPID: mpid, Cut: cutType, KeepRaw: true, Log: quietLogger(),
			Tool: cli.ToolVersion("datacut")})
	}, out); err != nil {
		return err
	}
	publishStatus(ctx, st, set, out)
	fmt.Fprintf(out, "\nnext: datacut status --store %s   ·   datacut ls --store %s cuts/   ·   datacut verify --store %s --cut <prefix>   (the faults above are intended)\n", o.dir, o.dir, o.dir)
	return nil
}

// demoAmendment corrects the trailer of the first file quarantined for its
// trailer's counts, sends it as an amendment of the version published
// without it, and runs that cut again.
func demoAmendment(ctx context.Context, st store.Store, dir string, sum *pipeline.Summary, run func(mpid, cutType string) (*pipeline.Summary, error), out io.Writer) error {
	for _, c := range sum.Cuts {
		if c.Status != pipeline.StatusPublished || c.Quarantined == 0 {
			continue
		}
		m, err := cut.ReadManifest(ctx, st, c.Prefix)
		if err != nil {
			return err
		}
		q := m.Quarantined[0]
		if q.Rule != dflow.RuleTrailerGroups {
			continue
		}
		local := filepath.Join(os.TempDir(), "datacut-demo", cut.BaseName(q.Input))
		if err := repairTrailer(ctx, st, q.Key, local); err != nil {
			return err
		}
		defs, err := submit.LoadDefinitions(pipelines.FS)
		if err != nil {
			return err
		}
		name := cut.BaseName(q.Input)
		plan, err := submit.Prepare(defs, submit.Request{MPID: c.MPID, Cut: c.Cut, AsAt: synth.AsAt, Amend: m.Version, Replaces: []string{name}, Files: []string{local}}, time.Now(), nil)
		if err != nil {
			return err
		}
		id, err := submit.Upload(ctx, st, plan, time.Now(), nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\n%s's %s file %s was quarantined (%s). Corrected and sent as an amendment of version %d, as\n", c.MPID, c.Cut, name, q.Rule, m.Version)
		fmt.Fprintf(out, "  datacut submit --store %s --mpid %s --cut %s --amend %d --replace %s %s\n", dir, c.MPID, c.Cut, m.Version, name, local)
		fmt.Fprintf(out, "would (submission %s). The next run publishes version %d: version %d's rows plus the corrected file's:\n\n", id, m.Version+1, m.Version)
		again, err := run(c.MPID, c.Cut)
		if err != nil {
			return err
		}
		printRunSummary(out, again, st.String())
		return nil
	}
	return nil
}

// repairTrailer rewrites a D-flow whose trailer miscounts with the counts
// of what it holds, as a participant correcting it would.
func repairTrailer(ctx context.Context, st store.Store, key, path string) error {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := dflow.NewReader(rc, key, dflow.Options{})
	h, err := rd.Header()
	if err != nil {
		return err
	}
	w, err := dflow.NewWriter(f, *h, dflow.WriterOptions{})
	if err != nil {
		return err
	}
	for {
		inst, err := rd.Next()
		if err != nil { // the end, or the trailer that miscounts
			break
		}
		for _, rec := range inst.Records {
			if err := w.WriteRecord(rec); err != nil {
				return err
			}
		}
	}
	if err := w.Close("", synth.Created); err != nil {
		return err
	}
	return f.Close()
}

// quietLogger keeps the demo's screen to the summary (DATACUT_LOG=1 for all).
func quietLogger() zerolog.Logger {
	l := logger()
	if os.Getenv("DATACUT_LOG") == "" {
		l = l.Level(zerolog.WarnLevel)
	}
	return l
}
