package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/allocation"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/reconcile"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

// A plan with policy.exclude_findings is linted against the rules, and
// allocate run exits 2, saying to reconcile, when the store has no
// reconciliation or a stale one: never an allocation that ignores it.
func TestExcludeFindingsNeedsACurrentReconciliation(t *testing.T) {
	store := t.TempDir()
	if code, _, errs := execute(t, "synth-cuts", "--mpans", "2000", "--store", store); code != cli.ExitOK {
		t.Fatalf("synth-cuts: exit %d: %s", code, errs)
	}
	national, err := os.ReadFile("testdata/national.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, rules string) string {
		const policy = "  reappoint: [supplier, mop, dc, da]\n"
		text := strings.Replace(string(national), policy, policy+"  exclude_findings: ["+rules+"]\n", 1)
		path := filepath.Join(t.TempDir(), name)
		if !strings.Contains(text, "exclude_findings") || os.WriteFile(path, []byte(text), 0o644) != nil {
			t.Fatal("writing the plan")
		}
		return path
	}
	good, bad := write("good.yaml", "supplier, orphan"), write("bad.yaml", "supplier, orfan")
	fix := "run 'datacut reconcile --store " + store + "' first, or remove policy.exclude_findings from plan national"
	check := func(what string, args []string, code int, want string) {
		t.Helper()
		got, out, errs := execute(t, args...)
		if got != code || !strings.Contains(out+errs, want) {
			t.Errorf("%s: exit %d: %s%s\nwant exit %d and %q", what, got, out, errs, code, want)
		}
	}
	check("lint", []string{"lint", "--plan", good}, cli.ExitOK, good+": ok")
	check("lint of an unknown rule", []string{"lint", "--plan", bad}, cli.ExitUsage,
		bad+`:11:32: policy.exclude_findings: unknown reconciliation rule "orfan" (one of supplier, mop, dc, da, meter-serial,`)
	check("no reconciliation", []string{"run", "--plan", good, "--no-packs", "--store", store}, cli.ExitUsage,
		"allocate: plan national excludes units with findings of supplier, orphan, but "+store+" has no reconciliation (reconciliation/latest.json): "+fix)

	// A reconciliation of other cuts (masked with another key): stale.
	put := func(key string, v any) {
		b, _ := json.Marshal(v)
		path := filepath.Join(store, filepath.FromSlash(key))
		if os.MkdirAll(filepath.Dir(path), 0o755) != nil || os.WriteFile(path, b, 0o644) != nil {
			t.Fatal("writing", key)
		}
	}
	put(reconcile.LatestKey, reconcile.Latest{Schema: reconcile.LatestSchema, ID: "r1"})
	check("no manifest", []string{"run", "--plan", good, "--no-packs", "--store", store}, cli.ExitUsage,
		"the latest reconciliation r1 has no manifest.json (incomplete): "+fix)
	put(reconcile.Prefix("r1")+reconcile.ManifestFile, reconcile.Manifest{Schema: reconcile.ManifestSchema, ID: "r1", KeyFingerprint: "0123456789abcdef",
		Rules: reconcile.RulesRef{Path: "reconcile.yaml", Version: "old"}, Totals: reconcile.Totals{ByRule: []reconcile.RuleTotal{{Rule: "supplier"}, {Rule: "orphan"}}}})
	check("stale", []string{"run", "--plan", good, "--no-packs", "--store", store}, cli.ExitUsage,
		"allocate: the latest reconciliation r1 is stale for plan national: it read cuts masked with key 0123456789abcdef")
	put(reconcile.Prefix("r1")+reconcile.ManifestFile, reconcile.Manifest{Schema: reconcile.ManifestSchema, ID: "r1",
		Rules: reconcile.RulesRef{Path: "reconcile.yaml", Version: "old"}, Totals: reconcile.Totals{ByRule: []reconcile.RuleTotal{{Rule: "supplier"}, {Rule: "mop"}}}})
	check("a rule the reconciliation did not check", []string{"run", "--plan", good, "--no-packs", "--store", store}, cli.ExitUsage,
		"plan national excludes findings of rule orphan, which the latest reconciliation r1 did not check (its rules, reconcile.yaml version old: supplier, mop): "+fix)
	if _, err := os.Stat(filepath.Join(store, "allocations")); err == nil {
		t.Error("a refused run wrote an allocation")
	}
}

// allocate run's summary says what policy.exclude_findings kept out.
func TestSummarySaysWhatWasExcluded(t *testing.T) {
	x := &allocation.Exclusion{Reconciliation: "r1", Units: 3, MPANs: 4, ByRule: []allocation.RuleExclusion{{Rule: "supplier", Findings: 5, Units: 3, MPANs: 4}}}
	var b strings.Builder
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	printSummary(&b, &allocation.Outcome{RunID: "a", Prefix: "allocations/p/a/", Report: &allocation.Report{Plan: "p", Excluded: x}}, st, false)
	want := "3 units (4 MPANs) excluded for findings of reconciliation r1 (policy.exclude_findings): supplier 3 units (4 MPANs; 5 findings).\n"
	if !strings.Contains(b.String(), want) {
		t.Fatalf("summary:\n%s\nwant %q", b.String(), want)
	}
	b.Reset()
	printSummary(&b, &allocation.Outcome{RunID: "a", Prefix: "allocations/p/a/", Report: &allocation.Report{Plan: "p"}}, st, false)
	if strings.Contains(b.String(), "excluded") {
		t.Fatalf("a plan excluding nothing: %s", b.String())
	}
}

// allocate run's summary counts synthetic units per environment and times
// the top-up when the plan tops up, and says nothing of them otherwise.
func TestSummaryCountsSyntheticUnits(t *testing.T) {
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rep := &allocation.Report{Plan: "p", Environments: []allocation.EnvReport{{Name: "SIT-A", Asked: 9, Filled: 9,
		Demands: []allocation.DemandReport{{Key: "a", Synthetic: 3}, {Key: "b", Synthetic: 4}}}}}
	rep.Timings.TopUpSeconds = 1.25
	var b strings.Builder
	printSummary(&b, &allocation.Outcome{RunID: "a", Prefix: "allocations/p/a/", Report: rep}, st, true)
	for _, want := range []string{"reappointed  synthetic\n", "           0          7\n", "top-up 1.2s (choosing units, and publishing their records within the packs time), packs"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary of a plan that tops up:\n%s\nwant %q", b.String(), want)
		}
	}
	b.Reset()
	printSummary(&b, &allocation.Outcome{RunID: "a", Prefix: "allocations/p/a/", Report: rep}, st, false)
	if strings.Contains(b.String(), "synthetic") || strings.Contains(b.String(), "top-up") {
		t.Errorf("summary of a plan without top-up:\n%s", b.String())
	}
}
