package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/cli"
)

// The demo's store has an audit trail: each submission taken, the
// amendment sent (synth writes the market's inbox itself: no submit
// records), and --mpid, --since and mistakes behave.
func TestAuditListsTheDemo(t *testing.T) {
	t.Setenv("DATACUT_MASK_KEY", "")
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runDemo(context.Background(), &demoOptions{dir: dir, mpans: 1500}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var a bytes.Buffer
	o := &auditOptions{store: cli.StoreFlags{Location: dir}, mpid: "EELC"}
	if err := runAudit(context.Background(), o, &a, time.Now()); err != nil {
		t.Fatal(err)
	}
	text := a.String()
	if strings.Count(text, " submit ") != 1 || strings.Count(text, " take ") != 2 || !strings.Contains(text, "version 2, the latest") || !strings.Contains(text, "3 records") {
		t.Fatalf("EELC's audit trail:\n%s", text)
	}
	a.Reset()
	o = &auditOptions{store: cli.StoreFlags{Location: dir}, since: "2100-01-01"}
	if err := runAudit(context.Background(), o, &a, time.Now()); err != nil || !strings.Contains(a.String(), "no audit records") {
		t.Fatalf("the future's trail: %v\n%s", err, a.String())
	}
	o = &auditOptions{store: cli.StoreFlags{Location: dir}, since: "yesterday"}
	if err := runAudit(context.Background(), o, &a, time.Now()); err == nil || cli.Code(err) != cli.ExitUsage {
		t.Fatalf("--since yesterday: %v", err)
	}
}
