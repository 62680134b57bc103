package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/mhhs-sit/datacut/internal/store/location"
)

func TestStoreFlagsDefaultToTheEnvironment(t *testing.T) {
	t.Setenv("DATACUT_S3_ENDPOINT", "minio:9000")
	t.Setenv("DATACUT_S3_REGION", "eu-west-2")
	t.Setenv("DATACUT_S3_INSECURE", "true")
	t.Setenv("DATACUT_S3_ACCESS_KEY", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "aws-access")
	t.Setenv("DATACUT_S3_SECRET_KEY", "datacut-secret")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
	var f StoreFlags
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	f.Register(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	want := StoreFlags{Location: location.Default, S3: location.Options{Endpoint: "minio:9000", Region: "eu-west-2", Insecure: true, AccessKey: "aws-access", SecretKey: "datacut-secret"}}
	if f != want {
		t.Fatalf("from the environment: %+v, want %+v", f, want)
	}
	f = StoreFlags{}
	fs = pflag.NewFlagSet("x", pflag.ContinueOnError)
	f.Register(fs)
	if err := fs.Parse([]string{"--store", "s3://cuts/sit", "--s3-endpoint", "other:9000", "--s3-region", "r", "--s3-insecure=false"}); err != nil {
		t.Fatal(err)
	}
	want = StoreFlags{Location: "s3://cuts/sit", S3: location.Options{Endpoint: "other:9000", Region: "r", AccessKey: "aws-access", SecretKey: "datacut-secret"}}
	if f != want {
		t.Fatalf("flags win: %+v, want %+v", f, want)
	}
	for _, secret := range []string{"s3-access-key", "s3-secret-key"} {
		if fs.Lookup(secret) != nil {
			t.Errorf("--%s: secrets have no flag", secret)
		}
	}
}

func TestStoreFlagsHelp(t *testing.T) {
	t.Setenv("DATACUT_S3_ENDPOINT", "")
	t.Setenv("DATACUT_S3_REGION", "")
	t.Setenv("DATACUT_S3_INSECURE", "")
	var f StoreFlags
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	f.Register(fs)
	want := `      --s3-endpoint string   S3/MinIO endpoint host:port (env DATACUT_S3_ENDPOINT)
      --s3-insecure          use plain HTTP, not TLS (env DATACUT_S3_INSECURE)
      --s3-region string     S3 region (env DATACUT_S3_REGION)
      --store string         where data lives: a directory, file://DIR or s3://BUCKET/PREFIX (default "./data")
`
	if got := fs.FlagUsages(); got != want {
		t.Fatalf("help:\n%s\nwant\n%s", got, want)
	}
}

func TestOpenStoreConfigErrorsExit2(t *testing.T) {
	f := StoreFlags{Location: "s3://bucket"}
	_, err := f.Open(context.Background())
	if Code(err) != ExitUsage || !strings.Contains(err.Error(), "DATACUT_S3_ENDPOINT") {
		t.Fatalf("s3 without endpoint: exit %d, %v", Code(err), err)
	}
	f = StoreFlags{Location: "gs://bucket"}
	if _, err := f.Open(context.Background()); Code(err) != ExitUsage {
		t.Fatalf("unknown scheme: exit %d, %v", Code(err), err)
	}
	f = StoreFlags{Location: t.TempDir()}
	if st, err := f.Open(context.Background()); err != nil || st.String() != f.Location {
		t.Fatalf("local: %v, %v", st, err)
	}
}
