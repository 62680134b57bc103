package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/access"
	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/store/location"
)

type accessOptions struct {
	defsFlags
	store      cli.StoreFlags
	json       bool
	dryRun     bool
	rotate     bool
	secretsOut string
}

func newAccessCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access",
		Short: "Who may do what in a MinIO store: one identity per organisation and per job",
		Long: `access derives from the programme register (pipelines/programme.yaml) one
MinIO identity per organisation (p-<its first MPID>, covering all its MPIDs)
and one per job of the programme (datacut-worker, datacut-si,
datacut-testlead, datacut-operator), each with an S3 policy naming the
store's bucket and prefix: a participant may send cuts into inbox/<its
MPIDs>/ and read back only its own versions, quarantine, reports and load
packs; no participant sees another's data. "plan" shows them; "apply" makes
them on the server.

` + cli.ExitCodesDoc,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newAccessPlanCmd(), newAccessApplyCmd())
	return cmd
}

func newAccessPlanCmd() *cobra.Command {
	o := &accessOptions{}
	cmd := &cobra.Command{
		Use:   "plan [--store s3://BUCKET/PREFIX] [--pipelines DIR] [--json]",
		Short: "Print each identity, what it may do and (with --json) its policy",
		Long: `plan prints each identity of the programme register: its name (the MinIO
user and policy), kind, organisation and MPIDs, and what it may do. With
--json it prints the whole plan, policy documents included. It reads
nothing from the server; without --store the policies name the bucket
BUCKET.

` + cli.ExitCodesDoc,
		Example: `  datacut access plan --store s3://cuts/sit
  datacut access plan --store s3://cuts/sit --json > access-plan.json
  datacut access plan --pipelines ./programme-defs --store s3://cuts/uit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAccessPlan(o, cmd.Flags().Changed("store"), cmd.OutOrStdout())
		},
	}
	o.defsFlags.register(cmd.Flags())
	o.store.Register(cmd.Flags())
	cmd.Flags().BoolVar(&o.json, "json", false, "print the whole plan, policy documents included, as JSON")
	return cmd
}

func newAccessApplyCmd() *cobra.Command {
	o := &accessOptions{}
	cmd := &cobra.Command{
		Use:   "apply --store s3://BUCKET/PREFIX --secrets-out DIR [--dry-run] [--rotate]",
		Short: "Create or update the identities on the MinIO server",
		Long: `apply makes the plan real on the MinIO server of the store, with the admin
credentials in DATACUT_S3_ACCESS_KEY and DATACUT_S3_SECRET_KEY: for each
identity it creates or updates its policy, creates its user when missing
with a fresh random 40-character secret, and makes that policy the user's
one policy. It is idempotent: running it again changes nothing. An existing
user's secret is never changed unless --rotate (then every user gets a new
one and the old ones stop working).

Each new secret is written only to DIR/<identity>.env (mode 0600, DIR 0700)
as the two lines DATACUT_S3_ACCESS_KEY=... and DATACUT_S3_SECRET_KEY=...
that datacut commands read; it is never printed. Hand each participant its
own file with the endpoint and the store location. --dry-run reads the
server and prints what would change, changing nothing.

The store must be s3:// (a local store has no users: it is for one trusted
user).

` + cli.ExitCodesDoc,
		Example: `  export DATACUT_S3_ENDPOINT=minio:9000
  export DATACUT_S3_ACCESS_KEY=... DATACUT_S3_SECRET_KEY=...   # MinIO admin
  datacut access apply --store s3://cuts/sit --dry-run
  datacut access apply --store s3://cuts/sit --secrets-out ./secrets
  datacut access apply --store s3://cuts/sit --secrets-out ./secrets --rotate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAccessApply(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.defsFlags.register(cmd.Flags())
	o.store.Register(cmd.Flags())
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print what would change, change nothing")
	cmd.Flags().BoolVar(&o.rotate, "rotate", false, "give existing users new secrets (the old ones stop working)")
	cmd.Flags().StringVar(&o.secretsOut, "secrets-out", "", "directory to write new secrets to, one <identity>.env per user (required unless --dry-run)")
	return cmd
}

// plan loads the register and derives the identities for the store.
func (o *accessOptions) plan(where access.Where) ([]access.Identity, error) {
	set, err := o.pipelines()
	if err != nil {
		return nil, err
	}
	if set.Register == nil {
		return nil, cli.Usage("%s has no programme.yaml: access derives the identities from the programme register", o.where())
	}
	ids := access.Plan(set.Register, where)
	if err := access.Check(ids); err != nil {
		return nil, cli.Usage("the programme register makes identities MinIO cannot take: %v", err)
	}
	return ids, nil
}

// s3Where is the store's bucket and prefix; a local store is a usage error.
func (o *accessOptions) s3Where() (access.Where, error) {
	p, err := location.Parse(o.store.Location)
	if err != nil {
		return access.Where{}, &cli.ExitError{Code: cli.ExitUsage, Err: err}
	}
	if p.Bucket == "" {
		return access.Where{}, cli.Usage("--store %s is a local store: access is for an s3:// store (MinIO) with users; a local store is for one trusted user", o.store.Location)
	}
	return access.Where{Bucket: p.Bucket, Prefix: p.Prefix}, nil
}

func storeURL(w access.Where) string {
	return strings.TrimSuffix("s3://"+w.Bucket+"/"+w.Prefix, "/")
}

func runAccessPlan(o *accessOptions, storeGiven bool, out io.Writer) error {
	where := access.Where{Bucket: "BUCKET"}
	if storeGiven {
		var err error
		if where, err = o.s3Where(); err != nil {
			return err
		}
	}
	ids, err := o.plan(where)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Store      string            `json:"store"`
			Identities []access.Identity `json:"identities"`
		}{storeURL(where), ids})
	}
	fmt.Fprintf(out, "identities for %s:\n", storeURL(where))
	for _, id := range ids {
		fmt.Fprintf(out, "\n%-20s %s", id.Name, id.Kind)
		if id.Organisation != "" {
			fmt.Fprintf(out, "  %s (%s)", id.Organisation, strings.Join(id.MPIDs, ", "))
		}
		fmt.Fprintln(out)
		for _, c := range id.Can {
			fmt.Fprintf(out, "  can: %s\n", c)
		}
	}
	return nil
}

func runAccessApply(ctx context.Context, o *accessOptions, out io.Writer) error {
	where, err := o.s3Where()
	if err != nil {
		return err
	}
	if !o.dryRun && o.secretsOut == "" {
		return cli.Usage("apply writes the secrets of the users it creates: give --secrets-out DIR (or --dry-run)")
	}
	ids, err := o.plan(where)
	if err != nil {
		return err
	}
	// The store must exist and the admin credentials reach it.
	st, err := cli.OpenStore(ctx, o.store.Location, o.store.S3)
	if err != nil {
		return err
	}
	if !o.dryRun {
		// Before any user is made: a secret that cannot be written is lost.
		if err := os.MkdirAll(o.secretsOut, 0o700); err != nil {
			return cli.Usage("--secrets-out: %v", err)
		}
		if err := os.Chmod(o.secretsOut, 0o700); err != nil {
			return cli.Usage("--secrets-out: %v", err)
		}
	}
	adm, err := access.Admin(o.store.S3.Endpoint, o.store.S3.AccessKey, o.store.S3.SecretKey, !o.store.S3.Insecure)
	if err != nil {
		return err
	}
	res, err := access.Apply(ctx, adm, ids, access.ApplyOptions{DryRun: o.dryRun, Rotate: o.rotate})
	var files []string
	if res != nil && !o.dryRun {
		// Whatever was made before a failure: its secrets are written.
		var werr error
		if files, werr = res.WriteSecrets(o.secretsOut); werr != nil {
			return fmt.Errorf("writing the new secrets to %s: %v (the users were made: run again with --rotate to give them secrets you can hand on)", o.secretsOut, werr)
		}
	}
	if res != nil {
		printApplied(out, res, storeURL(where))
	}
	if res != nil && !o.dryRun {
		if aerr := audit.Write(ctx, st, accessRecord(res, err)); aerr != nil && err == nil {
			err = aerr
		}
	}
	if err != nil {
		return fmt.Errorf("applying the access plan: %w", err)
	}
	if len(files) > 0 {
		fmt.Fprintf(out, "%d new secrets written to %s (one <identity>.env each, mode 0600): hand each participant only its own file\n", len(files), o.secretsOut)
	}
	return nil
}

// accessRecord is the audit record of an apply: identity names and what
// changed for each, never a secret.
func accessRecord(res *access.Applied, err error) audit.Record {
	rec := audit.Record{Tool: cli.ToolVersion("datacut"), Action: audit.ActionAccessApply}
	var changed []string
	for _, id := range res.Identities {
		if id.Policy != "unchanged" || id.User != "kept" || id.Mapping != "unchanged" {
			changed = append(changed, fmt.Sprintf("%s (policy %s, user %s, mapping %s)", id.Name, id.Policy, id.User, id.Mapping))
		}
	}
	rec.Detail = fmt.Sprintf("%d identities, %d changed", len(res.Identities), len(changed))
	if len(changed) > 0 {
		rec.Detail += ": " + strings.Join(changed, "; ")
	}
	if err != nil {
		rec.Detail += "; stopped: " + err.Error()
	}
	return rec
}

func printApplied(w io.Writer, res *access.Applied, store string) {
	if res.DryRun {
		fmt.Fprintf(w, "dry run for %s: nothing changed; this would be done:\n", store)
	} else {
		fmt.Fprintf(w, "applied for %s:\n", store)
	}
	fmt.Fprintf(w, "%-20s %-12s %-10s %-8s %s\n", "IDENTITY", "KIND", "POLICY", "USER", "MAPPING")
	for _, r := range res.Identities {
		fmt.Fprintf(w, "%-20s %-12s %-10s %-8s %s\n", r.Name, r.Kind, r.Policy, r.User, r.Mapping)
	}
}
