package location_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/mhhs-sit/datacut/internal/store/location"
	"github.com/mhhs-sit/datacut/internal/store/miniotest"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]location.Parsed{
		"":                 {Dir: "./data"},
		"./data":           {Dir: "./data"},
		"/srv/cuts":        {Dir: "/srv/cuts"},
		"file:///srv/cuts": {Dir: "/srv/cuts"},
		"s3://cuts":        {Bucket: "cuts"},
		"s3://cuts/sit/a/": {Bucket: "cuts", Prefix: "sit/a"},
		"s3://cuts//sit":   {Bucket: "cuts", Prefix: "sit"},
	} {
		got, err := location.Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"s3://", "s3:///x", "gs://b", "file://", "s3://b/../x"} {
		if _, err := location.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestOpenNeedsSettings(t *testing.T) {
	ctx := context.Background()
	if _, err := location.Open(ctx, "s3://b", location.Options{}); err == nil || !strings.Contains(err.Error(), "DATACUT_S3_ENDPOINT") {
		t.Fatalf("missing endpoint: %v", err)
	}
	_, err := location.Open(ctx, "s3://b", location.Options{Endpoint: "127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), "DATACUT_S3_ACCESS_KEY") {
		t.Fatalf("missing credentials: %v", err)
	}
}

func TestOpenLocalAndMinIO(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	s, err := location.Open(ctx, "file://"+dir, location.Options{})
	if err != nil || s.String() != dir {
		t.Fatalf("local: %v %v", s, err)
	}
	srv := miniotest.Start(t)
	cfg := srv.Config("")
	secret := srv.SecretKey
	s, err = location.Open(ctx, "s3://"+cfg.Bucket+"/sit", location.Options{Endpoint: srv.Endpoint, Insecure: true, AccessKey: srv.AccessKey, SecretKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.String(), secret) || !strings.Contains(s.String(), cfg.Bucket) {
		t.Fatalf("String() = %q", s.String())
	}
	if err := s.Put(ctx, "x", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client().StatObject(ctx, cfg.Bucket, "sit/x", minio.StatObjectOptions{}); err != nil {
		t.Fatalf("prefix not applied: %v", err)
	}
	_, err = location.Open(ctx, "s3://no-such-bucket", location.Options{Endpoint: srv.Endpoint, Insecure: true, AccessKey: srv.AccessKey, SecretKey: secret})
	if err == nil || !strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), secret) {
		t.Fatalf("missing bucket: %v", err)
	}
	_, err = location.Open(ctx, "s3://"+cfg.Bucket, location.Options{Endpoint: srv.Endpoint, Insecure: true, AccessKey: srv.AccessKey, SecretKey: "wrong-secret"})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("wrong secret: %v", err)
	}
}
