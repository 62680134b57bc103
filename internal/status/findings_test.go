package status

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/reconcile"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/pipelines"
)

// reconciled writes a reconciliation run's worklists as datacut reconcile
// does (BRGT: two errors about its EES, a warning about its customer cut;
// CRWN: one error), every participant's findings in a file no participant
// reads, and latest.json naming the run.
func reconciled(t *testing.T, st store.Store) string {
	t.Helper()
	ctx := context.Background()
	const run = "0123456789abcdef"
	fs := []reconcile.Finding{
		{MPAN: "1000000000001", Rule: "supplier", Severity: reconcile.SevError, MPID: "BRGT", Cut: "ees", Version: 2, FileID: "f1", Line: 3},
		{MPAN: "1000000000002", Rule: "mop", Severity: reconcile.SevError, MPID: "BRGT", Cut: "ees", Version: 2, FileID: "f1", Line: 4},
		{MPAN: "1000000000003", Rule: "orphan", Severity: reconcile.SevWarning, MPID: "BRGT", Cut: "supplier-customer", Version: 1, FileID: "f2", Line: 9},
		{MPAN: "1000000000004", Rule: "supplier", Severity: reconcile.SevError, MPID: "CRWN", Cut: "ees", Version: 1, FileID: "f3", Line: 5},
	}
	put := func(key string, b []byte) {
		if err := st.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []string{"BRGT", "CRWN"} {
		b, _ := reconcile.Worklist(fs, m)
		put(reconcile.WorklistKey(run, m), b)
	}
	put(reconcile.Prefix(run)+reconcile.ManifestFile, []byte(`{"totals":{"byParticipant":[{"mpid":"BRGT"},{"mpid":"CRWN"}]}}`))
	b, _ := json.Marshal(reconcile.Latest{Schema: reconcile.LatestSchema, ID: run, Written: now})
	put(reconcile.LatestKey, b)
	return run
}

// Status shows each MPID its open findings of the latest reconciliation,
// counted from its own worklist, by cut type and severity.
func TestOpenFindings(t *testing.T) {
	st := fixture(t)
	ctx := context.Background()
	if rec, err := OpenFindings(ctx, st, []string{"BRGT"}); rec != nil || err != nil {
		t.Fatalf("before any reconciliation: %+v, %v", rec, err)
	}
	run := reconciled(t, st)
	rec, err := OpenFindings(ctx, st, []string{"BRGT", "CRWN", "MTRA"})
	if err != nil {
		t.Fatal(err)
	}
	want := []MPIDFindings{
		{MPID: "BRGT", Errors: 2, Warnings: 1, Worklist: "reconciliation/" + run + "/worklists/BRGT.csv"},
		{MPID: "CRWN", Errors: 1, Worklist: "reconciliation/" + run + "/worklists/CRWN.csv"},
		{MPID: "MTRA"}, // no worklist: no findings
	}
	got, _ := json.Marshal(rec.MPIDs)
	exp, _ := json.Marshal(want)
	if rec.Run != run || !rec.Written.Equal(now) || string(got) != string(exp) {
		t.Fatalf("findings of run %s at %s:\n%s\nwant:\n%s", rec.Run, rec.Written, got, exp)
	}
	rows, err := Build(ctx, st, builtInRegister(t), now, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	rec.Attach(rows)
	if f := get(t, rows, "BRGT", "ees").Findings; f == nil || f.Errors != 2 || f.Warnings != 0 || f.Worklist != want[0].Worklist || f.Run != run {
		t.Errorf("BRGT ees: %+v", f)
	}
	if f := get(t, rows, "BRGT", "supplier-customer").Findings; f == nil || f.Errors != 0 || f.Warnings != 1 {
		t.Errorf("BRGT supplier-customer: %+v", f)
	}
	if f := get(t, rows, "MTRA", "ees").Findings; f == nil || f.Errors+f.Warnings != 0 || f.Worklist != "" {
		t.Errorf("MTRA ees: %+v", f)
	}
	if f := get(t, rows, "DLTA", "ees").Findings; f != nil {
		t.Errorf("DLTA, not asked for, got %+v", f)
	}
}

// A participant's status reads its own worklist and latest.json only (the
// fence refuses everything else, as its MinIO policy does), and shows no
// other participant's findings.
func TestOpenFindingsOfAParticipant(t *testing.T) {
	st := fixture(t)
	ctx := context.Background()
	run := reconciled(t, st)
	reg := builtInRegister(t)
	types, _ := cut.LoadTypes(pipelines.FS)
	fence := fenced{st, []string{"BRGT"}}
	if _, err := fence.Get(ctx, reconcile.WorklistKey(run, "CRWN")); err == nil {
		t.Fatal("the fence lets BRGT read CRWN's worklist")
	}
	if _, err := fence.Get(ctx, reconcile.Prefix(run)+reconcile.ManifestFile); err == nil {
		t.Fatal("the fence lets BRGT read the run's manifest")
	}
	rows, err := Build(ctx, fence, reg, now, Scope{MPIDs: fence.mpids, Cuts: types.Names()})
	if err != nil {
		t.Fatal(err)
	}
	var mpids []string
	for _, r := range rows {
		mpids = append(mpids, r.MPID)
	}
	rec, err := OpenFindings(ctx, fence, mpids)
	if err != nil {
		t.Fatal(err)
	}
	rec.Attach(rows)
	b, _ := json.Marshal(struct {
		R *Reconciliation
		S []Row
	}{rec, rows})
	if len(rec.MPIDs) != 1 || rec.MPIDs[0].MPID != "BRGT" || rec.MPIDs[0].Errors != 2 || strings.Contains(string(b), "CRWN") || strings.Contains(string(b), "1000000000") {
		t.Fatalf("BRGT's findings: %s", b)
	}
	if _, err := OpenFindings(ctx, fence, []string{"BRGT", "CRWN"}); err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Fatalf("BRGT's credentials reading CRWN's worklist: %v", err)
	}
}
