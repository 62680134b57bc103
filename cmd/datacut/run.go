package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/store"
)

type runOptions struct {
	maskFlags
	store     cli.StoreFlags
	mpid, cut string
	shard     string
	workers   int
	instance  instanceFlag
	keepRaw   bool
	json      bool
	grace     time.Duration
}

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run [--store LOCATION] [--mpid M] [--cut C] [--shard I/N] [--workers K]",
		Short: "Validate, mask and publish every complete submission in the inbox",
		Long: `run takes every complete submission from the store's inbox
(inbox/<MPID>/<cut>/<submission id>/ with its submission.json; see
docs/submissions.md), validates each file, masks it with the programme key per
the DPIA rules and publishes a new version of the MPID's cut as Parquet tables
under cuts/<cut>/mpid=<MPID>/cut=<cut id>/, manifest.json written last: a
version without a manifest does not exist for readers. cuts/<cut>/mpid=<MPID>/
latest.json then names the latest version (by as-at date, then version).

An amendment makes a version from the one it amends, less the files it replaces
or withdraws, plus its own: the earlier raw files are not needed. A submission
without its submission.json, or missing a file it lists, or loose files outside
a submission folder, wait in the inbox: never published, never removed.

What validation finds of a file as a whole (no instances at all, a flow
version not in DTC 15.4, a record out of place) is listed as the version's
warnings in the manifest, the receipt and the summary; such a finding of
severity error makes the exit 1, as datacut validate's does.

Instances that fail validation are left out and listed in the manifest; broken
files are copied to quarantine/<cut>/mpid=<MPID>/<submission id>/files/ with a
report under reports/<cut>/mpid=<MPID>/<submission id>/, beside the
submission's receipt.json. Re-running is safe: taken submissions are
recognised by their receipt, an interrupted run completes without duplicates,
and what a crashed run left behind (spool files, a version folder without a
manifest) is removed once older than --leftover-grace. Raw inbox files are
removed once their submission is taken (DPIA data minimisation) unless
--keep-raw is given.

Scale out with --workers (cuts processed at once) and --shard I/N: N processes,
each with its own I, split the inbox between them without overlap.

` + cli.ExitCodesDoc,
		Example: `  export DATACUT_MASK_KEY=…          # the programme key, 64 hex characters
  datacut run
  datacut run --store s3://cuts/sit --s3-endpoint minio:9000 --shard 0/4
  datacut run --cut mop-mtd --mpid MTRA --keep-raw --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cli.Usage("run takes no arguments (see 'datacut run --help')")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.register(cmd.Flags())
	o.store.Register(cmd.Flags())
	cmd.Flags().StringVar(&o.mpid, "mpid", "", "only cuts of this MPID")
	cmd.Flags().StringVar(&o.cut, "cut", "", "only this cut type (one defined in the pipelines' cuts/*.yaml: built in, "+strings.Join(builtInCutTypes(), ", ")+")")
	cmd.Flags().StringVar(&o.shard, "shard", "", "I/N: this process takes shard I (0-based) of N")
	cmd.Flags().IntVar(&o.workers, "workers", 2, fmt.Sprintf("cuts processed at once (1 to %d)", maxWorkers))
	o.instance.register(cmd.Flags())
	cmd.Flags().BoolVar(&o.keepRaw, "keep-raw", false, "keep raw inbox files after their cut is published")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the summary as JSON")
	cmd.Flags().DurationVar(&o.grace, "leftover-grace", pipeline.DefaultLeftoverGrace, "remove what crashed runs left once older than this (longer than any run takes)")
	return cmd
}

func parseShard(s string) (int, int, error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, cli.Usage("--shard must be I/N with 0 <= I < N, like 0/4")
	}
	return i, n, nil
}

// logger writes JSON logs to stderr, or short console lines on a terminal
// (where the progress bar tells the story).
func logger() zerolog.Logger {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	}
	return zerolog.New(os.Stderr).With().Timestamp().Logger()
}

// maxWorkers bounds --workers: each worker holds a cut's buffers, and more
// than this would outgrow the run's memory budget long before it helps.
const maxWorkers = 64

func runRun(ctx context.Context, o *runOptions, out io.Writer) error {
	shard, shards, err := parseShard(o.shard)
	if err != nil {
		return err
	}
	if o.workers < 1 || o.workers > maxWorkers {
		return cli.Usage("--workers is %d: it must be 1 to %d (cuts processed at once)", o.workers, maxWorkers)
	}
	maxInstance, err := o.instance.bytes()
	if err != nil {
		return err
	}
	if err := checkMPIDFlag(o.mpid); err != nil {
		return err
	}
	set, err := o.pipelines()
	if err != nil {
		return err
	}
	if o.cut != "" && set.ByName[o.cut] == nil {
		return cli.Usage("--cut %q is not a cut type of %s (one of %s)", o.cut, o.where(), strings.Join(set.Names(), ", "))
	}
	key, err := mask.LoadKey(o.keyFile)
	if err != nil {
		return cli.Usage("%v", err)
	}
	st, err := o.store.Open(ctx)
	if err != nil {
		return err
	}
	if err := checkRunMPID(ctx, st, set.Register, o.mpid); err != nil {
		return err
	}
	tuneGC()
	bar := newProgress(0, "publishing cuts (bytes)")
	sum, err := pipeline.Run(ctx, pipeline.Options{Store: st, Pipelines: set, Key: key, MPID: o.mpid, Cut: o.cut,
		Shard: shard, Shards: shards, Workers: o.workers, MaxInstanceBytes: maxInstance, KeepRaw: o.keepRaw, LeftoverGrace: o.grace, Log: logger(), Tool: cli.ToolVersion("datacut"),
		Progress: func(done, total int64) { bar.setTotal(total); bar.set(done) }})
	bar.done()
	if err != nil {
		return err
	}
	publishStatus(ctx, st, set, os.Stderr)
	if o.json {
		json.NewEncoder(out).Encode(sum)
	} else {
		printRunSummary(out, sum, st.String())
	}
	rejected, quarantined := sum.Totals()
	switch {
	case sum.Count(pipeline.StatusFailed) > 0:
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("%d cuts failed (see the summary and logs)", sum.Count(pipeline.StatusFailed))}
	case rejected > 0 || quarantined > 0 || sum.FileErrors() > 0 || sum.Count(pipeline.StatusNoPipeline) > 0:
		return cli.DataErrors
	}
	return nil
}

// checkRunMPID refuses an --mpid that names no participant: one neither in
// the programme register nor with a folder in the inbox, which would
// otherwise be "nothing pending".
func checkRunMPID(ctx context.Context, st store.Store, reg *programme.Register, mpid string) error {
	if mpid == "" || (reg != nil && reg.Org(mpid) != nil) {
		return nil
	}
	inbox, err := inboxMPIDs(ctx, st)
	if err != nil {
		return err
	}
	if slices.Contains(inbox, mpid) {
		return nil
	}
	known := "the programme register has none"
	if reg != nil {
		known = "the programme register has " + strings.Join(reg.MPIDs(), ", ")
	}
	return cli.Usage("--mpid %s is neither in the programme register nor in %s/inbox/ (%s; the inbox has %s): check the MPID, or add it to programme.yaml",
		mpid, st, known, orNone(inbox))
}

// inboxMPIDs are the MPIDs with a folder in the inbox, sorted.
func inboxMPIDs(ctx context.Context, st store.Store) ([]string, error) {
	var out []string
	err := st.List(ctx, cut.InboxRoot, func(i store.Info) error {
		// Keys come in order, so an MPID's keys are together.
		if f, err := cut.ParseInboxKey(i.Key); err == nil && (len(out) == 0 || out[len(out)-1] != f.MPID) {
			out = append(out, f.MPID)
		}
		return nil
	})
	return out, err
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

func printRunSummary(w io.Writer, s *pipeline.Summary, where string) {
	if len(s.Cuts) == 0 {
		fmt.Fprintf(w, "nothing pending in %s/inbox/\n", where)
		return
	}
	fmt.Fprintf(w, "%-18s %-6s %-22s %-19s %7s %6s %10s %9s %11s\n", "CUT", "MPID", "SUBMISSION", "STATUS", "VERSION", "TABLES", "ROWS", "REJECTED", "QUARANTINED")
	for _, c := range s.Cuts {
		version := "-"
		if c.Version > 0 {
			version = fmt.Sprint(c.Version)
			if c.Latest {
				version += "*"
			}
		}
		sub := c.Submission
		if sub == "" {
			sub = "(loose files)"
		}
		fmt.Fprintf(w, "%-18s %-6s %-22s %-19s %7s %6d %10d %9d %11d\n", c.Cut, c.MPID, sub, c.Status, version, c.Tables, c.Rows, c.Rejected, c.Quarantined)
		for _, warning := range c.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", warning)
		}
		if c.DuplicateUnits > 0 {
			fmt.Fprintf(w, "  warning: %d MPAN units appear twice in one flow (where: duplicateUnits in %s%s)\n", c.DuplicateUnits, c.Prefix, cut.ManifestFile)
		}
		if c.Waiting != "" {
			fmt.Fprintf(w, "  waiting since %s: %s\n", c.Since.UTC().Format("2006-01-02 15:04"), c.Waiting)
		}
		if c.Error != "" {
			fmt.Fprintf(w, "  %s\n", c.Error)
		}
	}
	rejected, quarantined := s.Totals()
	mb := float64(s.InputBytes) / 1e6
	fmt.Fprintf(w, "\n%s published, %s already published, %d waiting, %d failed; %s rejected, %s quarantined\n",
		plural(s.Count(pipeline.StatusPublished), "version"), plural(s.Count(pipeline.StatusAlreadyPublished), "submission"), s.Count(pipeline.StatusWaiting),
		s.Count(pipeline.StatusFailed), plural(rejected, "instance"), plural(quarantined, "file"))
	if n := s.FileErrors(); n > 0 {
		fmt.Fprintf(w, "%s about published files as a whole (the warnings above; datacut validate exits 1 on them too)\n", plural(n, "error"))
	}
	fmt.Fprintf(w, "%.1f MB of input in %.1fs (%.1f MB/s)\n", mb, s.Seconds, mb/max(s.Seconds, 1e-9))
	fmt.Fprintf(w, "tables:      %s/cuts/<cut>/mpid=<MPID>/cut=<id>/*.parquet (manifest.json beside them; * marks a cut's latest version)\n", where)
	fmt.Fprintf(w, "receipts:    %s/reports/<cut>/mpid=<MPID>/<submission>/receipt.json\n", where)
	if quarantined > 0 {
		fmt.Fprintf(w, "quarantine:  %s/quarantine/ (the files), %s/reports/ (a .report.json for each, saying what to fix)\n", where, where)
	}
	if len(s.Leftovers) > 0 {
		fmt.Fprintf(w, "removed %d leftovers of crashed runs (version folders without a manifest, spool files)\n", len(s.Leftovers))
	}
	if len(s.Ignored) > 0 {
		fmt.Fprintf(w, "ignored %d inbox objects, left where they are:\n", len(s.Ignored))
		for i, ig := range s.Ignored {
			if i == 10 {
				fmt.Fprintf(w, "  ... and %d more (--json lists them all)\n", len(s.Ignored)-i)
				break
			}
			fmt.Fprintf(w, "  %s: %s\n", ig.Key, ig.Reason)
		}
	}
}

// plural is "1 version", "2 versions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// tuneGC trades memory the run has to spare for less collection: the live
// heap of a run is a couple of hundred MB whatever the input, so collecting
// at 3x it costs little. Higher costs more than it saves now that little is
// garbage: at 5x (GOGC=400) the heap touched twice the pages, and the page
// faults cost more CPU than the collections spared (docs/performance.md).
//
// The soft limit, runMemoryLimit, caps the 3x: the live heap has brief
// highs (batches of several tables and cuts at once) up to about 260 MB,
// and 3x the highest of a run's collections set its peak, so a larger
// market, with more collections, met a higher one and peaked higher. Under
// the cap a high only means more frequent collections while it lasts.
// An explicit GOGC or GOMEMLIMIT wins.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	cli.SoftMemoryLimit(runMemoryLimit)
}

// runMemoryLimit is datacut run's soft memory limit: 2.5x its largest live
// heap at any market size (docs/performance.md).
const runMemoryLimit = 640 << 20
