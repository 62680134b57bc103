package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
)

type auditOptions struct {
	store cli.StoreFlags
	since string
	mpid  string
	json  bool
}

func newAuditCmd() *cobra.Command {
	o := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "audit [--store LOCATION] [--since T] [--mpid M] [--json]",
		Short: "List the audit trail: who changed what in the store, and when",
		Long: `audit lists the records under audit/: one for each action that changed the
store (a submission sent and taken, versions published, raw files removed,
a prune, an allocation run, access applied), with who (the S3 access key id,
or the local user), the keys written, read or removed, with sizes and SHA-256
where known, and the tool's version. Records hold keys, names and counts,
never a data value or a secret, and are never rewritten.

--since takes a date (2026-12-01), an RFC 3339 time or a duration back from
now (24h); --mpid keeps the records of one MPID (or naming its keys).

` + cli.ExitCodesDoc,
		Example: `  datacut audit --since 24h
  datacut audit --mpid EELC
  datacut audit --json | jq 'select(.action == "prune")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), o, cmd.OutOrStdout(), time.Now())
		},
	}
	o.store.Register(cmd.Flags())
	cmd.Flags().StringVar(&o.since, "since", "", "only records from this date, time or duration ago")
	cmd.Flags().StringVar(&o.mpid, "mpid", "", "only records of this MPID")
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON record per line")
	return cmd
}

func runAudit(ctx context.Context, o *auditOptions, out io.Writer, now time.Time) error {
	f := audit.Filter{MPID: o.mpid}
	if o.since != "" {
		if d, err := time.ParseDuration(o.since); err == nil {
			f.Since = now.Add(-d)
		} else if t, err := cut.ParseAsAt(o.since); err == nil {
			f.Since = t
		} else {
			return cli.Usage("--since %q is neither a date (2026-12-01), an RFC 3339 time nor a duration (24h)", o.since)
		}
	}
	if err := checkMPIDFlag(o.mpid); err != nil {
		return err
	}
	st, err := o.store.OpenExisting(ctx)
	if err != nil {
		return err
	}
	recs, err := audit.List(ctx, st, f)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(out)
		for _, r := range recs {
			enc.Encode(r)
		}
		return nil
	}
	if len(recs) == 0 {
		fmt.Fprintf(out, "no audit records in %s%s\n", st, audit.Root)
		return nil
	}
	fmt.Fprintf(out, "%-24s %-13s %-28s %-6s %-18s %-22s %7s  %s\n", "TIME", "ACTION", "WHO", "MPID", "CUT", "SUBMISSION", "OBJECTS", "DETAIL")
	suspect := 0
	for _, r := range recs {
		detail := r.Detail
		if r.Suspect != "" {
			suspect++
			detail = "SUSPECT: " + r.Suspect + "; " + detail
		}
		fmt.Fprintf(out, "%-24s %-13s %-28s %-6s %-18s %-22s %7d  %s\n", r.Time.UTC().Format("2006-01-02 15:04:05.000"), r.Action, r.Who, dash(r.MPID), dash(r.Cut), dash(r.Submission), len(r.Objects), detail)
	}
	fmt.Fprintf(out, "%d records (--json lists every key)\n", len(recs))
	if suspect > 0 {
		fmt.Fprintf(out, "%d suspect: their keys do not name what they say; a participant may add only keys naming its own submit records\n", suspect)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
