package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

func TestLs(t *testing.T) {
	dir := t.TempDir()
	s, _ := local.Open(dir)
	ctx := context.Background()
	s.Put(ctx, "inbox/MOPA/mop-mtd/a.dat", strings.NewReader("abc"), 3)
	s.Put(ctx, "cuts/x", strings.NewReader("z"), 1)
	var out bytes.Buffer
	if err := runLs(ctx, &lsOptions{store: cli.StoreFlags{Location: dir}}, "inbox/", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "inbox/MOPA/mop-mtd/a.dat") || strings.Contains(out.String(), "cuts/x") || !strings.Contains(out.String(), "1 objects, 3 bytes") {
		t.Fatalf("ls output:\n%s", out.String())
	}
	if err := runLs(ctx, &lsOptions{store: cli.StoreFlags{Location: dir}}, "../x", &out); cli.Code(err) != cli.ExitUsage {
		t.Fatalf("bad prefix: %v", err)
	}
	if err := runLs(ctx, &lsOptions{store: cli.StoreFlags{Location: "s3://bucket"}}, "", &out); cli.Code(err) != cli.ExitUsage {
		t.Fatalf("s3 without endpoint: %v", err)
	}
}
