package allocation

import (
	"bytes"
	"context"
	"io/fs"
	stdmaps "maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mpan"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/pipelines"
)

// topUpPlan is the built-in SIT plan with policy.top_up on.
func topUpPlan(t *testing.T, limits string) *plan.Plan {
	t.Helper()
	p := builtInPlan(t, "sit")
	raw := strings.Replace(string(p.Raw), "  fairness: max-min", "  fairness: max-min\n  top_up: "+limits, 1)
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	q, err := plan.Decode("sit.yaml", []byte(raw), types)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestTopUpFillsTheSITPlan(t *testing.T) {
	st, dir := publishedMarket(t)
	ctx := context.Background()
	base, err := Run(ctx, Options{Store: st, Plan: builtInPlan(t, "sit"), Log: zerolog.Nop(), NoPacks: true})
	if err != nil {
		t.Fatal(err)
	}
	// The universe: every MPAN of the published EES cuts.
	universe := map[string]bool{}
	for _, f := range globAll(dir, "cuts/ees/*/*/*.parquet") {
		for _, c := range readColumns(t, f, "mpan_core")[0] {
			universe[c] = true
		}
	}
	if len(universe) != base.Report.Universe.MPANs {
		t.Fatalf("read %d MPANs of the EES cuts, the universe has %d", len(universe), base.Report.Universe.MPANs)
	}
	short := 0
	for _, e := range base.Report.Environments {
		short += e.Asked - e.Filled
	}
	if short == 0 {
		t.Fatal("the SIT plan is filled without top-up: the test needs a shortfall")
	}
	if _, err := Release(ctx, st, "sit", "test"); err != nil {
		t.Fatal(err)
	}
	p := topUpPlan(t, "{units: 500, per_demand: 100}")
	oc, err := Run(ctx, Options{Store: st, Plan: p, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("without top-up %d units short", short)
	synthetic := 0
	for _, e := range oc.Report.Environments {
		for role, n := range e.WithoutData {
			if n != 0 {
				t.Errorf("%s: %d MPANs given to %s without data", e.Name, n, role)
			}
		}
		for _, d := range e.Demands {
			synthetic += d.Synthetic
			if d.Shortfall != 0 { // full coverage, the unmetered demand too (no MOp to load it)
				t.Errorf("%s: %d short after top-up: %s", d.Key, d.Shortfall, d.Reason)
			}
		}
	}
	run := filepath.Join(dir, filepath.FromSlash(oc.Prefix))
	cols := readColumns(t, filepath.Join(run, cut.AllocationFile), "mpan_core", "ask", "ask", "gsp_group", "distributor")
	cols[1] = boolColumn(t, filepath.Join(run, cut.AllocationFile), "synthetic")
	marked := 0
	for i, c := range cols[0] {
		if cols[1][i] != "true" {
			continue
		}
		marked++
		d, _ := mpan.DistributorOf(c)
		if !mpan.Valid(c) || universe[c] || d.MPID != cols[4][i] {
			t.Errorf("synthetic %s (%s): valid %v, in the universe %v, distributor %s", c, cols[2][i], mpan.Valid(c), universe[c], cols[4][i])
		}
	}
	if marked != synthetic || synthetic == 0 {
		t.Errorf("%d rows marked synthetic, the report counts %d", marked, synthetic)
	}
	checkSyntheticPacks(t, run, p)
	checkNewExports(t, run, universe)
}

// checkNewExports: the linked demand is met with new export MPANs, each
// linked to a real import MPAN of the universe that had none; both D0204
// records name the pair in every pack holding them.
func checkNewExports(t *testing.T, run string, universe map[string]bool) {
	t.Helper()
	alloc := filepath.Join(run, cut.AllocationFile)
	a := readColumns(t, alloc, "mpan_core", "unit_id", "demand")
	syn, linked := boolColumn(t, alloc, "synthetic"), boolColumn(t, alloc, "linked")
	members := map[string][]string{}
	for i, core := range a[0] {
		members[a[1][i]] = append(members[a[1][i]], core)
	}
	pairs := map[string]string{} // import → export
	for i, core := range a[0] {
		if syn[i] != "true" || linked[i] != "true" {
			continue
		}
		if a[2][i] != "import-export" || len(members[a[1][i]]) != 2 {
			t.Errorf("new export %s: demand %s, unit %v", core, a[2][i], members[a[1][i]])
			continue
		}
		for _, m := range members[a[1][i]] {
			if m != core {
				if !universe[m] {
					t.Errorf("new export %s is linked to %s, not a real MPAN", core, m)
				}
				pairs[m] = core
			}
		}
	}
	if len(pairs) == 0 {
		t.Fatal("no new export MPAN")
	}
	seen := map[string]int{}
	for _, f := range globAll(run, "packs/*/*/registration/d0204_48m.parquet") {
		cores := readColumns(t, f, dflow.ColInstanceMPAN)[0]
		primary, secondary := readByRef(t, f, "J2243"), readByRef(t, f, "J2244")
		for i, c := range cores {
			imp, exp := c, pairs[c]
			if exp == "" {
				for im, ex := range pairs {
					if ex == c {
						imp, exp = im, ex
					}
				}
			}
			if exp == "" {
				continue
			}
			seen[c]++
			if primary[i] != imp || secondary[i] != exp {
				t.Errorf("%s: MPAN %s lists related MPANs %s/%s, want %s/%s", f, c, primary[i], secondary[i], imp, exp)
			}
		}
	}
	for f := range stdmaps.Keys(globAll2(run, "packs/*/*/registration/d0204_47m.parquet")) {
		cores, flag := readColumns(t, f, dflow.ColInstanceMPAN)[0], readByRef(t, f, "J2245")
		for i, c := range cores {
			if _, isImport := pairs[c]; isImport && flag[i] != "Y" {
				t.Errorf("%s: import %s has related MPAN indicator %q", f, c, flag[i])
			}
		}
	}
	for imp, exp := range pairs {
		if seen[imp] == 0 || seen[imp] != seen[exp] {
			t.Errorf("import %s in %d packs' D0204 related MPANs, its new export %s in %d", imp, seen[imp], exp, seen[exp])
		}
	}
}

func globAll2(dir, pattern string) map[string]bool {
	out := map[string]bool{}
	for _, f := range globAll(dir, pattern) {
		out[f] = true
	}
	return out
}

// checkSyntheticPacks: every synthetic MPAN is in the pack of each
// participant appointed to it, in every flow of the pack's cuts routed to
// the role that the generator writes for its kind of meter, its D-flows
// valid; every pack's mpans.csv marks it; the EES row's meter serial and
// address are the MOp's and the registration record's.
func checkSyntheticPacks(t *testing.T, run string, p *plan.Plan) {
	t.Helper()
	alloc := filepath.Join(run, cut.AllocationFile)
	a := readColumns(t, alloc, "mpan_core", "environment", "supplier", "mop", "dc", "da", "distributor", "meter_type")
	syn, linked := boolColumn(t, alloc, "synthetic"), boolColumn(t, alloc, "linked")
	roleCol := map[string]int{"supplier": 2, "mop": 3, "dc": 4, "da": 5, "distributor": 6}
	// flows[pack][core]: the flows of the pack's D-flows holding the core.
	flows := map[string]map[string]map[string]bool{}
	dflows, _ := filepath.Glob(filepath.Join(run, "packs", "*", "*", "dflow", "*.dat"))
	for _, f := range dflows {
		pk := filepath.Base(filepath.Dir(filepath.Dir(f)))
		env := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(f))))
		key := env + "/" + pk
		if flows[key] == nil {
			flows[key] = map[string]map[string]bool{}
		}
		readPackDflow(t, f, func(h *dflow.Header, in *dflow.Instance) {
			if in == nil || len(in.MPAN) == 0 {
				return
			}
			m := string(in.MPAN)
			if flows[key][m] == nil {
				flows[key][m] = map[string]bool{}
			}
			flows[key][m][h.Flow] = true
		})
	}
	checked := 0
	for i, core := range a[0] {
		if syn[i] != "true" {
			continue
		}
		for role, col := range roleCol {
			key := a[1][i] + "/" + role + "-" + a[col][i]
			if !slices.Contains(p.Environment(a[1][i]).Participants[role], a[col][i]) {
				continue
			}
			want := map[string]bool{}
			for _, c := range p.Packs[role] {
				t := p.Sources.Types[slices.IndexFunc(p.Sources.Types, func(ct *cut.Type) bool { return ct.Name == c })]
				for _, f := range t.Input.Flows {
					if !p.Receives(role, plan.DataSet{Cut: c, Flow: f}) {
						continue
					}
					switch mt := a[7][i]; {
					case f == "D0150" || f == "D0149":
						if mt == "N" || strings.HasPrefix(mt, "S") {
							want[f] = true
						}
					case f == "D0268":
						if mt == "H" {
							want[f] = true
						}
					case f == "D0204" || (f == "D0302" && linked[i] != "true"): // an export's customer is its import's
						want[f] = true
					}
				}
			}
			got := stdmaps.Clone(flows[key][core])
			delete(got, "D0225") // with priority services only
			if !stdmaps.Equal(got, want) {
				t.Errorf("synthetic %s in pack %s: flows %v, want %v", core, key, slices.Sorted(stdmaps.Keys(got)), slices.Sorted(stdmaps.Keys(want)))
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no synthetic MPAN in any pack")
	}
	// A central role (the EES) loads every MPAN of its environment: each
	// synthetic MPAN's EES row is in the pack of each EES participant.
	eesRowsOf := map[string]map[string]bool{}
	centralChecked := 0
	for i, core := range a[0] {
		if syn[i] != "true" {
			continue
		}
		for _, role := range plan.CentralRoles {
			for _, mpid := range p.Environment(a[1][i]).Participants[role] {
				key := a[1][i] + "/" + role + "-" + mpid
				if eesRowsOf[key] == nil {
					eesRowsOf[key] = map[string]bool{}
					for _, c := range readColumns(t, filepath.Join(run, "packs", a[1][i], role+"-"+mpid, "ees", "ees_portfolio.parquet"), "mpan_core")[0] {
						eesRowsOf[key][c] = true
					}
				}
				if !eesRowsOf[key][core] {
					t.Errorf("synthetic %s: no EES row in pack %s", core, key)
				}
				checked++
				centralChecked++
			}
		}
	}
	if centralChecked == 0 {
		t.Error("no synthetic MPAN in an EES pack: the SIT plan onboards the EES")
	}
	// mpans.csv marks them.
	marked := 0
	csvs, _ := filepath.Glob(filepath.Join(run, "packs", "*", "*", PackMPANsFile))
	for _, f := range csvs {
		for _, r := range readCSV(t, f)[1:] {
			if r[5] == "true" {
				marked++
			}
		}
	}
	if marked != checked {
		t.Errorf("mpans.csv files mark %d synthetic MPANs, %d given to packs", marked, checked)
	}
	// The same data everywhere: an EES row's meter serial and postcode
	// are those of the MOp's D0150 and the registration record.
	synthetic := map[string]bool{}
	for i, c := range a[0] {
		synthetic[c] = syn[i] == "true"
	}
	msn, postcode := map[string]string{}, map[string]string{}
	for _, f := range globAll(run, "packs/*/supplier-*/ees/ees_portfolio.parquet") {
		cores, serials, codes := readByRef(t, f, "J0003"), readByRef(t, f, "J0004"), readByRef(t, f, "J0263")
		for i, c := range cores {
			msn[c], postcode[c] = serials[i], codes[i]
		}
	}
	same := 0
	for _, f := range globAll(run, "packs/*/mop-*/mop-mtd/d0150_290.parquet") {
		cores, serials := readColumns(t, f, dflow.ColInstanceMPAN)[0], readByRef(t, f, "J0004")
		for i, c := range cores {
			if want, ok := msn[c]; ok && want != serials[i] {
				t.Errorf("MPAN %s: meter serial %q in the MOp's D0150, %q in the supplier's EES", c, serials[i], want)
			}
			if synthetic[c] {
				same++
			}
		}
	}
	if same == 0 {
		t.Error("no synthetic MPAN's D0150 meter serial compared")
	}
	same = 0
	for _, f := range globAll(run, "packs/*/distributor-*/registration/d0204_440.parquet") {
		cores, codes := readByRef(t, f, "J0003"), readByRef(t, f, "J0263")
		for i, c := range cores {
			if want, ok := postcode[c]; ok && want != codes[i] {
				t.Errorf("MPAN %s: postcode %q in the distributor's D0204, %q in the supplier's EES", c, codes[i], want)
			}
			if synthetic[c] {
				same++
			}
		}
	}
	if same == 0 {
		t.Error("no synthetic MPAN's D0204 postcode compared")
	}
	// The EES CSVs read back valid, as datacut validate reads them.
	for _, d := range globAll(run, "packs/*/supplier-*/ees") {
		checkEESCSV(t, d)
	}
}

func globAll(dir, pattern string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
	return m
}

// boolColumn reads a boolean column of a Parquet file as "true"/"false".
func boolColumn(t *testing.T, path, name string) []string {
	t.Helper()
	tbl := readTable(t, path)
	defer tbl.Release()
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) == 0 {
		t.Fatalf("%s has no column %s", path, name)
	}
	var out []string
	for _, ch := range tbl.Column(idx[0]).Data().Chunks() {
		b := ch.(*array.Boolean)
		for i := 0; i < b.Len(); i++ {
			out = append(out, strconv.FormatBool(b.Value(i)))
		}
	}
	return out
}

// The same plan, seed and cuts give the same run, byte for byte (but the
// report's timings); a changed plan keeps the ledger's synthetic units;
// after a release the plan holds none, and the next run makes them anew.
func TestTopUpIsReproducibleAndKept(t *testing.T) {
	st, dir, st2, copyDir := twoMarkets(t)
	ctx := context.Background()
	p := topUpPlan(t, "{units: 500, per_demand: 100}")
	first, err := Run(ctx, Options{Store: st, Plan: p, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Run(ctx, Options{Store: st2, Plan: p, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if first.RunID != second.RunID {
		t.Fatalf("run ids %s and %s", first.RunID, second.RunID)
	}
	a, b := filepath.Join(dir, filepath.FromSlash(first.Prefix)), filepath.Join(copyDir, filepath.FromSlash(second.Prefix))
	files := 0
	err = filepath.WalkDir(a, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, path)
		switch rel {
		case cut.ReportJSON, cut.ReportHTML, cut.ReportMarkdown: // timings
			return nil
		}
		x, _ := os.ReadFile(path)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs of the same inputs (%v)", rel, err)
		}
		files++
		return nil
	})
	if err != nil || files < 10 {
		t.Fatalf("compared %d files: %v", files, err)
	}
	synthOf := func(oc *Outcome, root string) map[string]string { // core → ask, kept
		path := filepath.Join(root, filepath.FromSlash(oc.Prefix+cut.AllocationFile))
		c := readColumns(t, path, "mpan_core", "ask")
		syn, kept := boolColumn(t, path, "synthetic"), boolColumn(t, path, "kept_from_ledger")
		out := map[string]string{}
		for i, core := range c[0] {
			if syn[i] == "true" {
				out[core] = c[1][i] + " kept=" + kept[i]
			}
		}
		return out
	}
	made := synthOf(first, dir)
	if len(made) == 0 {
		t.Fatal("no synthetic units")
	}
	// A new supplier onboarded: every synthetic unit of an ask that is
	// still short is kept, the same core, marked kept.
	p2 := editPlan(t, p, [2]string{"supplier: [BRGT, ECHO, IRIS]", "supplier: [BRGT, ECHO, IRIS, FRNT]"})
	third, err := Run(ctx, Options{Store: st, Plan: p2, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	now := synthOf(third, dir)
	for core, was := range made {
		ask, _, _ := strings.Cut(was, " ")
		if now[core] != ask+" kept=true" {
			t.Errorf("synthetic %s of %s: now %q, want kept", core, ask, now[core])
		}
	}
	// Released, the plan holds no unit; its next run makes the same units
	// anew (not kept).
	if _, err := Release(ctx, st, "sit", "test"); err != nil {
		t.Fatal(err)
	}
	fourth, err := Run(ctx, Options{Store: st, Plan: p2, Log: zerolog.Nop(), NoPacks: true})
	if err != nil {
		t.Fatal(err)
	}
	for core, was := range synthOf(fourth, dir) {
		if strings.HasSuffix(was, "kept=true") {
			t.Errorf("synthetic %s (%s) kept after a release", core, was)
		}
		ask, _, _ := strings.Cut(now[core], " ")
		if w, _, _ := strings.Cut(was, " "); w != ask {
			t.Errorf("synthetic %s: %s before the release, %s after", core, ask, w)
		}
	}
}
