package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/access"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/reconcile"
	"github.com/mhhs-sit/datacut/internal/status"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/s3"
)

type statusOptions struct {
	defsFlags
	store cli.StoreFlags
	mpid  string
	json  bool
	html  string
}

func newStatusCmd() *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [--store LOCATION] [--mpid M] [--json] [--html FILE]",
		Short: "What each participant has sent and still owes, per MPID and cut type",
		Long: `status lists, per organisation, MPID and cut type of the programme register
(pipelines/programme.yaml), what has arrived: the latest version of the cut
(the one its latest.json names: version number, as-at date, rows, rejected
instances), how many versions exist, the broken files kept in quarantine, and
the submissions waiting in the inbox with their age and what each waits for
(files still to upload, a submission.json to correct; "ready" when the next
run takes it); and a state:

  received    the latest version is in time
  awaited     nothing yet, not due yet
  overdue     nothing yet and the due date has passed (a refreshed cut is
              owed from the start)
  stale       a refreshed cut (EES) whose latest version's data is older
              than its interval, by its as-at date (a date counts to its end)
  unexpected  sent, but the register does not ask this MPID for it

It reads manifests, latest.json, submission.json and listings only, never
data. --html FILE also writes the rows as one self-contained page (filter by
state with its chips).

Last, each MPID's open findings in the latest reconciliation run (datacut
reconcile; reconciliation/latest.json names it): errors, warnings and where
its worklist is, counted from that MPID's own worklist and no other file
(--json: each row's "findings", by its cut type).

On MinIO it reads what the credentials in use may: a participant's (from
datacut access apply) show its own organisation's MPIDs and their findings
only; credentials that may not list the store (a test lead's) show the
status the last datacut run published (reports/status.json), without
findings, and say when that was.

` + cli.ExitCodesDoc,
		Example: `  datacut status --store ./data
  datacut status --store ./data --mpid BRGT
  datacut status --store ./data --html status.html
  datacut status --store s3://cuts/sit --s3-endpoint minio:9000 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd.Context(), o, cmd.OutOrStdout(), time.Now())
		},
	}
	o.defsFlags.register(cmd.Flags())
	o.store.Register(cmd.Flags())
	cmd.Flags().StringVar(&o.mpid, "mpid", "", "only this MPID")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the rows as JSON")
	cmd.Flags().StringVar(&o.html, "html", "", "also write the rows as a self-contained HTML page to this file")
	return cmd
}

func runStatus(ctx context.Context, o *statusOptions, out io.Writer, now time.Time) error {
	set, err := o.pipelines()
	if err != nil {
		return err
	}
	if set.Register == nil {
		return cli.Usage("%s has no programme.yaml: status compares the store with the programme register", o.where())
	}
	if err := checkMPIDFlag(o.mpid); err != nil {
		return err
	}
	st, err := o.store.OpenExisting(ctx)
	if err != nil {
		return err
	}
	scope, note := statusScope(o.mpid, st, set)
	rows, err := status.Build(ctx, st, set.Register, now, scope)
	snapshot := errors.Is(err, s3.ErrAccessDenied)
	if snapshot {
		// Credentials that may not list the store (a test lead's) read the
		// status the last run published.
		snap, serr := status.ReadSnapshot(ctx, st)
		if serr != nil {
			return fmt.Errorf("%w\n  and the status the last run publishes (%s) cannot be read either: %v", err, cut.StatusKey, serr)
		}
		rows, now = snap.Rows, snap.Built
		note = fmt.Sprintf("as the last run saw it, %s (%s): the credentials in use (%s) may not list the store", snap.Built.Format("2006-01-02 15:04 UTC"), cut.StatusKey, store.Who(st))
	} else if err != nil {
		return err
	}
	if len(scope.MPIDs) > 0 {
		var mine []status.Row
		for _, r := range rows {
			if slices.Contains(scope.MPIDs, r.MPID) {
				mine = append(mine, r)
			}
		}
		if len(mine) == 0 && o.mpid != "" {
			return cli.Usage("MPID %s is neither in the programme register nor in %s", o.mpid, st)
		}
		rows = mine
	}
	// Open findings of the latest reconciliation, each MPID's from its own
	// worklist: the rows' MPIDs are those the credentials may read.
	var rec *status.Reconciliation
	recNote := "open findings: none of a reconciliation run shown (the published status carries none)"
	if !snapshot {
		mpids := make([]string, len(rows))
		for i, r := range rows {
			mpids[i] = r.MPID
		}
		rec, err = status.OpenFindings(ctx, st, mpids)
		switch {
		case errors.Is(err, s3.ErrAccessDenied):
			recNote = fmt.Sprintf("open findings: the credentials in use (%s) may not read %s or the worklists of the latest run", store.Who(st), reconcile.LatestKey)
		case err != nil:
			return err
		case rec == nil:
			recNote = "open findings: no reconciliation run yet (datacut reconcile)"
		default:
			rec.Attach(rows)
		}
	}
	if o.html != "" {
		if err := writeStatusPage(o.html, rows, set.Register.Version, now); err != nil {
			return err
		}
	}
	if o.json {
		return json.NewEncoder(out).Encode(rows)
	}
	if note != "" {
		fmt.Fprintf(out, "%s\n\n", note)
	}
	printStatus(out, rows)
	printFindings(out, rec, recNote)
	if o.html != "" {
		fmt.Fprintf(out, "page: %s\n", o.html)
	}
	return nil
}

// statusScope is what status reads: one MPID's folders for --mpid, a
// participant's own MPIDs when the credentials are its organisation's
// (they may list nothing else), else the whole store.
func statusScope(mpid string, st store.Store, set *pipeline.Set) (status.Scope, string) {
	if mpid != "" {
		return status.Scope{MPIDs: []string{mpid}, Cuts: set.Names()}, ""
	}
	who := store.Who(st)
	o, ok := access.Organisation(set.Register, strings.TrimPrefix(who, "s3:"))
	if !ok || !strings.HasPrefix(who, "s3:") {
		return status.Scope{}, ""
	}
	var mpids []string
	for _, m := range o.MPIDs {
		mpids = append(mpids, m.MPID)
	}
	return status.Scope{MPIDs: mpids, Cuts: set.Names()},
		fmt.Sprintf("%s's MPIDs only (%s): the credentials in use (%s) read only their own", o.Name, strings.Join(mpids, ", "), who)
}

// publishStatus publishes the whole store's status after a run, for test
// leads, whose credentials read reports/ but may not list the store. A
// failure is said, not fatal: the run's own work is done.
func publishStatus(ctx context.Context, st store.Store, set *pipeline.Set, warn io.Writer) {
	if set.Register == nil {
		return
	}
	if err := status.Publish(ctx, st, set.Register, time.Now()); err != nil {
		fmt.Fprintf(warn, "warning: the status for test leads (%s) was not published: %v\n", cut.StatusKey, err)
	}
}

func writeStatusPage(path string, rows []status.Row, register string, now time.Time) error {
	f, err := os.Create(path)
	if err != nil {
		return cli.Usage("--html: %v", err)
	}
	if err := status.WriteHTML(f, rows, register, now); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func printStatus(w io.Writer, rows []status.Row) {
	fmt.Fprintf(w, "%-20s %-4s %-18s %-10s %-10s %-6s %-10s %8s %8s %8s %11s %7s\n",
		"ORGANISATION", "MPID", "CUT", "STATE", "DUE", "LATEST", "AS AT", "VERSIONS", "ROWS", "REJECTED", "QUARANTINED", "WAITING")
	counts := map[string]int{}
	var waiting []string
	for _, r := range rows {
		counts[r.State]++
		due := r.Due
		if r.Refresh != "" {
			due = "every " + r.Refresh
		}
		latest, asAt, n, rej := "-", "-", "-", "-"
		if r.Latest != nil {
			latest, asAt = fmt.Sprintf("v%d", r.Latest.Version), r.Latest.AsAtDate()
			n, rej = fmt.Sprint(r.Latest.Rows), fmt.Sprint(r.Latest.Rejected)
		}
		org := r.Organisation
		if org == "" {
			org = "(not registered)"
		}
		fmt.Fprintf(w, "%-20.20s %-4s %-18s %-10s %-10s %-6s %-10s %8d %8s %8s %11d %7d\n", org, r.MPID, r.Cut, r.State, due, latest, asAt, r.Versions, n, rej, r.Quarantined, len(r.Waiting))
		for _, s := range r.Waiting {
			waiting = append(waiting, fmt.Sprintf("  %-4s %-18s %-24s %4s  %s", r.MPID, r.Cut, s.Name(), s.Age(), s.Why()))
		}
	}
	fmt.Fprintf(w, "\n%d received, %d awaited, %d overdue, %d stale, %d unexpected\n",
		counts[status.Received], counts[status.Awaited], counts[status.Overdue], counts[status.Stale], counts[status.Unexpected])
	if len(waiting) > 0 {
		fmt.Fprintf(w, "\nwaiting submissions (MPID, cut, submission, age of its newest upload, what it waits for):\n%s\n", strings.Join(waiting, "\n"))
	}
}

// printFindings says each MPID's open findings in the latest
// reconciliation run (counts, and where its worklist is), or why none are
// shown.
func printFindings(w io.Writer, rec *status.Reconciliation, note string) {
	if rec == nil {
		fmt.Fprintf(w, "\n%s\n", note)
		return
	}
	fmt.Fprintf(w, "\nopen findings, reconciliation %s of %s (MPID, errors, warnings, its worklist):\n", rec.Run, rec.Written.UTC().Format("2006-01-02 15:04 UTC"))
	for _, f := range rec.MPIDs {
		where := f.Worklist
		if where == "" {
			where = "-"
		}
		fmt.Fprintf(w, "  %-4s %7d %8d  %s\n", f.MPID, f.Errors, f.Warnings, where)
	}
}
