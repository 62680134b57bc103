package allocation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/browsertest"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/reconcile"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/submit"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/internal/universe"
	"github.com/mhhs-sit/datacut/pipelines"
)

const faultMPANs, faultSeed = 4000, 7

// faultyMarket publishes a synthetic market with cross-participant
// faults: the findings datacut reconcile reports.
func faultyMarket(t *testing.T) (*local.Store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(context.Background(), st, synth.Options{MPANs: faultMPANs, Seed: faultSeed, CrossFaultRate: 0.05, ChunkMPANs: 2000}); err != nil {
		t.Fatal(err)
	}
	if rej, q := publish(t, st).Totals(); rej != 0 || q != 0 {
		t.Fatalf("%d instances rejected, %d files quarantined", rej, q)
	}
	return st, dir
}

// reconcileStore runs datacut reconcile's engine on the store and writes
// the run (latest.json names it); version names the rules' revision.
func reconcileStore(t *testing.T, st store.Store, version string) *reconcile.Result {
	t.Helper()
	types, err := reconcile.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pipelines.FS.ReadFile(reconcile.RulesFile)
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`(?m)^version: .*$`).ReplaceAll(b, []byte("version: "+version))
	rules, err := reconcile.Parse(reconcile.RulesFile, b, types)
	if err != nil {
		t.Fatal(err)
	}
	set, err := pipeline.Load(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	dpia := set.Rules(pipeline.DefaultRules)
	ctx := context.Background()
	res, err := reconcile.Run(ctx, reconcile.Options{Store: st, Rules: rules, Clear: func(ref string) bool { return !dpia.Sensitive(ref) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reconcile.Write(ctx, st, res, "test"); err != nil {
		t.Fatal(err)
	}
	return res
}

// excluding is the SIT plan with policy.exclude_findings: rules, and a
// smart-domestic demand larger than supply, so exclusions show in a
// shortfall's explanation.
func excluding(t *testing.T, rules string) *plan.Plan {
	t.Helper()
	p := builtInPlan(t, "sit")
	raw := strings.Replace(string(p.Raw), "  fairness: max-min", "  exclude_findings: ["+rules+"]\n  fairness: max-min", 1)
	raw = strings.Replace(raw, "filter: {segment: S, domestic: true, energised: true}\n        count: 5\n", "filter: {segment: S, domestic: true, energised: true}\n        count: 60\n", 1)
	if !strings.Contains(raw, "exclude_findings") || !strings.Contains(raw, "count: 60") {
		t.Fatal("the SIT plan changed: the test cannot add its policy")
	}
	pp, err := plan.Decode("sit.yaml", []byte(raw), p.Sources.Types)
	if err != nil {
		t.Fatal(err)
	}
	return pp
}

// A plan excluding findings of a rule allocates no unit with one, may
// allocate units with findings of other rules, and its report counts the
// units and MPANs the findings exclude, per rule and per short demand. It
// refuses to run without a reconciliation of the cuts it reads, and a new
// reconciliation makes a new run.
func TestExcludeFindings(t *testing.T) {
	st, dir := faultyMarket(t)
	ctx := context.Background()
	const rule = "supplier"
	p := excluding(t, rule+", mop")
	run := func(p *plan.Plan) (*Outcome, error) {
		return Run(ctx, Options{Store: st, Plan: p, NoPacks: true, Log: zerolog.Nop()})
	}

	// No reconciliation: refused, saying what to run.
	_, err := run(p)
	var re *ReconciliationError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "has no reconciliation") || !strings.Contains(err.Error(), "run 'datacut reconcile --store "+st.String()+"' first") {
		t.Fatalf("without a reconciliation: %v", err)
	}

	// The plan's run before, excluding nothing: its ledger holds units
	// with findings, which the next run must not keep.
	before, err := run(excluding(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	rec := reconcileStore(t, st, "t1")
	oc, err := run(p)
	if err != nil {
		t.Fatal(err)
	}
	byRule := map[string]map[string]bool{} // rule → masked MPANs with its findings
	for _, f := range rec.Findings {
		if byRule[f.Rule] == nil {
			byRule[f.Rule] = map[string]bool{}
		}
		byRule[f.Rule][f.MPAN] = true
	}
	held := 0
	for _, m := range readColumns(t, filepath.Join(dir, before.Prefix, cut.AllocationFile), "mpan_core")[0] {
		if byRule[rule][m] || byRule["mop"][m] {
			held++
		}
	}
	if held == 0 || oc.Report.PreviousRun != before.RunID || before.Report.Excluded != nil {
		t.Fatalf("the run before held %d MPANs with findings of %s or mop (want some); previous run %q, want %s", held, rule, oc.Report.PreviousRun, before.RunID)
	}
	if len(byRule[rule]) < 10 || len(byRule["mop"]) < 10 {
		t.Fatalf("the market has %d MPANs with %s findings, %d with mop: too few to test", len(byRule[rule]), rule, len(byRule["mop"]))
	}
	cols := readColumns(t, filepath.Join(dir, oc.Prefix, cut.AllocationFile), "mpan_core", "unit_id")
	withOther := 0
	for i, m := range cols[0] {
		if byRule[rule][m] || byRule["mop"][m] {
			t.Fatalf("MPAN %d of unit %d of the allocation has a finding of an excluded rule", i, i)
		}
		for r, mpans := range byRule {
			if r != rule && r != "mop" && mpans[m] {
				withOther++
				break
			}
		}
	}
	if withOther == 0 {
		t.Error("no allocated MPAN has a finding of another rule: other rules' findings must not exclude")
	}

	// The counts, from the findings and the universe's units.
	x := oc.Report.Excluded
	if x == nil || x.Reconciliation != rec.ID || len(x.ByRule) != 2 || x.ByRule[0].Rule != rule || x.ByRule[1].Rule != "mop" {
		t.Fatalf("report's exclusion %+v, want reconciliation %s, rules %s, mop", x, rec.ID, rule)
	}
	sources, key, err := universe.Find(ctx, st, p.Sources.Types, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := universe.Build(ctx, st, sources, key, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	unitsOf := func(mpans map[string]bool) map[int32]bool {
		out := map[int32]bool{}
		for i := range u.All() {
			if mpans[u.CoreString(i)] {
				out[u.UnitOf(i)] = true
			}
		}
		return out
	}
	all := map[int32]bool{}
	for i, r := range []string{rule, "mop"} {
		units := unitsOf(byRule[r])
		mpans := 0
		for unit := range units {
			mpans += len(u.UnitMembers(int(unit)))
			all[unit] = true
		}
		findings := 0
		for _, f := range rec.Findings {
			if f.Rule == r {
				findings++
			}
		}
		if got := x.ByRule[i]; got.Units != len(units) || got.MPANs != mpans || got.Findings != findings {
			t.Errorf("rule %s: report counts %+v, want %d units, %d MPANs, %d findings", r, got, len(units), mpans, findings)
		}
	}
	mpans := 0
	for unit := range all {
		mpans += len(u.UnitMembers(int(unit)))
	}
	if x.Units != len(all) || x.MPANs != mpans {
		t.Errorf("report excludes %d units (%d MPANs), want %d (%d)", x.Units, x.MPANs, len(all), mpans)
	}

	// Short demands say how many of their eligible units the findings
	// excluded, and their counts add up.
	explained := 0
	for _, e := range oc.Report.Environments {
		for _, d := range e.Demands {
			n := d.Stats.ExcludedUnits[rule] + d.Stats.ExcludedUnits["mop"]
			if n > x.Units || len(d.Stats.ExcludedUnits) > 2 {
				t.Errorf("%s: excluded %v, more than the %d units excluded", d.Key, d.Stats.ExcludedUnits, x.Units)
			}
			if d.Shortfall == 0 || n == 0 {
				continue
			}
			explained++
			// A short demand has no spare supply: each of its eligible
			// units it holds, or another plan does, or the findings
			// excluded it, or another demand has it.
			held := 0
			for _, k := range d.Stats.HeldUnits {
				held += k
			}
			if d.Stats.EligibleUnits != d.Filled+held+n+d.Stats.ElsewhereUnits {
				t.Errorf("%s: %d eligible units, want %d filled + %d held + %d excluded + %d elsewhere", d.Key, d.Stats.EligibleUnits, d.Filled, held, n, d.Stats.ElsewhereUnits)
			}
			for r, k := range d.Stats.ExcludedUnits {
				want := itoa(k) + " eligible unit"
				if !strings.Contains(d.Reason, want) || !strings.Contains(d.Reason, "excluded for findings of reconciliation rule "+r+" (policy.exclude_findings)") {
					t.Errorf("%s: the reason %q does not say %d units were excluded for %s", d.Key, d.Reason, k, r)
				}
			}
		}
	}
	t.Logf("%s %d short demands explained by it; %d allocated MPANs have findings of other rules", x.Text(), explained, withOther)
	if explained == 0 {
		t.Error("no short demand is explained by the exclusion")
	}
	md, err := os.ReadFile(filepath.Join(dir, oc.Prefix, cut.ReportMarkdown))
	if err != nil || !strings.Contains(string(md), x.Text()) {
		t.Errorf("report.md does not say what was excluded: %v", err)
	}
	checkExclusionHTML(t, filepath.Join(dir, oc.Prefix, cut.ReportHTML), x)

	// Reproducible: the same inputs are the same run.
	again, err := run(p)
	if err != nil || !again.Existing || again.RunID != oc.RunID {
		t.Fatalf("re-run: %v, existing %v, run %s, want %s", err, again != nil && again.Existing, again.RunID, oc.RunID)
	}
	// A new reconciliation of the same cuts (other rules' revision) is a
	// new run.
	rec2 := reconcileStore(t, st, "t2")
	next, err := run(p)
	if err != nil || rec2.ID == rec.ID || next.Existing || next.RunID == oc.RunID || next.Report.Excluded.Reconciliation != rec2.ID {
		t.Fatalf("after a new reconciliation: %v, run %s (was %s)", err, next.RunID, oc.RunID)
	}

	// A new version of a cut the plan reads makes the reconciliation
	// stale: refused until it is reconciled again.
	mpid := amendEES(t, st)
	_, err = run(p)
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "is stale") ||
		!strings.Contains(err.Error(), "ees/"+mpid+": reconciled version 1, allocating version 2") || !strings.Contains(err.Error(), "datacut reconcile --store") {
		t.Fatalf("a stale reconciliation: %v", err)
	}
	rec3 := reconcileStore(t, st, "t2")
	if _, err := run(p); err != nil || rec3.ID == rec2.ID {
		t.Fatalf("after reconciling again: %v", err)
	}
	checkCurrent(t, st, rec3.ID)
}

// checkCurrent: of a cut type the plan does not read, the reconciliation
// must have read the latest versions; a manifest from before cutTypes is
// checked on the cut types it read.
func checkCurrent(t *testing.T, st store.Store, id string) {
	t.Helper()
	ctx := context.Background()
	m, err := reconcile.ReadManifest(ctx, st, id)
	if err != nil || !slices.Equal(m.CutTypes, []string{"ees", "mop-mtd", "registration", "supplier-customer"}) {
		t.Fatalf("manifest cut types %v, %v", m.CutTypes, err)
	}
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	ees, key, err := universe.Find(ctx, st, cut.Types{types.Named("ees")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := current(ctx, st, m, ees, key); err != nil {
		t.Fatalf("a plan of the EES alone, reconciled: %v", err)
	}
	if err := current(ctx, st, m, ees, "other"); err == nil || !strings.Contains(err.Error(), "masked with key "+m.KeyFingerprint+", the plan's cuts are masked with key other") {
		t.Errorf("another key: %v", err)
	}
	i := slices.IndexFunc(m.Sources, func(s reconcile.SourceRef) bool { return s.Cut == "registration" })
	was := m.Sources[i]
	m.Sources[i].CutID, m.Sources[i].Version = "older", 7
	want := "registration/" + was.MPID + ": reconciled version 7, latest version " + itoa(was.Version)
	if err := current(ctx, st, m, ees, key); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a registration cut the plan does not read changed: %v, want %s", err, want)
	}
	m.CutTypes = nil
	if err := current(ctx, st, m, ees, key); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a manifest without cutTypes: %v, want %s", err, want)
	}
	m.Sources[i] = was
	m.Sources = slices.DeleteFunc(m.Sources, func(s reconcile.SourceRef) bool { return s.Cut == "mop-mtd" })
	if err := current(ctx, st, m, ees, key); err != nil {
		t.Errorf("a manifest without cutTypes that read no mop-mtd cut is not about them: %v", err)
	}
}

// amendEES sends an amendment of one supplier's EES extract (the same
// market's, without faults) and publishes it as its version 2.
func amendEES(t *testing.T, st store.Store) string {
	t.Helper()
	ctx := context.Background()
	cleanDir := t.TempDir()
	clean, err := local.Open(cleanDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, clean, synth.Options{MPANs: faultMPANs, Seed: faultSeed, ChunkMPANs: 2000, Cuts: []string{synth.CutEES}}); err != nil {
		t.Fatal(err)
	}
	var mpid string
	var files, names []string
	err = clean.List(ctx, cut.InboxRoot, func(in store.Info) error {
		if !strings.HasSuffix(in.Key, ".csv") {
			return nil
		}
		if k, err := cut.ParseInboxKey(in.Key); err == nil && k.Type == synth.CutEES && (mpid == "" || k.MPID == mpid) {
			mpid = k.MPID
			files = append(files, filepath.Join(cleanDir, filepath.FromSlash(in.Key)))
			names = append(names, cut.BaseName(in.Key))
		}
		return nil
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("an EES extract to amend: %v", err)
	}
	defs, err := submit.LoadDefinitions(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	req, err := submit.Prepare(defs, submit.Request{MPID: mpid, Cut: synth.CutEES, AsAt: synth.AsAt, Amend: 1, Replaces: names, Files: files}, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := submit.Upload(ctx, st, req, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	publish(t, st)
	return mpid
}

// checkExclusionHTML: the report's page lists, per rule, the findings and
// the units and MPANs excluded, and its contents link to the section.
func checkExclusionHTML(t *testing.T, path string, x *Exclusion) {
	t.Helper()
	dom := browsertest.DumpDOM(t, path)
	if !strings.Contains(dom, `<a href="#excluded">Excluded for findings</a>: `+itoa(x.Units)+" units") {
		t.Error("the contents do not link to the exclusions")
	}
	table := regexp.MustCompile(`(?s)<table id="exclusion-table">(.*?)</table>`).FindStringSubmatch(dom)
	if table == nil {
		t.Fatal("the report has no exclusion table")
	}
	for _, r := range x.ByRule {
		row := `<tr data-rule="` + r.Rule + `"><td>` + r.Rule + `</td><td class="n">` + itoa(r.Findings) + `</td><td class="n">` + itoa(r.Units) + `</td><td class="n">` + itoa(r.MPANs) + `</td></tr>`
		if !strings.Contains(table[1], row) {
			t.Errorf("the exclusion table has no row %s", row)
		}
	}
}
