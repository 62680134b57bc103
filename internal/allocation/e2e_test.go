package allocation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/browsertest"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/pipelines"
)

// publishedMarket generates a synthetic market and publishes its cuts.
func publishedMarket(t *testing.T) (*local.Store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := synth.Generate(ctx, st, synth.Options{MPANs: 4000, Seed: 5, ChunkMPANs: 2000}); err != nil {
		t.Fatal(err)
	}
	publish(t, st)
	return st, dir
}

// publish runs the pipelines on the store's inbox.
func publish(t *testing.T, st store.Store) *pipeline.Summary {
	t.Helper()
	set, err := pipeline.Load(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := mask.ParseKey("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	sum, err := pipeline.Run(context.Background(), pipeline.Options{Store: st, Pipelines: set, Key: key, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func builtInPlan(t *testing.T, name string) *plan.Plan {
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := plan.Load(pipelines.FS, types)
	if err != nil {
		t.Fatal(err)
	}
	return plans[name]
}

// readTable reads a Parquet file whole with Arrow's file reader (not our
// writer's types).
func readTable(t *testing.T, path string) arrow.Table {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readTableBytes(t, b)
}

// strings lists a string column's values, null for nulls.
func stringsOf(col *arrow.Column, null string) []string {
	var out []string
	for _, ch := range col.Data().Chunks() {
		s := ch.(*array.String)
		for j := 0; j < s.Len(); j++ {
			if s.IsNull(j) {
				out = append(out, null)
			} else {
				out = append(out, s.Value(j))
			}
		}
	}
	return out
}

// readColumns reads string columns of a Parquet file.
func readColumns(t *testing.T, path string, names ...string) [][]string {
	t.Helper()
	tbl := readTable(t, path)
	defer tbl.Release()
	out := make([][]string, len(names))
	for i, n := range names {
		idx := tbl.Schema().FieldIndices(n)
		if len(idx) == 0 {
			t.Fatalf("%s has no column %s", path, n)
		}
		out[i] = stringsOf(tbl.Column(idx[0]), "")
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	st, dir := publishedMarket(t)
	ctx := context.Background()
	p := builtInPlan(t, "sit")
	oc, err := Run(ctx, Options{Store: st, Plan: p, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	rep := oc.Report
	if rep.Universe.MPANs != 4000 || rep.Universe.LinkedUnits == 0 {
		t.Fatalf("universe %+v: want 4000 MPANs with linked units", rep.Universe)
	}
	run := filepath.Join(dir, filepath.FromSlash(oc.Prefix))
	cols := readColumns(t, filepath.Join(run, "allocation.parquet"), "mpan_core", "unit_id", "environment", "ask", "mop", "real_mop", "supplier")
	env := map[string]string{}
	mopOf := map[string]string{}
	perAsk := map[string]map[string]bool{}
	for i, core := range cols[0] {
		if env[core] != "" {
			t.Fatalf("MPAN %s allocated twice", core)
		}
		env[core], mopOf[core] = cols[2][i], cols[4][i]
		if perAsk[cols[3][i]] == nil {
			perAsk[cols[3][i]] = map[string]bool{}
		}
		perAsk[cols[3][i]][cols[1][i]] = true
	}
	total := 0
	for _, e := range rep.Environments {
		total += e.MPANs
		for _, d := range e.Demands {
			if len(perAsk[d.Key]) != d.Filled || d.Filled > d.Asked || (d.Shortfall > 0 && d.Reason == "") {
				t.Errorf("%s: %d units in the table, report says %d of %d (%q)", d.Key, len(perAsk[d.Key]), d.Filled, d.Asked, d.Reason)
			}
		}
	}
	if total != len(cols[0]) || total == 0 {
		t.Fatalf("report counts %d MPANs, table has %d", total, len(cols[0]))
	}
	checkUnmetered(t, rep, cols)

	// Load packs: D-flows valid, addressed from the SI as test data, only
	// the pack's own MPANs; re-appointed MOps rewritten in supplier packs.
	dflows, _ := filepath.Glob(filepath.Join(run, "packs", "*", "*", "dflow", "*.dat"))
	if len(dflows) == 0 {
		t.Fatal("no D-flow files in the load packs")
	}
	for _, f := range dflows {
		parts := strings.Split(filepath.ToSlash(f), "/")
		envName, who := parts[len(parts)-4], parts[len(parts)-3]
		role, mpid, _ := strings.Cut(who, "-")
		readPackDflow(t, f, func(h *dflow.Header, in *dflow.Instance) {
			if in == nil {
				if h.FromRole != "Z" || h.FromMPID != "MHSI" || h.TestFlag != "TR01" || h.ToMPID != mpid || h.ToRole != plan.RoleCodes[role] {
					t.Errorf("%s: header %+v", f, h)
				}
				return
			}
			if m := string(in.MPAN); m != "" && env[m] != envName {
				t.Errorf("%s: MPAN %s is allocated to %q, not %s", f, m, env[m], envName)
			}
		})
	}
	eesPacks, _ := filepath.Glob(filepath.Join(run, "packs", "*", "supplier-*", "ees", "ees_portfolio.parquet"))
	rewritten := 0
	for _, f := range eesPacks {
		c := readColumns(t, f, "mpan_core", "mop")
		for i, core := range c[0] {
			if env[core] == "" {
				t.Fatalf("%s: MPAN %s is not allocated", f, core)
			}
			if c[1][i] != mopOf[core] {
				t.Errorf("%s: MPAN %s lists MOp %s, allocated to %s", f, core, c[1][i], mopOf[core])
			}
		}
		rewritten += len(c[0])
	}
	if rewritten == 0 {
		t.Fatal("no EES rows in supplier packs")
	}
	checkPacksHoldData(t, run, rep)
	checkPackContents(t, run, oc.RunID, rep)
	reappointed := 0
	for i := range cols[0] {
		if cols[4][i] != cols[5][i] {
			reappointed++
		}
	}
	if reappointed == 0 {
		t.Fatal("no MPAN was re-appointed: the plan should exercise re-appointment")
	}

	// Idempotent: the same plan and cuts change nothing, and only the first
	// run is in the audit trail, with every object it wrote.
	again, err := Run(ctx, Options{Store: st, Plan: p, Log: zerolog.Nop()})
	if err != nil || !again.Existing || again.RunID != oc.RunID {
		t.Fatalf("second run: %v, existing %v, id %s vs %s", err, again != nil && again.Existing, again.RunID, oc.RunID)
	}
	recs, err := audit.List(ctx, st, audit.Filter{})
	var allocs []audit.Record
	for _, r := range recs {
		if r.Action == audit.ActionAllocate {
			allocs = append(allocs, r)
		}
	}
	if err != nil || len(allocs) != 1 || len(allocs[0].Objects) < 3 || !strings.Contains(allocs[0].Detail, oc.RunID) {
		t.Fatalf("%d allocate records (%v), want one naming run %s and what it wrote", len(allocs), err, oc.RunID)
	}
	// Stable: a new participant and a demand keep the earlier assignments.
	raw := strings.Replace(string(p.Raw), "supplier: [BRGT, ECHO, IRIS]", "supplier: [BRGT, ECHO, IRIS, FRNT]", 1)
	p2, err := plan.Decode("sit.yaml", []byte(raw), p.Sources.Types)
	if err != nil {
		t.Fatal(err)
	}
	third, err := Run(ctx, Options{Store: st, Plan: p2, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, e := range third.Report.Environments {
		for _, d := range e.Demands {
			kept += d.Kept
		}
	}
	if _, filled := rep.Totals(); third.Report.PreviousRun != oc.RunID || kept != filled {
		t.Fatalf("re-run kept %d of %d earlier units (previous run %q)", kept, filled, third.Report.PreviousRun)
	}
	checkDeltas(t, st, oc, third, nil)
	// A re-run's packs are as complete as the first run's: manifests,
	// MPAN lists and checksums of what it wrote, beside its deltas.
	checkPackContents(t, filepath.Join(dir, filepath.FromSlash(third.Prefix)), third.RunID, third.Report)
	checkHTML(t, filepath.Join(run, "report.html"), rep)
	checkPins(t, ctx, st, p, rep)
}

// checkPins runs the plan with a pin of the version its latest run read
// (the only one published), and with a pin of one never published.
func checkPins(t *testing.T, ctx context.Context, st *local.Store, p *plan.Plan, rep *Report) {
	t.Helper()
	src := rep.Sources[0]
	for _, s := range rep.Sources {
		if s.Version < 1 || s.AsAt == "" || s.Pinned {
			t.Fatalf("source %+v: a run records each source's version and as-at date, none pinned", s)
		}
	}
	pin := func(version int) (*Outcome, error) {
		const cuts = "cuts: [registration, ees, mop-mtd, supplier-customer]\n"
		raw := strings.Replace(string(p.Raw), cuts, fmt.Sprintf("%s  pins: {%s: {%s: %d}}\n", cuts, src.Cut, src.MPID, version), 1)
		pp, err := plan.Decode("sit.yaml", []byte(raw), p.Sources.Types)
		if err != nil || pp.Sources.Pin(src.Cut, src.MPID) != version {
			t.Fatalf("the pinned plan: %v", err)
		}
		return Run(ctx, Options{Store: st, Plan: pp, Log: zerolog.Nop()})
	}
	oc, err := pin(src.Version)
	if err != nil {
		t.Fatal(err)
	}
	var pinned []SourceRef
	for _, s := range oc.Report.Sources {
		if s.Pinned {
			pinned = append(pinned, s)
		}
	}
	if len(pinned) != 1 || pinned[0].SourceRef != src.SourceRef || len(oc.Report.Sources) != len(rep.Sources) {
		t.Fatalf("pinned sources %+v, want only %+v", pinned, src)
	}
	b, err := store.ReadAll(ctx, st, oc.Prefix+cut.ReportMarkdown)
	if err != nil {
		t.Fatal(err)
	}
	if row := fmt.Sprintf("| %s | %s | %d (pinned) | %s | %s |", src.Cut, src.MPID, src.Version, src.AsAt, src.CutID); !strings.Contains(string(b), row) ||
		!strings.Contains(string(b), "(1 pinned by the plan)") {
		t.Errorf("report.md has no source row %q:\n%s", row, b)
	}
	_, err = pin(src.Version + 5)
	if want := fmt.Sprintf("the plan pins %s's %s cut to version %d, which does not exist: the versions published are %d", src.MPID, src.Cut, src.Version+5, src.Version); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a pin of a version never published: %v, want %q", err, want)
	}
}

// checkHTML opens the report in headless Chromium and checks the chart it
// draws: one bar per demand, with the report's numbers.
func checkHTML(t *testing.T, path string, rep *Report) {
	dom := browsertest.DumpDOM(t, path)
	shot := browsertest.Screenshot(t, path)
	t.Logf("report screenshot: %s", shot)
	if page, _ := os.ReadFile(path); bytes.Contains(page, []byte("<script")) {
		t.Error("the report needs script")
	}
	for _, e := range rep.Environments {
		if !strings.Contains(dom, `<a href="#env-`+e.Name+`">`) {
			t.Errorf("the contents do not link to %s", e.Name)
		}
		for _, p := range e.Participants {
			if p.Pack != "" && !strings.Contains(dom, `<a href="`+relPack(p.Pack)+`">`) {
				t.Errorf("no relative link to %s's pack %s", p.MPID, p.Pack)
			}
		}
	}
	if !strings.HasPrefix(relPack("allocations/sit/r1/packs/SIT-A/mop-MTRA/"), "packs/") || !strings.Contains(dom, "<th>kept from run before</th>") {
		t.Error("pack links are not relative to the report, or the kept column is missing")
	}
	rows := regexp.MustCompile(`<g class="row" data-key="([^"]+)" data-filled="(\d+)" data-asked="(\d+)"`).FindAllStringSubmatch(dom, -1)
	want := 0
	for _, e := range rep.Environments {
		for _, d := range e.Demands {
			want++
			found := false
			for _, r := range rows {
				if r[1] == e.Name+" "+d.Key {
					found = r[2] == itoa(d.Filled) && r[3] == itoa(d.Asked)
				}
			}
			if !found {
				t.Errorf("chart has no bar for %s with %d of %d", d.Key, d.Filled, d.Asked)
			}
		}
	}
	if len(rows) != want {
		t.Fatalf("chart drew %d bars, want %d (one per demand)", len(rows), want)
	}
	if asked, filled := rep.Totals(); !strings.Contains(dom, `class="bar short"`) && filled < asked {
		t.Error("short demands are not marked in the chart")
	}
	sources := regexp.MustCompile(`(?s)<table id="source-table">(.*?)</table>`).FindStringSubmatch(dom)
	if sources == nil || strings.Count(sources[1], "<tr><td>") != len(rep.Sources) {
		t.Errorf("the sources table should list the %d sources", len(rep.Sources))
	}
	for _, s := range rep.Sources {
		if row := fmt.Sprintf("<td>%s</td><td>%s</td><td class=\"n\">%d</td><td>%s</td>", s.Cut, s.MPID, s.Version, s.AsAt); !strings.Contains(dom, row) {
			t.Errorf("the sources table has no row %s", row)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// checkPacksHoldData: every MPAN given to a MOp or data collector has its
// meter technical details in that participant's pack, and the pack no
// others; the data collectors onboarded get packs; the report counts no
// MPAN given without data; a re-appointed role's DIP id is blank in the
// EES rows, the others' kept.
func checkPacksHoldData(t *testing.T, run string, rep *Report) {
	t.Helper()
	a := readColumns(t, filepath.Join(run, "allocation.parquet"), "mpan_core", "environment", "mop", "dc", "real_mop", "real_dc")
	given := map[string]map[string]bool{} // env/role-mpid → cores
	reappointed := map[string]map[string]bool{"mop": {}, "dc": {}}
	noMOp := map[string]bool{} // unmetered: no MOp, so no metering service DIP id
	for i, core := range a[0] {
		noMOp[core] = a[4][i] == ""
		for j, role := range []string{"mop", "dc"} {
			k := a[1][i] + "/" + role + "-" + a[2+j][i]
			if given[k] == nil {
				given[k] = map[string]bool{}
			}
			given[k][core] = true
			if a[2+j][i] != a[4+j][i] {
				reappointed[role][core] = true
			}
		}
	}
	packs := 0
	for _, e := range rep.Environments {
		for _, p := range e.Participants {
			if p.Role != "mop" && p.Role != "dc" {
				continue
			}
			packs++
			k := e.Name + "/" + p.Role + "-" + p.MPID
			files, _ := filepath.Glob(filepath.Join(run, "packs", e.Name, p.Role+"-"+p.MPID, "dflow", "*.dat"))
			if p.Pack == "" || (len(files) == 0 && len(given[k]) > 0) {
				t.Errorf("%s: %d MPANs given, no pack (%q) or no D-flows", k, len(given[k]), p.Pack)
				continue
			}
			held := map[string]bool{}
			for _, f := range files {
				fh, err := os.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				r := dflow.NewReader(fh, f, dflow.Options{})
				for {
					in, err := r.Next()
					if err != nil {
						break
					}
					if m := string(in.MPAN); m != "" {
						held[m] = true
					}
				}
				fh.Close()
			}
			missing := 0
			for core := range given[k] {
				if !held[core] {
					missing++
				}
			}
			if missing > 0 || len(held) != len(given[k]) || p.WithoutData != 0 {
				t.Errorf("%s: given %d MPANs, its pack's D-flows hold %d, %d given lack them (report says %d)", k, len(given[k]), len(held), missing, p.WithoutData)
			}
		}
		for role, n := range e.WithoutData {
			if n != 0 {
				t.Errorf("%s: %d MPANs given to %s without data", e.Name, n, role)
			}
		}
	}
	if packs == 0 {
		t.Fatal("no MOp or data collector onboarded")
	}
	eesPacks, _ := filepath.Glob(filepath.Join(run, "packs", "*", "supplier-*", "ees", "ees_portfolio.parquet"))
	blanked := 0
	for _, f := range eesPacks {
		cores := readByRef(t, f, "J0003")
		for role, ref := range map[string]string{"mop": "EES.metering-service-dip", "dc": "EES.data-service-dip", "supplier": "EES.supplier-dip"} {
			for i, dip := range readByRef(t, f, ref) {
				switch re := reappointed[role][cores[i]]; {
				case re && dip != "<null>":
					t.Errorf("%s: MPAN %s: %s re-appointed, its DIP id kept", f, cores[i], role)
				case re:
					blanked++
				case dip == "<null>" && !(role == "mop" && noMOp[cores[i]]):
					t.Errorf("%s: MPAN %s: %s not re-appointed, its DIP id blanked", f, cores[i], role)
				}
			}
		}
	}
	if blanked == 0 {
		t.Error("no re-appointed DIP id in the supplier packs' EES rows")
	}
}

// readByRef reads the string column carrying data item ref, "<null>" for
// nulls.
func readByRef(t *testing.T, path, ref string) []string {
	t.Helper()
	tbl := readTable(t, path)
	defer tbl.Release()
	for i, f := range tbl.Schema().Fields() {
		if r, _ := f.Metadata.GetValue(dflow.MetaRef); r == ref {
			return stringsOf(tbl.Column(i), "<null>")
		}
	}
	t.Fatalf("%s has no column of %s", path, ref)
	return nil
}

// Plans do not share units: a unit the sit plan's latest run holds is not
// given to another plan asking for the same (whose report says how many it
// could not take, and from whom) unless that plan may share; release and
// rollback move sit's ledger, audited.
func TestPlansReserveTheirUnits(t *testing.T) {
	st, dir := publishedMarket(t)
	ctx := context.Background()
	run := func(p *plan.Plan) (*Outcome, map[string]bool) {
		t.Helper()
		oc, err := Run(ctx, Options{Store: st, Plan: p, Log: zerolog.Nop(), NoPacks: true})
		if err != nil {
			t.Fatal(err)
		}
		units := map[string]bool{}
		for _, u := range readColumns(t, filepath.Join(dir, filepath.FromSlash(oc.Prefix+cut.AllocationFile)), "unit_id")[0] {
			units[u] = true
		}
		return oc, units
	}
	sit := builtInPlan(t, "sit")
	copied := *sit // another plan wanting the very same units
	copied.Name = "sit-again"
	uit := &copied
	first, sitUnits := run(sit)
	alone := func() map[string]bool { // what uit takes with nothing reserved
		shared := *uit
		shared.Policy.Share = true
		_, units := run(&shared)
		if err := cut.WriteLedger(ctx, st, shared.Name, ""); err != nil {
			t.Fatal(err)
		}
		return units
	}()
	overlap := 0
	for u := range alone {
		if sitUnits[u] {
			overlap++
		}
	}
	if overlap == 0 {
		t.Fatal("the plans would not compete for any unit: the test shows nothing")
	}
	oc, uitUnits := run(uit)
	for u := range uitUnits {
		if sitUnits[u] {
			t.Errorf("unit %s is in both plans' latest runs", u)
		}
	}
	if !strings.Contains(string(mustRead(t, st, oc.Prefix+cut.ReportJSON)), "heldByOtherPlans") {
		t.Errorf("sit-again's report does not say which units sit holds")
	}
	t.Logf("%d units both plans would take; sit-again took %d without them", overlap, len(uitUnits))

	if _, err := Release(ctx, st, "sit", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := Release(ctx, st, "sit", "test"); err == nil || !strings.Contains(err.Error(), "holds no units") {
		t.Errorf("releasing twice: %v", err)
	}
	if err := Rollback(ctx, st, "sit", "nosuchrun", "test"); err == nil || !strings.Contains(err.Error(), "no complete run nosuchrun") {
		t.Errorf("rollback to a run that does not exist: %v", err)
	}
	if err := Rollback(ctx, st, "sit", first.RunID, "test"); err != nil {
		t.Fatal(err)
	}
	if got, _ := cut.ReadLedger(ctx, st, "sit"); got != first.RunID {
		t.Errorf("after the rollback sit's latest run is %q, want %s", got, first.RunID)
	}
	recs, err := audit.List(ctx, st, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		if r.Action == audit.ActionRelease || r.Action == audit.ActionRollback {
			actions = append(actions, r.Action)
		}
	}
	if strings.Join(actions, ",") != "release,rollback" {
		t.Errorf("audited %v, want a release and a rollback", actions)
	}
}

func mustRead(t *testing.T, st store.Store, key string) []byte {
	t.Helper()
	b, err := store.ReadAll(context.Background(), st, key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkDeltas: each pack of the later run has a delta.json whose added and
// removed MPANs are exactly the difference of the participant's MPANs in
// the two runs (their packs' mpans.csv), whose changed MPANs are exactly
// the kept ones whose rows amended says were amended (amended: nil for
// none), and the report counts them; the add-pack holds the added and
// changed MPANs' rows.
func checkDeltas(t *testing.T, st store.Store, before, after *Outcome, amended func(pack string) map[string]bool) int {
	t.Helper()
	mpans := func(prefix string) map[string]bool {
		out := map[string]bool{}
		b, err := store.ReadAll(context.Background(), st, prefix+PackMPANsFile)
		if store.IsNotFound(err) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if i > 0 {
				m, _, _ := strings.Cut(line, ",")
				out[m] = true
			}
		}
		return out
	}
	changed, amendedKept := 0, 0
	var addRows int64
	for _, e := range after.Report.Environments {
		for _, p := range e.Participants {
			if p.Pack == "" {
				continue
			}
			var d PackDelta
			if err := json.Unmarshal(mustRead(t, st, p.Pack+PackDeltaFile), &d); err != nil {
				t.Fatal(err)
			}
			old := mpans(cut.PackPrefix(before.Prefix, e.Name, p.Role, p.MPID))
			now := mpans(p.Pack)
			var added, removed []string
			for m := range now {
				if !old[m] {
					added = append(added, m)
				}
			}
			for m := range old {
				if !now[m] {
					removed = append(removed, m)
				}
			}
			changedNow := []string{}
			if amended != nil {
				for m := range amended(p.Pack) {
					if old[m] && now[m] {
						changedNow = append(changedNow, m)
					}
				}
			}
			sort.Strings(added)
			sort.Strings(removed)
			sort.Strings(changedNow)
			if d.PreviousRun != before.RunID || !slices.Equal(d.Added, added) || !slices.Equal(d.Removed, removed) || !slices.Equal(d.Changed, changedNow) ||
				d.Kept != len(now)-len(added) || p.Added != len(added) || p.Removed != len(removed) || p.Changed != len(changedNow) {
				t.Errorf("%s %s-%s: delta %+v (report %d/%d/%d), want added %v removed %v changed %v", e.Name, p.Role, p.MPID, d, p.Added, p.Removed, p.Changed, added, removed, changedNow)
			}
			changed += len(added) + len(removed)
			amendedKept += len(changedNow)
			addRows += checkAddPack(t, st, p.Pack, append(added, changedNow...))
		}
	}
	if changed == 0 {
		t.Error("the plan's change changed no participant's MPANs: the deltas show nothing")
	}
	if addRows == 0 {
		t.Error("no add-pack holds a row: the add-packs show nothing")
	}
	return amendedKept
}

// checkAddPack: the pack's add-pack (delta/) holds, of each of its tables
// (contexts aside), exactly the rows of the added (or changed) MPANs, in order; its
// D-flows as many records as its tables rows; pack.json lists its files
// under deltaLoadOrder and not in the load order. It returns the rows.
func checkAddPack(t *testing.T, st store.Store, pack string, added []string) int64 {
	t.Helper()
	var m PackManifest
	if err := json.Unmarshal(mustRead(t, st, pack+PackManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	isAdded := map[string]bool{}
	for _, a := range added {
		isAdded[a] = true
	}
	files := map[string]PackFile{}
	var deltaFiles []string
	flowRows := map[string]int64{} // flow → add-pack Parquet rows less D-flow records
	for _, f := range m.Files {
		files[f.Name] = f
		if f.Delta && f.Format != FormatCSV && f.Format != FormatJSON {
			deltaFiles = append(deltaFiles, f.Name)
			switch f.Format {
			case FormatParquet:
				flowRows[f.Flow] += f.Rows
			case FormatDFlow:
				flowRows[f.Flow] -= f.Rows
			}
		}
	}
	if !slices.Equal(m.DeltaLoadOrder, deltaFiles) || slices.ContainsFunc(m.LoadOrder, func(n string) bool { return strings.HasPrefix(n, DeltaFolder) }) {
		t.Errorf("%s: deltaLoadOrder %v, want %v; load order %v", pack, m.DeltaLoadOrder, deltaFiles, m.LoadOrder)
	}
	for flow, n := range flowRows {
		if flow != "EES" && n != 0 {
			t.Errorf("%s: the add-pack's %s D-flows hold %d records fewer than its tables rows", pack, flow, n)
		}
	}
	var rows int64
	for _, f := range m.Files {
		if f.Delta || f.Format != FormatParquet {
			continue
		}
		tbl := readTableBytes(t, mustRead(t, st, pack+f.Name))
		idx := tbl.Schema().FieldIndices(dflow.ColInstanceMPAN)
		if len(idx) != 1 || tbl.Schema().Field(0).Name != dflow.ColSourceFileID {
			tbl.Release()
			continue
		}
		var want []string
		for _, mp := range stringsOf(tbl.Column(idx[0]), "") {
			if isAdded[mp] {
				want = append(want, mp)
			}
		}
		tbl.Release()
		df, ok := files[DeltaFolder+f.Name]
		if !ok {
			if len(want) > 0 {
				t.Errorf("%s: no %s%s for the %d rows of added MPANs", pack, DeltaFolder, f.Name, len(want))
			}
			continue
		}
		dt := readTableBytes(t, mustRead(t, st, pack+df.Name))
		var got []string // context records (no MPAN) aside: the ones above the rows chosen
		for _, mp := range stringsOf(dt.Column(dt.Schema().FieldIndices(dflow.ColInstanceMPAN)[0]), "") {
			if mp != "" {
				got = append(got, mp)
			}
		}
		dt.Release()
		if !slices.Equal(got, want) {
			t.Errorf("%s: %s holds MPANs %v, want the added ones' rows %v", pack, df.Name, got, want)
		}
		rows += int64(len(got))
	}
	return rows
}

// readTableBytes reads a Parquet file held in memory whole with Arrow's
// file reader.
func readTableBytes(t *testing.T, b []byte) arrow.Table {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// amendedLLFC is the line loss factor class BRGT's refresh gives some rows.
const amendedLLFC = "999"

// A refreshed cut gives deltas: BRGT sends a new EES extract without a
// third of its MPANs and with some of the rows it keeps amended, the plan
// is run again, and every pack's delta.json is the difference of the two
// runs; BRGT's packs lose MPANs, and list the amended MPANs they keep as
// changed (no other), with their new rows in the add-pack.
func TestRefreshGivesDeltas(t *testing.T) {
	st, dir := publishedMarket(t)
	ctx := context.Background()
	p := builtInPlan(t, "sit")
	first, err := Run(ctx, Options{Store: st, Plan: p, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	// The same market again, for BRGT's raw EES file (a run removes raw files).
	again, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, again, synth.Options{MPANs: 4000, Seed: 5, ChunkMPANs: 2000}); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	err = again.List(ctx, cut.InboxDir("BRGT", "ees"), func(i store.Info) error {
		if strings.HasSuffix(i.Key, ".csv") && raw == nil {
			raw, err = store.ReadAll(ctx, again, i.Key)
		}
		return err
	})
	if err != nil || raw == nil {
		t.Fatalf("BRGT's EES file: %v", err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	var kept strings.Builder
	llfc := slices.Index(synth.EESHeader, "llfc")
	for i, l := range lines {
		if i > 0 && i%3 == 1 && i%5 == 1 && l != "" { // BRGT amends some of the rows it keeps
			f := strings.Split(l, ",")
			f[llfc] = amendedLLFC // synth's are 100..499
			l = strings.Join(f, ",")
		}
		if i == 0 || i%3 != 0 { // the header, and two rows of three
			kept.WriteString(l)
		}
	}
	b := []byte(kept.String())
	sum := sha256.Sum256(b)
	s := &cut.Submission{Schema: cut.SubmissionSchema, MPID: "BRGT", Cut: "ees", AsAt: "2026-11-20", Kind: cut.KindFull,
		Files: []cut.SubmittedFile{{Name: "EES_0001.csv", Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}}}
	if err := st.Put(ctx, cut.SubmissionDir("BRGT", "ees", "refresh")+"EES_0001.csv", bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	if err := cut.WriteSubmission(ctx, st, "refresh", s); err != nil {
		t.Fatal(err)
	}
	if sum := publish(t, st); sum.Count(pipeline.StatusPublished) != 1 {
		t.Fatalf("the refresh: %+v", sum)
	}
	second, err := Run(ctx, Options{Store: st, Plan: p, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if second.Existing || second.Report.PreviousRun != first.RunID {
		t.Fatalf("the run after the refresh: existing %v, previous run %q", second.Existing, second.Report.PreviousRun)
	}
	// The amended MPANs: those whose EES rows in a pack now carry the
	// amended LLFC. Their rows changed; the other kept MPANs' did not.
	amended := func(pack string) map[string]bool {
		out := map[string]bool{}
		path := filepath.Join(dir, filepath.FromSlash(pack), "ees", "ees_portfolio.parquet")
		if _, err := os.Stat(path); err != nil {
			return out
		}
		cores, llfcs := readByRef(t, path, "J0003"), readByRef(t, path, "J0147")
		for i, c := range cores {
			if llfcs[i] == amendedLLFC {
				out[c] = true
			}
		}
		return out
	}
	if n := checkDeltas(t, st, first, second, amended); n == 0 {
		t.Error("BRGT amended rows of MPANs it kept, and no delta lists one as changed")
	}
	checkPackContents(t, filepath.Join(dir, filepath.FromSlash(second.Prefix)), second.RunID, second.Report)
	// report.html counts them per participant, in the "who loads what" table.
	html := string(mustRead(t, st, second.Prefix+cut.ReportHTML))
	for _, e := range second.Report.Environments {
		for _, pr := range e.Participants {
			row := fmt.Sprintf("<td>%s</td><td>%s</td><td>%s</td><td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%d</td>",
				e.Name, pr.Role, pr.MPID, pr.MPANs, pr.Added, pr.Removed, pr.Changed)
			if pr.Changed > 0 && !strings.Contains(html, row) {
				t.Errorf("report.html has no row %s", row)
			}
		}
	}
	removed := 0
	for _, e := range second.Report.Environments {
		for _, pr := range e.Participants {
			if pr.MPID == "BRGT" {
				removed += pr.Removed
			}
		}
	}
	if removed == 0 {
		t.Error("BRGT's refresh dropped a third of its MPANs, and its packs lost none")
	}
}

// Releasing one environment frees its units and no others: another plan
// may take them, the plan's next run keeps its other environments' units
// and allocates that one afresh. After a whole release the next run holds
// units again (it is a new run, not the released one found done), and the
// run after it is done already.
func TestReleaseOneEnvironment(t *testing.T) {
	st, dir := publishedMarket(t)
	ctx := context.Background()
	run := func(p *plan.Plan) (*Outcome, map[string]string) {
		t.Helper()
		oc, err := Run(ctx, Options{Store: st, Plan: p, Log: zerolog.Nop(), NoPacks: true})
		if err != nil {
			t.Fatal(err)
		}
		cols := readColumns(t, filepath.Join(dir, filepath.FromSlash(oc.Prefix+cut.AllocationFile)), "unit_id", "environment")
		units := map[string]string{} // unit → environment
		for i, u := range cols[0] {
			units[u] = cols[1][i]
		}
		return oc, units
	}
	sit := builtInPlan(t, "sit")
	env := sit.Environments[0].Name
	first, before := run(sit)
	if _, err := ReleaseEnvironment(ctx, st, "sit", "NOPE", "test"); err == nil || !strings.Contains(err.Error(), `no environment "NOPE" (it has `+env) {
		t.Errorf("releasing an environment the run does not have: %v", err)
	}
	if _, err := ReleaseEnvironment(ctx, st, "sit", env, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := ReleaseEnvironment(ctx, st, "sit", env, "test"); err == nil || !strings.Contains(err.Error(), "released already") {
		t.Errorf("releasing it twice: %v", err)
	}
	copied := *sit
	copied.Name = "sit-again"
	_, other := run(&copied)
	tookFreed := 0
	for u := range other {
		switch before[u] {
		case "":
		case env:
			tookFreed++
		default:
			t.Errorf("sit-again took unit %s, which sit still holds in %s", u, before[u])
		}
	}
	if tookFreed == 0 {
		t.Errorf("sit-again took none of the %s units sit released", env)
	}
	second, after := run(sit)
	if second.Existing || second.RunID == first.RunID {
		t.Fatalf("the run after the release is the old one (existing %v)", second.Existing)
	}
	for u, e := range before {
		if e != env && after[u] != e {
			t.Errorf("unit %s of %s left sit's run after %s alone was released", u, e, env)
		}
	}
	for u, e := range after {
		if other[u] != "" {
			t.Errorf("sit's new run gave %s unit %s, which sit-again holds", e, u)
		}
	}

	if _, err := Release(ctx, st, "sit", "test"); err != nil {
		t.Fatal(err)
	}
	third, _ := run(sit)
	if third.Existing {
		t.Fatal("after a release the next run found an old run done and holds nothing")
	}
	if got, _ := cut.ReadLedger(ctx, st, "sit"); got != third.RunID {
		t.Errorf("after the release and a run sit's latest run is %q, want %s", got, third.RunID)
	}
	if again, _ := run(sit); !again.Existing || again.RunID != third.RunID {
		t.Errorf("running once more: existing %v, run %s, want the run %s", again.Existing, again.RunID, third.RunID)
	}
}

// checkUnmetered: SIT-MIG's unmetered demand is filled although an
// unmetered supply has no MOp (so no MTD): no MOp is given it
// (checkPacksHoldData: no role is given an MPAN without data).
func checkUnmetered(t *testing.T, rep *Report, cols [][]string) {
	t.Helper()
	found := false
	for _, e := range rep.Environments {
		for _, d := range e.Demands {
			if d.Key == "SIT-MIG/unmetered" {
				found = true
				if d.Filled != d.Asked || d.Asked == 0 {
					t.Errorf("SIT-MIG/unmetered: %d of %d filled: %s", d.Filled, d.Asked, d.Reason)
				}
			}
		}
	}
	if !found {
		t.Fatal("no SIT-MIG/unmetered demand in the report")
	}
	for i := range cols[0] {
		if cols[3][i] == "SIT-MIG/unmetered" && (cols[4][i] != "" || cols[5][i] != "") {
			t.Errorf("unmetered MPAN %s appointed to MOp %q (real %q)", cols[0][i], cols[4][i], cols[5][i])
		}
	}
}

// readPackDflow reads a pack's D-flow file: it calls fn with the header
// (and a nil instance), then with each instance, every one of which must
// validate.
func readPackDflow(t *testing.T, f string, fn func(h *dflow.Header, in *dflow.Instance)) {
	t.Helper()
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := dflow.NewReader(fh, f, dflow.Options{})
	h, err := r.Header()
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	fn(h, nil)
	for {
		in, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if in.Rejected() {
			t.Errorf("%s instance %d: rejected: %v", f, in.Ordinal, in.Findings)
		}
		fn(h, in)
	}
}
