package reconcile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/browsertest"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/pipelines"
)

const testKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// market generates a synthetic market with cross faults at rate, publishes
// it and returns the store, its directory and the pipelines.
func market(t testing.TB, mpans int, rate float64) (*local.Store, string, *pipeline.Set) {
	t.Helper()
	dir := t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := synth.Generate(ctx, st, synth.Options{MPANs: mpans, Seed: 3, CrossFaultRate: rate, ChunkMPANs: mpans / 2}); err != nil {
		t.Fatal(err)
	}
	set, err := pipeline.Load(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := mask.ParseKey(testKey)
	sum, err := pipeline.Run(ctx, pipeline.Options{Store: st, Pipelines: set, Key: key, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if rej, q := sum.Totals(); rej != 0 || q != 0 {
		t.Fatalf("the market without faults had %d instances rejected, %d files quarantined", rej, q)
	}
	return st, dir, set
}

func builtIn(t testing.TB) *Rules {
	t.Helper()
	types, err := LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Load(pipelines.FS, RulesFile, types)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func reconcile(t *testing.T, st store.Store, set *pipeline.Set, rules *Rules) *Result {
	t.Helper()
	dpia := set.Rules(pipeline.DefaultRules)
	res, err := Run(context.Background(), Options{Store: st, Rules: rules, Clear: func(ref string) bool { return !dpia.Sensitive(ref) }})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The clean synthetic market reconciles: every metered MPAN's appointed
// MOp holds its MTD, every cut agrees with every other.
func TestCleanMarketHasNoFindings(t *testing.T) {
	st, _, set := market(t, 2000, 0)
	res := reconcile(t, st, set, builtIn(t))
	for i, f := range res.Findings {
		if i < 10 {
			t.Errorf("finding in the clean market: %+v", f)
		}
	}
	if len(res.Findings) > 0 {
		t.Fatalf("%d findings in the clean market, want none", len(res.Findings))
	}
	if len(res.Sources) < 30 {
		t.Fatalf("read %d cut versions: the market's cuts were not all read", len(res.Sources))
	}
}

type truthKey struct{ rule, mpan, mpid, cut string }

// Every cross-participant disagreement synth injects is found by the rule
// its ground truth names, for the participant it names, and nothing else
// is found.
func TestCrossFaultsMatchGroundTruthExactly(t *testing.T) {
	st, dir, set := market(t, 3000, 0.06)
	ctx := context.Background()
	key, _ := mask.ParseKey(testKey)
	mk, err := mask.New(set.Rules(pipeline.DefaultRules), key, set.Resolver())
	if err != nil {
		t.Fatal(err)
	}
	want := map[truthKey]bool{}
	kinds := map[string]int{}
	err = st.List(ctx, synth.TruthPrefix+synth.CrossTruthPrefix, func(in store.Info) error {
		b, err := store.ReadAll(ctx, st, in.Key)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			var f synth.CrossFault
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				return err
			}
			m, err := mk.Value("J0003", []byte(f.MPAN), 13)
			if err != nil {
				return err
			}
			want[truthKey{f.Rule, string(m), f.MPID, f.Cut}] = true
			kinds[f.Kind]++
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{synth.CrossSupplier, synth.CrossMOp, synth.CrossMeterSerial, synth.CrossEnergisation, synth.CrossMTDMissing,
		synth.CrossOrphan, synth.CrossLinked, synth.CrossCustomerMissing} {
		if kinds[k] == 0 {
			t.Errorf("the market has no %s cross fault: the test would not see its rule", k)
		}
	}
	res := reconcile(t, st, set, builtIn(t))
	got := map[truthKey]bool{}
	for _, f := range res.Findings {
		k := truthKey{f.Rule, f.MPAN, f.MPID, f.Cut}
		if f.Kind == KindCustomerMissing {
			k.cut = synth.CutEES // it points at the EES row
		}
		if got[k] {
			t.Errorf("found twice: %+v", f)
		}
		got[k] = true
		if !want[k] {
			t.Errorf("finding not injected: %+v", f)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("injected, not found: %+v", k)
		}
	}
	if len(want) < 100 {
		t.Fatalf("only %d cross faults injected", len(want))
	}
	checkFindings(t, res)
	m1 := checkWrite(t, st, dir, res)
	// The same cut versions and rules: the same run id and bytes.
	again := reconcile(t, st, set, builtIn(t))
	if again.ID != res.ID {
		t.Fatalf("run id %s then %s", res.ID, again.ID)
	}
	before := readRun(t, dir, res.ID)
	m2, err := Write(ctx, st, again, "datacut test")
	if err != nil {
		t.Fatal(err)
	}
	if after := readRun(t, dir, res.ID); !mapsEqual(before, after) {
		t.Fatal("the same inputs wrote different bytes")
	}
	if m1.Totals.Findings != m2.Totals.Findings {
		t.Fatal("totals differ")
	}
	checkWorklistsLeakNothing(t, st, dir, res)
	checkSummaryHTML(t, dir, res, m1)
}

// checkFindings: values of masked items are never shown; codes and MPIDs
// are; each finding names a participant, role, version and, but for
// missing records, a file and line.
func checkFindings(t *testing.T, res *Result) {
	t.Helper()
	for _, f := range res.Findings {
		if f.MPID == "" || f.Role == "" || f.Version == 0 || f.OtherMPID == "" && f.Kind != KindCustomerMissing {
			t.Errorf("finding lacks its parties: %+v", f)
		}
		if f.Kind != KindMissing && (f.FileID == "" || f.Line <= 0) {
			t.Errorf("finding lacks its file and line: %+v", f)
		}
		switch f.Rule {
		case "meter-serial", "meter-serial-advanced":
			if f.Value != Differs || f.OtherValue != "" {
				t.Errorf("a masked meter serial shown as %q/%q", f.Value, f.OtherValue)
			}
		case "supplier", "mop":
			if len(f.Value) != 4 || len(f.OtherValue) != 4 || f.Value == f.OtherValue {
				t.Errorf("MPIDs compared should be shown: %+v", f)
			}
		case "energisation":
			if !(f.Value == "E" && f.OtherValue == "D" || f.Value == "D" && f.OtherValue == "E") {
				t.Errorf("energisation codes should be shown: %+v", f)
			}
		}
	}
}

func checkWrite(t *testing.T, st store.Store, dir string, res *Result) *Manifest {
	t.Helper()
	m, err := Write(context.Background(), st, res, "datacut test")
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, Prefix(res.ID))
	rows := readFindings(t, filepath.Join(prefix, FindingsFile))
	if rows != len(res.Findings) || m.Totals.Findings != rows {
		t.Fatalf("findings.parquet has %d rows, want %d", rows, len(res.Findings))
	}
	sum := 0
	for _, r := range m.Totals.ByRule {
		sum += r.Findings
	}
	if sum != len(res.Findings) || len(m.Totals.ByRule) != len(res.Rules.Rules) {
		t.Fatalf("totals by rule count %d in %d rules", sum, len(m.Totals.ByRule))
	}
	for _, p := range m.Totals.ByMPID {
		b, err := os.ReadFile(filepath.Join(prefix, WorklistDir, p.MPID+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil || len(recs)-1 != p.Findings {
			t.Fatalf("worklist of %s: %d rows, want %d (%v)", p.MPID, len(recs)-1, p.Findings, err)
		}
	}
	return m
}

func readFindings(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	return int(tbl.NumRows())
}

func readRun(t *testing.T, dir, id string) map[string]string {
	t.Helper()
	out := map[string]string{}
	root := filepath.Join(dir, Prefix(id))
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// maskedValues are every value of the given items in the published cuts:
// masked meter serials, names, contacts.
func maskedValues(t *testing.T, st store.Store, refs ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{} // value -> the MPID whose cut holds it
	err := st.List(ctx, cut.CutsRoot, func(in store.Info) error {
		if !strings.HasSuffix(in.Key, ".parquet") {
			return nil
		}
		r, err := cut.OpenTable(ctx, st, in.Key, memory.DefaultAllocator, pqarrow.ArrowReadProperties{})
		if err != nil {
			return err
		}
		defer r.Close()
		schema, err := r.File.Schema()
		if err != nil {
			return err
		}
		k, _ := cut.ParseCutKey(in.Key)
		tbl, err := r.File.ReadTable(ctx)
		if err != nil {
			return err
		}
		defer tbl.Release()
		for i, f := range schema.Fields() {
			ref, _ := f.Metadata.GetValue("dtc.ref")
			if !slices.Contains(refs, ref) {
				continue
			}
			for _, ch := range tbl.Column(i).Data().Chunks() {
				if s, ok := ch.(*array.String); ok {
					for j := 0; j < s.Len(); j++ {
						if v := s.Value(j); v != "" {
							out[v] = k.MPID
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A worklist never holds a masked serial, name or contact value (of
// another participant or its own): only "differs".
func checkWorklistsLeakNothing(t *testing.T, st store.Store, dir string, res *Result) {
	t.Helper()
	sensitive := maskedValues(t, st, "J0004", "J0375", "J0489", "J0490", "J2060", "J1036", "J1037", "J0263")
	if len(sensitive) < 1000 {
		t.Fatalf("found %d masked values in the published cuts: the check would see nothing", len(sensitive))
	}
	files, _ := filepath.Glob(filepath.Join(dir, Prefix(res.ID), WorklistDir, "*.csv"))
	if len(files) == 0 {
		t.Fatal("no worklists")
	}
	serials := 0
	for _, p := range files {
		b, _ := os.ReadFile(p)
		recs, _ := csv.NewReader(bytes.NewReader(b)).ReadAll()
		for _, rec := range recs[1:] {
			for i, cell := range rec {
				if i == 0 {
					continue // the masked MPAN the finding is about
				}
				if owner, ok := sensitive[cell]; ok {
					t.Errorf("%s holds %s's masked value in column %s", filepath.Base(p), owner, WorklistHeader[i])
				}
			}
			if strings.HasPrefix(rec[1], "meter-serial") {
				serials++
			}
		}
	}
	if serials == 0 {
		t.Fatal("no meter serial finding in the worklists: the check saw no compared masked item")
	}
}

func checkSummaryHTML(t *testing.T, dir string, res *Result, m *Manifest) {
	t.Helper()
	path := filepath.Join(dir, Prefix(res.ID), SummaryHTML)
	if page, _ := os.ReadFile(path); bytes.Contains(page, []byte("<script")) || bytes.Contains(page, []byte("http")) {
		t.Error("the summary needs script or outside resources")
	}
	dom := browsertest.DumpDOM(t, path)
	for _, r := range m.Totals.ByRule {
		row := fmt.Sprintf("<td>%s</td><td>%s</td>", r.Rule, r.Kind)
		if !strings.Contains(dom, row) {
			t.Errorf("the summary has no row for rule %s", r.Rule)
		}
	}
	for _, p := range m.Totals.ByMPID {
		if !strings.Contains(dom, `<a href="worklists/`+p.MPID+`.csv">`) {
			t.Errorf("the summary does not link %s's worklist", p.MPID)
		}
	}
	if !strings.Contains(dom, fmt.Sprintf("%d findings: %d errors", m.Totals.Findings, m.Totals.Errors)) {
		t.Error("the summary does not state the totals")
	}
}
