package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/store/local"
)

// On an empty store every expected cut is owed: refreshed cuts overdue at
// once, others awaited until their due date; --mpid narrows to one MPID.
func TestStatusOnAnEmptyStore(t *testing.T) {
	o := &statusOptions{}
	o.store.Location = t.TempDir()
	var out bytes.Buffer
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if err := runStatus(context.Background(), o, &out, now); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.Contains(text, "Bright Energy        BRGT ees                overdue") ||
		!strings.Contains(text, "BRGT supplier-customer  awaited") || !strings.Contains(text, "0 received") {
		t.Fatalf("status:\n%s", text)
	}
	o.mpid = "MTRA"
	out.Reset()
	if err := runStatus(context.Background(), o, &out, now); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(out.String(), "\n"); lines != 6 || !strings.Contains(out.String(), "MTRA mop-mtd") ||
		!strings.HasSuffix(out.String(), "\nopen findings: no reconciliation run yet (datacut reconcile)\n") {
		t.Fatalf("--mpid MTRA:\n%s", out.String())
	}
	// A submission still uploading is listed with its age and what it waits for.
	st, err := local.Open(o.store.Location)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), "inbox/MTRA/mop-mtd/2026-12-01/D0150_0001.dat", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runStatus(context.Background(), o, &out, time.Now().Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "      0       1\n") ||
		!strings.Contains(out.String(), "  MTRA mop-mtd            2026-12-01                 3h  no submission.json yet: it is uploaded last, after every file\n") {
		t.Fatalf("a waiting submission:\n%s", out.String())
	}
}
