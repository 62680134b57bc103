package s3_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/minio/madmin-go/v3"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/miniotest"
	"github.com/mhhs-sit/datacut/internal/store/s3"
)

// restrict makes a user that may put, get and list under PREFIX/mine/ of
// the bucket only (and ask where the bucket is), as internal/access gives
// participants.
func restrict(t *testing.T, srv *miniotest.Server, name, bucket, prefix string) (access, secret string) {
	t.Helper()
	ctx := context.Background()
	adm, err := madmin.NewWithOptions(srv.Endpoint, &madmin.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["s3:PutObject","s3:GetObject","s3:DeleteObject"],"Resource":["arn:aws:s3:::` + bucket + `/` + prefix + `/mine/*"]},
 {"Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::` + bucket + `"],"Condition":{"StringLike":{"s3:prefix":["` + prefix + `/mine/*"]}}},
 {"Effect":"Allow","Action":["s3:GetBucketLocation"],"Resource":["arn:aws:s3:::` + bucket + `"]}]}`
	access, secret = name, name+"-secret-0123456789"
	if err := adm.AddCannedPolicy(ctx, name, []byte(policy)); err != nil {
		t.Fatal(err)
	}
	if err := adm.AddUser(ctx, access, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.AttachPolicy(ctx, madmin.PolicyAssociationReq{Policies: []string{name}, User: access}); err != nil {
		t.Fatal(err)
	}
	return access, secret
}

// TestOpenAsARestrictedIdentity: an identity that may list only under some
// prefixes opens the store (S3 refuses it the HEAD of the bucket), works
// under its prefixes, and every refusal names the operation and the key.
func TestOpenAsARestrictedIdentity(t *testing.T) {
	srv := miniotest.Start(t)
	ctx := context.Background()
	cfg := srv.Config("sit")
	root, err := s3.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := root.Put(ctx, "theirs/a.csv", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	cfg.AccessKey, cfg.SecretKey = restrict(t, srv, "restricted", cfg.Bucket, "sit")
	st, err := s3.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open as a restricted identity: %v", err)
	}
	if err := st.Put(ctx, "mine/a.csv", bytes.NewReader([]byte("abc")), 3); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(ctx, "mine/a.csv"); err != nil {
		t.Fatal(err)
	}
	if err := st.List(ctx, "mine/", func(store.Info) error { return nil }); err != nil {
		t.Fatal(err)
	}
	deniedOps := map[string]func() error{
		"write theirs/b.csv": func() error { return st.Put(ctx, "theirs/b.csv", strings.NewReader("x"), 1) },
		"read theirs/a.csv": func() error {
			_, err := st.Get(ctx, "theirs/a.csv")
			return err
		},
		"read theirs/a.csv ": func() error {
			_, err := st.Stat(ctx, "theirs/a.csv")
			return err
		},
		"list theirs/":        func() error { return st.List(ctx, "theirs/", func(store.Info) error { return nil }) },
		"delete theirs/a.csv": func() error { return st.Delete(ctx, "theirs/a.csv") },
	}
	for what, op := range deniedOps {
		err := op()
		want := "access denied: the credentials in use may not " + strings.TrimSpace(what) + " at "
		if !errors.Is(err, s3.ErrAccessDenied) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", what, err, want)
		}
		if err != nil && strings.Contains(err.Error(), cfg.SecretKey) {
			t.Errorf("%s: the error shows the secret", what)
		}
	}
	if _, err := root.Stat(ctx, "theirs/a.csv"); err != nil {
		t.Fatalf("the denied delete removed the object: %v", err)
	}

	// A missing bucket and a wrong secret still fail clearly, with a
	// region set or not.
	for _, region := range []string{"", "us-east-1"} {
		missing := cfg
		missing.Region, missing.Bucket = region, "no-such-bucket"
		missing.AccessKey, missing.SecretKey = restrict(t, srv, "lost"+region, missing.Bucket, "sit")
		if _, err := s3.Open(ctx, missing); err == nil || !strings.Contains(err.Error(), "bucket no-such-bucket does not exist") {
			t.Errorf("Open of a missing bucket as a restricted identity (region %q): %v", region, err)
		}
		// MinIO lets anyone locate a bucket: the credentials are found
		// not to be for another bucket at the first operation.
		other := cfg
		other.Region, other.Bucket = region, srv.NewBucket()
		if st, err := s3.Open(ctx, other); err != nil {
			t.Errorf("Open of another bucket as a restricted identity (region %q): %v", region, err)
		} else if err := st.Put(ctx, "mine/a.csv", strings.NewReader("x"), 1); !errors.Is(err, s3.ErrAccessDenied) {
			t.Errorf("Put to another bucket as a restricted identity (region %q): %v", region, err)
		}
	}
	wrong := cfg
	wrong.SecretKey = "not-the-secret-0123456789"
	if _, err := s3.Open(ctx, wrong); err == nil || !strings.Contains(err.Error(), "check the endpoint, TLS setting and credentials") {
		t.Errorf("Open with a wrong secret: %v", err)
	}
	unreachable := cfg
	unreachable.Endpoint = "127.0.0.1:1"
	if _, err := s3.Open(ctx, unreachable); err == nil || !strings.Contains(err.Error(), "check the endpoint") {
		t.Errorf("Open of an unreachable endpoint: %v", err)
	}
}
