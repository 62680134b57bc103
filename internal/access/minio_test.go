package access

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/madmin-go/v3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/reconcile"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/store/miniotest"
	"github.com/mhhs-sit/datacut/internal/store/s3"
	"github.com/mhhs-sit/datacut/internal/submit"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/pipelines"
)

func builtinRegister(t *testing.T) *programme.Register {
	t.Helper()
	set, err := pipeline.Load(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	if set.Register == nil {
		t.Fatal("the built-in definitions have no programme register")
	}
	return set.Register
}

func admin(t *testing.T, srv *miniotest.Server) *madmin.AdminClient {
	t.Helper()
	adm, err := Admin(srv.Endpoint, srv.AccessKey, srv.SecretKey, false)
	if err != nil {
		t.Fatal(err)
	}
	return adm
}

func client(t *testing.T, srv *miniotest.Server, access, secret string) *minio.Client {
	t.Helper()
	c, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(access, secret, "")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// applied is a MinIO with a fresh bucket and the built-in register's plan
// applied for it under prefix.
type applied struct {
	srv    *miniotest.Server
	bucket string
	prefix string
	ids    []Identity
	res    *Applied
}

func applyBuiltin(t *testing.T, prefix string) *applied {
	t.Helper()
	srv := miniotest.Start(t)
	bucket := srv.NewBucket()
	ids := Plan(builtinRegister(t), Where{Bucket: bucket, Prefix: prefix})
	if err := Check(ids); err != nil {
		t.Fatal(err)
	}
	res, err := Apply(context.Background(), admin(t, srv), ids, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &applied{srv: srv, bucket: bucket, prefix: prefix, ids: ids, res: res}
}

func (a *applied) as(t *testing.T, name string) *minio.Client {
	t.Helper()
	secret := a.res.Secret(name)
	if secret == "" {
		t.Fatalf("no new secret for %s", name)
	}
	return client(t, a.srv, name, secret)
}

func TestAccessApplyIsIdempotent(t *testing.T) {
	a := applyBuiltin(t, "sit")
	ctx := context.Background()
	adm := admin(t, a.srv)
	if a.res.NewSecrets() != len(a.ids) {
		t.Fatalf("first apply: %d new secrets for %d identities", a.res.NewSecrets(), len(a.ids))
	}
	for _, r := range a.res.Identities {
		if r.Policy != Created || r.User != Created || r.Mapping != Attached {
			t.Fatalf("first apply of %s: %+v", r.Name, r)
		}
		if s := a.res.Secret(r.Name); len(s) != SecretLength {
			t.Fatalf("secret of %s is %d characters", r.Name, len(s))
		}
	}
	again, err := Apply(ctx, adm, a.ids, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.NewSecrets() != 0 {
		t.Fatalf("re-apply made %d new secrets", again.NewSecrets())
	}
	for _, r := range again.Identities {
		if r.Policy != Unchanged || r.User != Kept || r.Mapping != Unchanged {
			t.Fatalf("re-apply of %s: %+v", r.Name, r)
		}
	}
	// The old secret still works after a re-apply.
	if _, err := a.as(t, "p-BRGT").BucketExists(ctx, a.bucket); err != nil && minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("BRGT after re-apply: %v", err)
	}
	assertCan(t, a.as(t, "p-BRGT"), a.bucket, "sit/inbox/BRGT/x/y/z.csv")

	// A changed plan (another prefix) updates the policies; a dry run
	// first says so and changes nothing.
	moved := Plan(builtinRegister(t), Where{Bucket: a.bucket, Prefix: "uit"})
	dry, err := Apply(ctx, adm, moved, ApplyOptions{DryRun: true, Rotate: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range dry.Identities {
		if r.Policy != Updated || r.User != Rotated {
			t.Fatalf("dry run of a moved plan, %s: %+v", r.Name, r)
		}
	}
	if dry.NewSecrets() != 0 {
		t.Fatal("a dry run made secrets")
	}
	assertCan(t, a.as(t, "p-BRGT"), a.bucket, "sit/inbox/BRGT/x/y/z2.csv")

	// A policy attached by hand is taken off: each user has its one policy.
	if _, err := adm.AttachPolicy(ctx, madmin.PolicyAssociationReq{Policies: []string{"readwrite"}, User: "p-CRWN"}); err != nil {
		t.Fatal(err)
	}
	rot, err := Apply(ctx, adm, a.ids, ApplyOptions{Rotate: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rot.Identities {
		want := Unchanged
		if r.Name == "p-CRWN" {
			want = Attached
		}
		if r.User != Rotated || r.Mapping != want || r.Policy != Unchanged {
			t.Fatalf("rotate of %s: %+v", r.Name, r)
		}
	}
	if info, err := adm.GetUserInfo(ctx, "p-CRWN"); err != nil || info.PolicyName != "p-CRWN" {
		t.Fatalf("p-CRWN's policies after apply: %q, %v", info.PolicyName, err)
	}
	// The old secret no longer works; the new one does.
	if _, err := a.as(t, "p-BRGT").StatObject(ctx, a.bucket, "sit/inbox/BRGT/x/y/z.csv", minio.StatObjectOptions{}); err == nil {
		t.Fatal("the old secret works after rotation")
	}
	assertCan(t, client(t, a.srv, "p-BRGT", rot.Secret("p-BRGT")), a.bucket, "sit/inbox/BRGT/x/y/z3.csv")

	// The secrets files: one per new secret, 0600 in a 0700 folder, the
	// two lines a datacut command reads.
	dir := filepath.Join(t.TempDir(), "secrets")
	files, err := rot.WriteSecrets(dir)
	if err != nil || len(files) != len(a.ids) {
		t.Fatalf("WriteSecrets: %v, %v", files, err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("secrets folder: %v, %v", st.Mode(), err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "p-BRGT.env"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "DATACUT_S3_ACCESS_KEY=p-BRGT\nDATACUT_S3_SECRET_KEY=" + rot.Secret("p-BRGT") + "\n"; string(b) != want {
		t.Fatalf("p-BRGT.env:\n%s", b)
	}
	if st, _ := os.Stat(filepath.Join(dir, "p-BRGT.env")); st.Mode().Perm() != 0o600 {
		t.Fatalf("p-BRGT.env mode %v", st.Mode())
	}
}

func assertCan(t *testing.T, c *minio.Client, bucket, key string) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), bucket, key, bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// Operations of the isolation table.
const (
	opRead  = "read"
	opWrite = "write" // a new object in the key's folder
	opPut   = "put"   // the key itself
	opList  = "list"
)

// try does op on key (a list lists the key's folder) and returns the error.
func try(ctx context.Context, c *minio.Client, bucket, op, key string) error {
	switch op {
	case opRead:
		obj, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		defer obj.Close()
		_, err = io.ReadAll(obj)
		return err
	case opWrite, opPut:
		if op == opWrite {
			key = key[:strings.LastIndex(key, "/")+1] + "written-by-test"
		}
		_, err := c.PutObject(ctx, bucket, key, bytes.NewReader([]byte("w")), 1, minio.PutObjectOptions{})
		return err
	case opList:
		var n int
		for oi := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: key, Recursive: true}) {
			if oi.Err != nil {
				return oi.Err
			}
			n++
		}
		if n == 0 && !strings.HasSuffix(key, "/") {
			return errors.New("listed nothing")
		}
		return nil
	}
	panic(op)
}

func denied(err error) bool { return minio.ToErrorResponse(err).Code == "AccessDenied" }

// TestAccessIsolationOnMinIO applies the built-in register's plan to a real
// MinIO and checks, per participant, area, own or other's objects and
// operation, exactly what is allowed; everything else must be refused
// with S3's AccessDenied.
func TestAccessIsolationOnMinIO(t *testing.T) {
	a := applyBuiltin(t, "sit")
	ctx := context.Background()
	root := client(t, a.srv, a.srv.AccessKey, a.srv.SecretKey)
	k := func(s string) string { return "sit/" + s }

	type area struct {
		name     string
		key      func(mpid, role string) string // a fixture object
		dir      func(mpid, role string) string // the folder a participant lists
		ownWrite bool
	}
	areas := []area{
		{"inbox", func(m, _ string) string { return "inbox/" + m + "/ees/s1/a.csv" }, func(m, _ string) string { return "inbox/" + m + "/" }, true},
		{"cuts", func(m, _ string) string { return "cuts/ees/mpid=" + m + "/cut=x/t.parquet" }, func(m, _ string) string { return "cuts/ees/mpid=" + m + "/" }, false},
		{"quarantine", func(m, _ string) string { return "quarantine/ees/mpid=" + m + "/s1/files/a.csv" }, func(m, _ string) string { return "quarantine/ees/mpid=" + m + "/" }, false},
		{"reports", func(m, _ string) string { return "reports/ees/mpid=" + m + "/s1/receipt.json" }, func(m, _ string) string { return "reports/ees/mpid=" + m + "/" }, false},
		{"packs", func(m, r string) string { return "allocations/sit/r1/packs/SIT-A/" + r + "-" + m + "/x.parquet" }, func(m, r string) string { return "allocations/sit/r1/packs/SIT-A/" + r + "-" + m + "/" }, false},
	}
	// participant name -> the MPID (and its role) checked, and the one of
	// another participant.
	type who struct{ name, mpid, role, other, otherRole string }
	whos := []who{
		{"p-BRGT", "BRGT", "supplier", "CRWN", "supplier"},
		{"p-CRWN", "CRWN", "supplier", "BRGT", "supplier"},
		{"p-MTRA", "MTRB", "mop", "MTRC", "mop"}, // Meterworks Group's second MPID
		{"p-MTRA", "MTRA", "mop", "BRGT", "supplier"},
	}
	// Fixtures, put with the root credentials.
	put := func(key string) {
		if _, err := root.PutObject(ctx, a.bucket, k(key), bytes.NewReader([]byte("fixture")), 7, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []struct{ mpid, role string }{{"BRGT", "supplier"}, {"CRWN", "supplier"}, {"MTRA", "mop"}, {"MTRB", "mop"}, {"MTRC", "mop"}} {
		for _, ar := range areas {
			put(ar.key(m.mpid, m.role))
		}
	}
	put("audit/x.json")
	put(cut.StatusKey)
	// A reconciliation run: every participant's worklist, and the files
	// that count or list everyone's findings.
	for _, m := range []string{"BRGT", "CRWN", "MTRA", "MTRB", "MTRC"} {
		put(reconcile.WorklistKey("r1", m))
	}
	runFiles := []string{reconcile.Prefix("r1") + reconcile.ManifestFile, reconcile.Prefix("r1") + reconcile.FindingsFile, reconcile.Prefix("r1") + reconcile.SummaryHTML}
	for _, f := range runFiles {
		put(f)
	}
	put(reconcile.LatestKey)

	check := func(t *testing.T, c *minio.Client, op, key string, allow bool) {
		t.Helper()
		err := try(ctx, c, a.bucket, op, key)
		switch {
		case allow && err != nil:
			t.Errorf("%s %s: refused: %v", op, key, err)
		case !allow && err == nil:
			t.Errorf("%s %s: allowed, want AccessDenied", op, key)
		case !allow && !denied(err):
			t.Errorf("%s %s: %v, want AccessDenied", op, key, err)
		}
	}
	for _, w := range whos {
		t.Run(w.name+"/"+w.mpid, func(t *testing.T) {
			c := a.as(t, w.name)
			for _, ar := range areas {
				for _, own := range []bool{true, false} {
					m, r := w.mpid, w.role
					if !own {
						m, r = w.other, w.otherRole
					}
					check(t, c, opRead, k(ar.key(m, r)), own)
					check(t, c, opList, k(ar.dir(m, r)), own)
					check(t, c, opWrite, k(ar.key(m, r)), own && ar.ownWrite)
				}
			}
			for _, op := range []string{opRead, opWrite, opList} {
				check(t, c, op, k("audit/x.json"), false)
			}
			check(t, c, opRead, k(cut.StatusKey), false) // every participant's status
			// Its own reconciliation worklist and which run is the latest;
			// no other participant's worklist, nor the files of the run
			// that count or list everyone's findings; no listing.
			check(t, c, opRead, k(reconcile.WorklistKey("r1", w.mpid)), true)
			check(t, c, opRead, k(reconcile.WorklistKey("r1", w.other)), false)
			check(t, c, opWrite, k(reconcile.WorklistKey("r1", w.mpid)), false)
			check(t, c, opRead, k(reconcile.LatestKey), true)
			check(t, c, opWrite, k(reconcile.LatestKey), false)
			for _, f := range runFiles {
				check(t, c, opRead, k(f), false)
			}
			check(t, c, opList, k(reconcile.Prefix("r1")+reconcile.WorklistDir), false)
			check(t, c, opList, k(reconcile.Root), false)
			// It adds the audit records of its own submissions, never
			// reads them back, and writes no other record.
			ownRecord := "audit/2026-12-01/20261201T090000.000000000Z-submit-" + w.mpid + "-0a1b2c.json"
			check(t, c, opPut, k(ownRecord), true)
			check(t, c, opRead, k(ownRecord), false)
			check(t, c, opList, k("audit/2026-12-01/"), false)
			check(t, c, opPut, k("audit/2026-12-01/20261201T090000.000000000Z-submit-"+w.other+"-0a1b2c.json"), false)
			check(t, c, opPut, k("audit/2026-12-01/20261201T090000.000000000Z-take-"+w.mpid+"-0a1b2c.json"), false)
			for _, dir := range []string{"", "sit/", k("cuts/"), k("cuts/ees/"), k("inbox/"), k("allocations/"), k("reports/ees/")} {
				check(t, c, opList, dir, false)
			}
		})
	}

	// The programme's jobs.
	jobs := []struct {
		name    string
		op, key string
		allow   bool
	}{
		{"datacut-testlead", opRead, "inbox/BRGT/ees/s1/a.csv", false},
		{"datacut-testlead", opRead, "cuts/ees/mpid=BRGT/cut=x/t.parquet", false},
		{"datacut-testlead", opRead, "quarantine/ees/mpid=BRGT/s1/files/a.csv", false},
		{"datacut-testlead", opList, "inbox/", false},
		{"datacut-testlead", opRead, "reports/ees/mpid=BRGT/s1/receipt.json", true},
		{"datacut-testlead", opRead, "allocations/sit/r1/packs/SIT-A/supplier-BRGT/x.parquet", true},
		{"datacut-testlead", opWrite, "reports/ees/mpid=BRGT/s1/receipt.json", false},
		{"datacut-testlead", opRead, cut.StatusKey, true},
		{"datacut-testlead", opRead, reconcile.WorklistKey("r1", "BRGT"), false},
		{"datacut-operator", opRead, reconcile.WorklistKey("r1", "BRGT"), true},
		{"datacut-operator", opRead, reconcile.Prefix("r1") + reconcile.ManifestFile, true},
		{"datacut-worker", opPut, cut.StatusKey, true},
		{"datacut-si", opRead, "inbox/BRGT/ees/s1/a.csv", false},
		{"datacut-si", opRead, "quarantine/ees/mpid=BRGT/s1/files/a.csv", false},
		{"datacut-si", opRead, "cuts/ees/mpid=BRGT/cut=x/t.parquet", true},
		{"datacut-si", opList, "cuts/", true},
		{"datacut-si", opRead, reconcile.LatestKey, true}, // policy.exclude_findings
		{"datacut-si", opRead, reconcile.Prefix("r1") + reconcile.ManifestFile, true},
		{"datacut-si", opRead, reconcile.Prefix("r1") + reconcile.FindingsFile, true},
		{"datacut-si", opWrite, reconcile.LatestKey, false},
		{"datacut-si", opList, reconcile.Root, false},
		{"datacut-si", opWrite, "allocations/sit/r2/plan.json", true},
		{"datacut-si", opWrite, "cuts/ees/mpid=BRGT/cut=x/t.parquet", false},
		{"datacut-worker", opRead, "allocations/sit/r1/packs/SIT-A/supplier-BRGT/x.parquet", false},
		{"datacut-worker", opList, "allocations/", false},
		{"datacut-worker", opRead, "inbox/BRGT/ees/s1/a.csv", true},
		{"datacut-worker", opList, "inbox/", true},
		{"datacut-worker", opWrite, "cuts/ees/mpid=BRGT/cut=y/t.parquet", true},
		{"datacut-worker", opWrite, "inbox/BRGT/ees/s2/a.csv", false},
		{"datacut-worker", opRead, "audit/x.json", false},
		{"datacut-worker", opWrite, "audit/2026-12-01/y.json", true},
		{"datacut-si", opWrite, "audit/2026-12-01/z.json", true},
		{"datacut-si", opList, "audit/", false},
		{"datacut-testlead", opWrite, "audit/2026-12-01/t.json", false},
		{"datacut-operator", opRead, "audit/x.json", true},
		{"datacut-operator", opList, "", false}, // the bucket outside the store's prefix
	}
	for _, j := range jobs {
		t.Run(j.name+"/"+j.op+"/"+j.key, func(t *testing.T) {
			key := j.key
			if key != "" {
				key = k(key)
			}
			check(t, a.as(t, j.name), j.op, key, j.allow)
		})
	}
}

// TestAccessIsolationSubmitOnMinIO sends a submission with the store code
// itself: BRGT's credentials open the s3 store and upload into BRGT's
// inbox; uploading CRWN's cut with them is refused, saying so.
func TestAccessIsolationSubmitOnMinIO(t *testing.T) {
	a := applyBuiltin(t, "sit")
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	gen := t.TempDir()
	lst, err := local.Open(gen)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, lst, synth.Options{MPANs: 200, Seed: 3, Cuts: []string{synth.CutEES}}); err != nil {
		t.Fatal(err)
	}
	d, err := submit.LoadDefinitions(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	plan := func(mpid string) *submit.Plan {
		t.Helper()
		all, _ := filepath.Glob(filepath.Join(gen, "inbox", mpid, synth.CutEES, synth.SubmissionID(3), "*.csv"))
		if len(all) == 0 {
			t.Fatalf("no EES files of %s", mpid)
		}
		p, err := submit.Prepare(d, submit.Request{MPID: mpid, Cut: synth.CutEES, Files: all}, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	st, err := s3.Open(ctx, s3.Config{Endpoint: a.srv.Endpoint, AccessKey: "p-BRGT", SecretKey: a.res.Secret("p-BRGT"), Bucket: a.bucket, Prefix: "sit"})
	if err != nil {
		t.Fatalf("opening the store as p-BRGT: %v", err)
	}
	id, err := submit.Upload(ctx, st, plan("BRGT"), now, nil)
	if err != nil {
		t.Fatalf("BRGT uploading its own cut: %v", err)
	}
	root := client(t, a.srv, a.srv.AccessKey, a.srv.SecretKey)
	if _, err := root.StatObject(ctx, a.bucket, "sit/"+cut.SubmissionKey("BRGT", synth.CutEES, id), minio.StatObjectOptions{}); err != nil {
		t.Fatalf("BRGT's submission.json is not there: %v", err)
	}
	_, err = submit.Upload(ctx, st, plan("CRWN"), now, nil)
	if !errors.Is(err, s3.ErrAccessDenied) || !strings.Contains(err.Error(), "access denied: the credentials in use may not") || !strings.Contains(err.Error(), "inbox/CRWN/") {
		t.Fatalf("BRGT uploading CRWN's cut: %v", err)
	}
	if strings.Contains(err.Error(), a.res.Secret("p-BRGT")) {
		t.Fatal("the error shows the secret")
	}
	for oi := range root.ListObjects(ctx, a.bucket, minio.ListObjectsOptions{Prefix: "sit/inbox/CRWN/", Recursive: true}) {
		t.Fatalf("something of the refused upload is in CRWN's inbox: %s %v", oi.Key, oi.Err)
	}
	t.Logf("refused: %v", err)
}
