package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/access"
	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/location"
	"github.com/mhhs-sit/datacut/internal/store/s3"
	"github.com/mhhs-sit/datacut/internal/submit"
)

type submitOptions struct {
	defsFlags
	store       cli.StoreFlags
	mpid, cut   string
	asAt        string
	amend       int
	replaces    []string
	withdraws   []string
	id          string
	allowBroken bool
	wait        bool
	timeout     time.Duration
	json        bool
	maxFindings int
	poll        time.Duration // how often --wait reads the receipt
}

// bigUpload is the size from which checking and uploading show progress.
const bigUpload = 16 << 20

func newSubmitCmd() *cobra.Command {
	o := &submitOptions{poll: time.Second}
	cmd := &cobra.Command{
		Use:   "submit --mpid M --cut C [--as-at DATE] [--amend N [--replace NAME]... [--withdraw NAME]...] [--wait] FILE...",
		Short: "Check a cut's files and upload them as one submission to the inbox",
		Long: `submit sends one MPID's cut (or an amendment of a published version) to the
store as a submission: it checks every FILE first, the way 'datacut run' will
read it, then uploads the files to inbox/<MPID>/<cut>/<submission id>/ and
writes submission.json there last, listing each file with its size and SHA-256.
A run takes the submission only once submission.json and every file it lists
are there (docs/submissions.md).

Checking reads the cut type's definition (--pipelines, default built in): D-flow
files must be whole (header, trailer, counts), of a flow of the cut type and,
with the programme register, from a sender that may send it for --mpid; EES
exports must have known columns. A file that fails these would be quarantined
whole: nothing is uploaded unless --allow-broken. Instances (EES: rows) with
errors are listed as warnings: the run keeps them aside and publishes the rest.
Findings show your data's values: they stay on your screen, never in the store.

Each submission gets a new id (--id to choose one; an id is used once). The
as-at date says when the data was extracted (default today, UTC): the cut's
latest version is the one with the latest as-at, not the one sent last.
--amend N sends an amendment of version N: its files are added, --replace and
--withdraw name files of version N to leave out.

--wait waits for the run to take the submission and prints its receipt: the
version published, rows per table, rejected instances and quarantined files.
--wait --id ID without files waits for a submission sent before.

Exit 1 means the data had errors even when it was sent: rejected instances,
broken files (then nothing was sent, unless --allow-broken), or a receipt with
quarantined files or nothing published.

` + cli.ExitCodesDoc,
		Example: `  export DATACUT_MASK_KEY=…   # 64 hex digits: demo and run must mask with the same key for a run to take an amendment
  datacut demo                # a synthetic market, each cut published as version 1; its files stay in data/inbox/
  datacut submit --mpid FRNT --cut ees data/inbox/FRNT/ees/synth-1/EES_0001.csv
  datacut submit --mpid MTRA --cut mop-mtd --as-at 2026-11-30 data/inbox/MTRA/mop-mtd/synth-1/*.dat
  datacut submit --mpid IRIS --cut ees --amend 1 --replace EES_0001.csv data/inbox/IRIS/ees/synth-1/EES_0001.csv
  datacut submit --mpid IRIS --cut ees --id iris-1 data/inbox/IRIS/ees/synth-1/EES_0001.csv
  datacut run                 # takes the four, and removes the files it took, the demo's too, from data/inbox/
  datacut submit --mpid IRIS --cut ees --id iris-1 --wait --timeout 10m   # until a run has taken it
  datacut submit --store s3://cuts/sit --s3-endpoint minio:9000 --mpid IRIS --cut ees --wait --json EES_*.csv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("timeout") && !o.wait {
				return cli.Usage("--timeout is for --wait")
			}
			return runSubmit(cmd.Context(), o, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.register(cmd.Flags())
	o.store.Register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&o.mpid, "mpid", "", "the MPID whose cut this is (its inbox folder)")
	f.StringVar(&o.cut, "cut", "", "the cut type (built in: "+strings.Join(builtInCutTypes(), ", ")+")")
	f.StringVar(&o.asAt, "as-at", "", "when the data was extracted: 2026-11-30 or 2026-11-30T06:00:00Z (default today, UTC)")
	f.IntVar(&o.amend, "amend", 0, "send an amendment of this published version")
	f.StringArrayVar(&o.replaces, "replace", nil, "with --amend: a file of the amended version to leave out, replaced by the files sent (repeatable)")
	f.StringArrayVar(&o.withdraws, "withdraw", nil, "with --amend: a file of the amended version to leave out (repeatable)")
	f.StringVar(&o.id, "id", "", "the submission id (default: the time and 4 random hex digits, 20261201T201500Z-3f9a)")
	f.BoolVar(&o.allowBroken, "allow-broken", false, "upload even files the run will quarantine")
	f.BoolVar(&o.wait, "wait", false, "wait for the submission's receipt and print it")
	f.DurationVar(&o.timeout, "timeout", 30*time.Minute, "with --wait: give up waiting after this long")
	f.BoolVar(&o.json, "json", false, "print the result as one JSON object")
	f.IntVar(&o.maxFindings, "max-findings", 20, "findings listed per file (all are counted)")
	return cmd
}

func runSubmit(ctx context.Context, o *submitOptions, files []string, out, errOut io.Writer) error {
	defs, err := submit.LoadDefinitions(o.definitions())
	if err != nil {
		return cli.Usage("%v", err)
	}
	req := submit.Request{MPID: o.mpid, Cut: o.cut, AsAt: o.asAt, Amend: o.amend, Replaces: o.replaces, Withdraws: o.withdraws,
		ID: o.id, AllowBroken: o.allowBroken, Files: files, MaxFindings: o.maxFindings, Tool: cli.ToolVersion("datacut")}
	if o.wait && o.id != "" && len(files) == 0 && o.amend == 0 && len(o.withdraws) == 0 {
		return waitAgain(ctx, o, defs, out, errOut)
	}
	st, err := o.store.Open(ctx) // before reading the files: a wrong store is said at once
	if err != nil {
		return err
	}
	res := &submit.Result{Store: st.String()}
	check := &lazyProgress{what: "checking (bytes read)"}
	plan, err := submit.Prepare(defs, req, time.Now(), check.update)
	check.done()
	if err != nil {
		return submitErr(err)
	}
	res.Submission, res.Files = plan.Submission, plan.Files
	if !o.json {
		submit.WriteFiles(out, plan.Files)
	}
	if plan.Refused() {
		res.Refused = true
		if o.json {
			return printJSON(out, res, cli.DataErrors)
		}
		submit.WriteRefusal(out, plan)
		return cli.DataErrors
	}
	up := &lazyProgress{what: "uploading (bytes)"}
	id, err := submit.Upload(ctx, st, plan, time.Now(), up.update)
	up.done()
	if errors.Is(err, s3.ErrAccessDenied) {
		return deniedErr(err, st, defs.Register, o.mpid, o.cut)
	}
	if err != nil {
		return submitErr(err)
	}
	res.ID, res.Folder, res.Uploaded = id, cut.SubmissionDir(o.mpid, o.cut, id), true
	res.ReceiptKey = cut.ReceiptKey(o.cut, o.mpid, id)
	if !o.json {
		submit.WriteSubmitted(out, res)
		if !o.wait {
			fmt.Fprintf(out, "next: the next 'datacut run' on this store takes it and writes its receipt to %s\n", res.ReceiptKey)
			fmt.Fprintf(out, "  to wait for it: datacut submit%s --mpid %s --cut %s --id %s --wait\n", o.storeArgs(), o.mpid, o.cut, id)
		}
	}
	if o.wait {
		if err := o.waitReceipt(ctx, st, res, errOut); err != nil {
			if o.json {
				return printJSON(out, res, err)
			}
			return err
		}
		if !o.json {
			submit.WriteReceipt(out, res.ReceiptKey, res.Receipt)
		}
	}
	var code error
	if res.DataErrors() {
		code = cli.DataErrors
	}
	if o.json {
		return printJSON(out, res, code)
	}
	return code
}

// waitAgain waits for the receipt of a submission sent before.
func waitAgain(ctx context.Context, o *submitOptions, defs *submit.Definitions, out, errOut io.Writer) error {
	switch err := checkMPIDFlag(o.mpid); {
	case err != nil:
		return err
	case o.mpid == "":
		return cli.Usage("--mpid is needed: the MPID the submission was sent for")
	case defs.Types.Named(o.cut) == nil:
		return cli.Usage("--cut %q is not a cut type (one of %s)", o.cut, strings.Join(defs.Types.Names(), ", "))
	case !cut.IsSubmissionID(o.id):
		return cli.Usage("--id %q is not a submission id", o.id)
	}
	st, err := o.store.OpenExisting(ctx)
	if err != nil {
		return err
	}
	ok, err := submit.Submitted(ctx, st, o.mpid, o.cut, o.id)
	if err != nil {
		return err
	}
	if !ok {
		return cli.Usage("%s has no submission %s of %s's %s to wait for (no %s, no receipt); to send files, name them", st, o.id, o.mpid, o.cut, cut.SubmissionKey(o.mpid, o.cut, o.id))
	}
	res := &submit.Result{Store: st.String(), ID: o.id, Folder: cut.SubmissionDir(o.mpid, o.cut, o.id), Uploaded: true,
		ReceiptKey: cut.ReceiptKey(o.cut, o.mpid, o.id), Files: []*submit.FileReport{}}
	if err := o.waitReceipt(ctx, st, res, errOut); err != nil {
		if o.json {
			return printJSON(out, res, err)
		}
		return err
	}
	var code error
	if res.DataErrors() {
		code = cli.DataErrors
	}
	if o.json {
		return printJSON(out, res, code)
	}
	submit.WriteReceipt(out, res.ReceiptKey, res.Receipt)
	return code
}

// waitReceipt waits for res's receipt until --timeout or a signal.
func (o *submitOptions) waitReceipt(ctx context.Context, st store.Store, res *submit.Result, errOut io.Writer) error {
	fmt.Fprintf(errOut, "waiting up to %s for the receipt %s (Ctrl-C stops waiting; the submission stays)\n", o.timeout, res.ReceiptKey)
	wctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	rc, err := submit.Wait(wctx, st, o.cut, o.mpid, res.ID, o.poll)
	if err != nil {
		again := fmt.Sprintf("datacut submit%s --mpid %s --cut %s --id %s --wait", o.storeArgs(), o.mpid, o.cut, res.ID)
		switch {
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			err = fmt.Errorf("no receipt after %s: submission %s waits in the inbox for a run; wait again with: %s", o.timeout, res.ID, again)
		case errors.Is(err, context.Canceled):
			err = fmt.Errorf("stopped waiting: submission %s stays in the inbox for a run; wait again with: %s", res.ID, again)
		}
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	res.Receipt = rc
	return nil
}

// storeArgs repeats the store flags given (not those from the
// environment) for commands printed to run next.
func (o *submitOptions) storeArgs() string {
	var b strings.Builder
	if o.store.Location != location.Default {
		b.WriteString(" --store " + o.store.Location)
	}
	env := cli.S3FromEnv()
	if o.store.S3.Endpoint != env.Endpoint {
		b.WriteString(" --s3-endpoint " + o.store.S3.Endpoint)
	}
	if o.store.S3.Region != env.Region {
		b.WriteString(" --s3-region " + o.store.S3.Region)
	}
	if o.store.S3.Insecure != env.Insecure {
		fmt.Fprintf(&b, " --s3-insecure=%t", o.store.S3.Insecure)
	}
	return b.String()
}

// deniedErr says why S3 refused an upload (the store's error names the key
// and what was refused) and what these credentials may write.
func deniedErr(err error, st store.Store, reg *programme.Register, mpid, cutType string) error {
	who := store.Who(st)
	if errors.Is(err, submit.ErrAuditRecord) {
		return fmt.Errorf("%w\n  the store's policies do not let %s add its submissions' audit records (%s): they predate this datacut; the operator runs 'datacut access apply' again", err, who, audit.SubmitPattern(mpid))
	}
	may, whose := "only the inbox of its own organisation's MPIDs (inbox/<MPID>/)", who
	if o, ok := access.Organisation(reg, strings.TrimPrefix(who, "s3:")); ok {
		var inboxes []string
		for _, m := range o.MPIDs {
			inboxes = append(inboxes, cut.InboxRoot+m.MPID+"/")
		}
		may, whose = "only "+strings.Join(inboxes, ", "), who+", "+o.Name
	}
	return fmt.Errorf("%w\n  %s's %s cut not sent: your credentials (%s) may write %s; check --mpid and DATACUT_S3_ACCESS_KEY", err, mpid, cutType, whose, may)
}

// submitErr makes a request's mistakes usage errors (exit 2).
func submitErr(err error) error {
	var re *submit.RequestError
	if errors.As(err, &re) {
		return &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	return err
}

// printJSON prints the result and returns code, printed once to stderr by
// cli.Execute unless it is the silent exit 1.
func printJSON(out io.Writer, res *submit.Result, code error) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	return code
}

// lazyProgress shows a bar once the total is worth one.
type lazyProgress struct {
	what string
	bar  *progress
}

func (l *lazyProgress) update(done, total int64) {
	if l.bar == nil {
		if total < bigUpload {
			return
		}
		l.bar = newProgress(total, l.what)
	}
	l.bar.set(done)
}

func (l *lazyProgress) done() {
	if l.bar != nil {
		l.bar.done()
	}
}
