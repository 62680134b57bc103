package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/access"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/reconcile"
	"github.com/mhhs-sit/datacut/internal/store/location"
	"github.com/mhhs-sit/datacut/internal/store/miniotest"
	"github.com/mhhs-sit/datacut/internal/store/s3"
	"github.com/mhhs-sit/datacut/pipelines"
)

func TestAccessPlan(t *testing.T) {
	o := &accessOptions{}
	o.store.Location = "s3://cuts/sit"
	var out bytes.Buffer
	if err := runAccessPlan(o, true, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"identities for s3://cuts/sit:", "p-BRGT               participant  Bright Energy (BRGT)",
		"p-MTRA               participant  Meterworks Group (MTRA, MTRB)", "  can: send cuts: put (and take back) objects under sit/inbox/BRGT/",
		"datacut-testlead     test-lead"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("plan lacks %q:\n%s", want, out.String())
		}
	}
	o.json = true
	out.Reset()
	if err := runAccessPlan(o, true, &out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Store      string            `json:"store"`
		Identities []access.Identity `json:"identities"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Store != "s3://cuts/sit" || len(got.Identities) < 5 || got.Identities[0].Name != "p-BRGT" ||
		!strings.Contains(string(got.Identities[0].Policy.JSON()), "arn:aws:s3:::cuts/sit/inbox/BRGT/*") {
		t.Fatalf("--json: %s", out.String())
	}
	// Without --store the policies name BUCKET; a local store is refused.
	out.Reset()
	if err := runAccessPlan(&accessOptions{}, false, &out); err != nil || !strings.Contains(out.String(), "arn:aws:s3:::BUCKET") && !strings.Contains(out.String(), "s3://BUCKET") {
		t.Fatalf("plan without --store: %v\n%s", err, out.String())
	}
	o = &accessOptions{}
	o.store.Location = "./data"
	if err := runAccessPlan(o, true, &out); cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), "local store") {
		t.Fatalf("plan for a local store: %v", err)
	}
}

func TestAccessApplyUsage(t *testing.T) {
	for _, c := range []struct {
		loc, secrets string
		dry          bool
		want         string
	}{
		{"./data", "x", false, "local store"},
		{"s3://cuts/sit", "", false, "--secrets-out"},
		{"s3://cuts/sit", "", true, "DATACUT_S3_ENDPOINT"},
	} {
		o := &accessOptions{secretsOut: c.secrets, dryRun: c.dry}
		o.store.Location = c.loc
		err := runAccessApply(context.Background(), o, &bytes.Buffer{})
		if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want exit 2 saying %q", c, err, c.want)
		}
	}
	if code, _, stderr := execDatacut(context.Background(), "access", "apply", "--store", t.TempDir(), "--secrets-out", "x"); code != cli.ExitUsage || !strings.Contains(stderr, "is a local store") {
		t.Fatalf("datacut access apply on a local store: exit %d, %s", code, stderr)
	}
}

// TestAccessApplyOnMinIO applies the built-in register to a real MinIO:
// a dry run changes nothing, apply writes one .env per identity and prints
// no secret, a second apply changes nothing.
func TestAccessApplyOnMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	bucket := srv.NewBucket()
	o := &accessOptions{dryRun: true}
	o.store.Location = "s3://" + bucket + "/sit"
	o.store.S3 = location.Options{Endpoint: srv.Endpoint, Insecure: true, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	ctx := context.Background()
	var out bytes.Buffer
	if err := runAccessApply(ctx, o, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "dry run for s3://"+bucket+"/sit: nothing changed") ||
		!strings.Contains(out.String(), "p-BRGT               participant  created    created  attached") {
		t.Fatalf("dry run:\n%s", out.String())
	}
	adm, err := access.Admin(srv.Endpoint, srv.AccessKey, srv.SecretKey, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.GetUserInfo(ctx, "p-BRGT"); err == nil {
		t.Fatal("the dry run made a user")
	}
	o.dryRun, o.secretsOut = false, filepath.Join(t.TempDir(), "secrets")
	out.Reset()
	if err := runAccessApply(ctx, o, &out); err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile(filepath.Join(o.secretsOut, "p-BRGT.env"))
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimPrefix(strings.Split(string(env), "\n")[1], "DATACUT_S3_SECRET_KEY=")
	if len(secret) != access.SecretLength || strings.Contains(out.String(), secret) {
		t.Fatalf("secret %d characters; output:\n%s", len(secret), out.String())
	}
	if !strings.Contains(out.String(), "new secrets written to "+o.secretsOut) {
		t.Fatalf("apply:\n%s", out.String())
	}
	out.Reset()
	if err := runAccessApply(ctx, o, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "created") || strings.Contains(out.String(), "new secrets") || !strings.Contains(out.String(), "p-BRGT               participant  unchanged  kept     unchanged") {
		t.Fatalf("second apply:\n%s", out.String())
	}
	if env2, _ := os.ReadFile(filepath.Join(o.secretsOut, "p-BRGT.env")); !bytes.Equal(env, env2) {
		t.Fatal("the second apply rewrote p-BRGT.env")
	}

	// A participant's commands run with its .env unchanged: Bright Energy
	// sends its own EES cut, and CRWN's is refused naming what it may write.
	for _, line := range strings.Split(strings.TrimSpace(string(env)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		t.Setenv(k, v)
	}
	t.Setenv("DATACUT_S3_ENDPOINT", srv.Endpoint)
	t.Setenv("DATACUT_S3_INSECURE", "true")
	dir := t.TempDir()
	demoMarket(t, dir)
	store := "s3://" + bucket + "/sit"
	if code, sout, errs := execSubmit(ctx, "--store", store, "--mpid", "BRGT", "--cut", "ees", "--allow-broken", demoFile(dir, "BRGT", "ees", "EES_0001.csv")); code > cli.ExitData || !strings.Contains(sout, "submitted ") {
		t.Fatalf("BRGT sending its own cut: exit %d\n%s%s", code, sout, errs)
	}
	code, sout, errs := execSubmit(ctx, "--store", store, "--mpid", "CRWN", "--cut", "ees", "--allow-broken", demoFile(dir, "CRWN", "ees", "EES_0001.csv"))
	if code != cli.ExitFailure || !strings.Contains(errs, "access denied") ||
		!strings.Contains(errs, "your credentials (s3:p-BRGT, Bright Energy) may write only inbox/BRGT/") || strings.Contains(errs, "SECRET") {
		t.Fatalf("BRGT sending CRWN's cut: exit %d\n%s%s", code, sout, errs)
	}

	// A reconciliation run (written with the operator's credentials): a
	// worklist each for BRGT and CRWN.
	root, err := s3.Open(ctx, s3.Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: bucket, Prefix: "sit"})
	if err != nil {
		t.Fatal(err)
	}
	const run = "0123456789abcdef"
	fs := []reconcile.Finding{
		{MPAN: "1000000000001", Rule: "supplier", Severity: reconcile.SevError, MPID: "BRGT", Cut: "ees", Version: 1, FileID: "f1", Line: 3},
		{MPAN: "1000000000002", Rule: "mop", Severity: reconcile.SevWarning, MPID: "BRGT", Cut: "ees", Version: 1, FileID: "f1", Line: 4},
		{MPAN: "1000000000004", Rule: "supplier", Severity: reconcile.SevError, MPID: "CRWN", Cut: "ees", Version: 1, FileID: "f3", Line: 5},
	}
	for _, m := range []string{"BRGT", "CRWN"} {
		b, _ := reconcile.Worklist(fs, m)
		if err := root.Put(ctx, reconcile.WorklistKey(run, m), bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}
	latest, _ := json.Marshal(reconcile.Latest{Schema: reconcile.LatestSchema, ID: run, Written: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)})
	if err := root.Put(ctx, reconcile.LatestKey, bytes.NewReader(latest), int64(len(latest))); err != nil {
		t.Fatal(err)
	}

	// Bright Energy's status is its own MPIDs', read with its credentials:
	// its open findings too, read from its own worklist, none of CRWN's.
	code, sout, errs = execDatacut(ctx, "status", "--store", store)
	if code != 0 || !strings.Contains(sout, "Bright Energy's MPIDs only (BRGT)") || !strings.Contains(sout, "BRGT ees") || strings.Contains(sout, "CRWN") ||
		!strings.Contains(sout, "open findings, reconciliation "+run+" of 2026-12-01 09:00 UTC") ||
		!strings.Contains(sout, "  BRGT       1        1  reconciliation/"+run+"/worklists/BRGT.csv") {
		t.Fatalf("BRGT's status: exit %d\n%s%s", code, sout, errs)
	}
	code, sout, errs = execDatacut(ctx, "status", "--store", store, "--json")
	if code != 0 || !strings.Contains(sout, `"findings":{"run":"`+run+`","errors":1,"warnings":1,"worklist":"reconciliation/`+run+`/worklists/BRGT.csv"}`) || strings.Contains(sout, "CRWN") {
		t.Fatalf("BRGT's status --json: exit %d\n%s%s", code, sout, errs)
	}
	// A test lead may not list the store: it reads the status the last run
	// published (here by the operator's credentials).
	set, err := pipeline.Load(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	publishStatus(ctx, root, set, t.Output())
	lead, _ := os.ReadFile(filepath.Join(o.secretsOut, "datacut-testlead.env"))
	for _, line := range strings.Split(strings.TrimSpace(string(lead)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		t.Setenv(k, v)
	}
	code, sout, errs = execDatacut(ctx, "status", "--store", store)
	if code != 0 || !strings.Contains(sout, "as the last run saw it") || !strings.Contains(sout, "BRGT ees") || !strings.Contains(sout, "CRWN") {
		t.Fatalf("the test lead's status: exit %d\n%s%s", code, sout, errs)
	}
}
