package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/synth"
)

type synthOptions struct {
	store  cli.StoreFlags
	mpans  int
	seed   uint64
	faults float64
	cross  float64
	chunk  int
	cuts   []string
	mpids  []string
	json   bool
}

func newSynthCmd() *cobra.Command {
	o := &synthOptions{}
	cmd := &cobra.Command{
		Use:   "synth --mpans N --seed S [--store LOCATION] [--faults RATE] [--cross-faults RATE]",
		Short: "Generate a synthetic GB market's data cuts into the store's inbox",
		Long: `synth writes the data cuts of a whole synthetic market into the store's inbox,
one full submission per participant and cut type (inbox/<MPID>/<cut>/synth-<seed>/
with its submission.json): MOp meter technical details (D0150, D0149, D0268),
registration D0204 refreshes (per registration service and supplier), EES
portfolio exports (CSV) and supplier customer data (D0302, D0225). Every file
agrees with every other, passes 'datacut validate', and the same seed and size
give byte-identical files. Memory stays flat at any size.

With --faults RATE that share of MPAN units is corrupted (bad check digit,
invalid date, wrong field count, missing mandatory group) and that share of
D-flow files is broken (truncated, bad trailer); synth/ground-truth/ lists
exactly what was injected.

With --cross-faults RATE that share of MPANs is made to disagree between
participants' cuts, each cut still valid on its own (the EES names another
supplier or MOp, another meter serial or energisation status; the appointed
MOp's MTD or a domestic MPAN's customer record is left out; an export MPAN's
D0204 does not list its import partner; the EES has a row of an MPAN no
registration service knows): what 'datacut reconcile' finds.
synth/ground-truth/cross-*.jsonl lists each, with the rule that finds it and
the participant that must act.

` + cli.ExitCodesDoc,
		Example: `  datacut synth --mpans 10000 --seed 1
  datacut synth --mpans 1000000 --seed 7 --faults 0.01 --store /srv/market
  datacut synth --mpans 10000 --seed 1 --cross-faults 0.01 --store ./market
  datacut synth --mpans 30000000 --seed 1 --store s3://cuts/gb --s3-endpoint minio:9000
  datacut synth --mpans 30000000 --seed 1 --cuts mop-mtd --mpids MTRA --store ./slice`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cli.Usage("synth takes no arguments (see 'datacut synth --help')")
			}
			if o.mpans <= 0 || o.faults < 0 || o.faults > 1 || o.cross < 0 || o.cross > 1 {
				return cli.Usage("synth needs --mpans above 0, and --faults and --cross-faults between 0 and 1")
			}
			if err := synth.CheckMPIDs(o.mpids); err != nil {
				return cli.Usage("--mpids: %v", err)
			}
			if len(o.mpids) > 0 && o.faults > 0 {
				return cli.Usage("--mpids cannot be combined with --faults: a fault's draw depends on the files written, so the market would not be the whole market's")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSynth(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.store.Register(cmd.Flags())
	cmd.Flags().IntVar(&o.mpans, "mpans", 10000, "number of MPANs in the market")
	cmd.Flags().Uint64Var(&o.seed, "seed", 1, "seed: the same seed and size give the same market")
	cmd.Flags().Float64Var(&o.faults, "faults", 0, "share of units corrupted and of D-flow files broken (0 to 1)")
	cmd.Flags().Float64Var(&o.cross, "cross-faults", 0, "share of MPANs whose data is made to disagree between participants' cuts (0 to 1), for datacut reconcile")
	cmd.Flags().IntVar(&o.chunk, "chunk-mpans", 0, "MPANs per chunk: files split, and generate in parallel, at this size (default 250,000, or half of a smaller market)")
	cmd.Flags().StringSliceVar(&o.cuts, "cuts", nil, "generate only these cuts (comma-separated: mop-mtd, registration, ees, supplier-customer)")
	cmd.Flags().StringSliceVar(&o.mpids, "mpids", nil, "write only these participants' files (comma-separated MPIDs): each is the whole market's file, a quick slice of a national run")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the summary as JSON")
	return cmd
}

func runSynth(ctx context.Context, o *synthOptions, out io.Writer) error {
	st, err := o.store.Open(ctx)
	if err != nil {
		return err
	}
	bar := newProgress(int64(o.mpans), "generating MPANs")
	start := time.Now()
	sum, err := synth.Generate(ctx, st, synth.Options{MPANs: o.mpans, Seed: o.seed, FaultRate: o.faults, CrossFaultRate: o.cross, ChunkMPANs: o.chunk, Cuts: o.cuts, MPIDs: o.mpids,
		Progress: func(n int) { bar.set(int64(n)) }})
	bar.done()
	if err != nil {
		return err
	}
	if o.json {
		return json.NewEncoder(out).Encode(sum)
	}
	el := time.Since(start)
	fmt.Fprintf(out, "synthetic market: %d MPANs, seed %d, in %s (%.0f MPANs/s)\n", sum.MPANs, sum.Seed, el.Round(time.Millisecond), float64(sum.MPANs)/el.Seconds())
	fmt.Fprintf(out, "participants: %s\n", counts(sum.Participants))
	fmt.Fprintf(out, "segments:     %s   linked MPANs: %d\n", counts(sum.BySegment), sum.Linked)
	fmt.Fprintf(out, "meters:       %s\n", counts(sum.ByMeter))
	fmt.Fprintf(out, "GSP groups:   %s\n", counts(sum.ByGSP))
	fmt.Fprintf(out, "files:        %s, %.1f MB\n", counts(sum.Files), float64(sum.Bytes)/1e6)
	if o.cross > 0 {
		fmt.Fprintf(out, "cross faults: %d MPANs whose cuts disagree (ground truth in %s%s*.jsonl)\n", sum.CrossFaults, synth.TruthPrefix, synth.CrossTruthPrefix)
	}
	if o.faults > 0 {
		fmt.Fprintf(out, "faults:       %d corrupted units, %d broken files (ground truth in %s)\n", sum.Faults, sum.BrokenFiles, synth.TruthPrefix)
	}
	fmt.Fprintf(out, "written to:   %s/inbox/\n", st)
	return nil
}

// counts renders a map as "k v, k v" in key order.
func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", k, m[k])
	}
	return s
}
