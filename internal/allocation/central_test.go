package allocation

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

// withEES is the sit plan with a second EES participant onboarded in
// SIT-A (the built-in plan onboards ECOE in SIT-A and SIT-MIG); withoutEES
// is the plan onboarding none.
func withEES(t *testing.T, p *plan.Plan) *plan.Plan {
	return editPlan(t, p, [2]string{"ees: [ECOE]          #", "ees: [ECOE, ECOF]    #"})
}

func withoutEES(t *testing.T, p *plan.Plan) *plan.Plan {
	return editPlan(t, p, [2]string{"      ees: [ECOE]          # the enquiry service, a central system: EES rows of every MPAN\n", ""}, [2]string{"      ees: [ECOE]\n", ""})
}

func editPlan(t *testing.T, p *plan.Plan, edits ...[2]string) *plan.Plan {
	t.Helper()
	raw := string(p.Raw)
	for _, c := range edits {
		if !strings.Contains(raw, c[0]) {
			t.Fatalf("the sit plan has no %q", c[0])
		}
		raw = strings.Replace(raw, c[0], c[1], 1)
	}
	pe, err := plan.Decode("sit.yaml", []byte(raw), p.Sources.Types)
	if err != nil {
		t.Fatal(err)
	}
	return pe
}

// An environment that onboards the EES (a central system, no appointee)
// gets, per EES participant, a pack of the EES rows of every MPAN allocated
// to the environment, and nothing else changes: the same allocation as
// without it, the same packs for the other participants.
func TestCentralRolePack(t *testing.T) {
	st, dir := publishedMarket(t)
	ctx := context.Background()
	p := builtInPlan(t, "sit")
	// The same market in a second store, for the plan without the EES.
	dir2 := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(dir2, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	st2, err := local.Open(dir2)
	if err != nil {
		t.Fatal(err)
	}
	oc, err := Run(ctx, Options{Store: st, Plan: withEES(t, p), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Run(ctx, Options{Store: st2, Plan: withoutEES(t, p), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, filepath.FromSlash(oc.Prefix))
	run2 := filepath.Join(dir2, filepath.FromSlash(plain.Prefix))

	// The solver does not see the EES: the same allocation.parquet, byte
	// for byte (no column for the EES), and the same packs for the others.
	a, _ := os.ReadFile(filepath.Join(run, "allocation.parquet"))
	b, _ := os.ReadFile(filepath.Join(run2, "allocation.parquet"))
	if len(a) == 0 || string(a) != string(b) {
		t.Fatalf("allocation.parquet differs with the EES onboarded (%d vs %d bytes)", len(a), len(b))
	}
	for _, pk := range []string{"SIT-A/supplier-BRGT/ees/ees_portfolio.parquet", "SIT-MIG/mop-MTRC/mpans.csv"} {
		x, _ := os.ReadFile(filepath.Join(run, "packs", pk))
		y, _ := os.ReadFile(filepath.Join(run2, "packs", pk))
		if len(x) == 0 || string(x) != string(y) {
			t.Errorf("%s differs with the EES onboarded", pk)
		}
	}
	cols := readColumns(t, filepath.Join(run, "allocation.parquet"), "mpan_core", "environment")
	envMPANs := map[string][]string{}
	for i, core := range cols[0] {
		envMPANs[cols[1][i]] = append(envMPANs[cols[1][i]], core)
	}

	// Each EES pack: every MPAN of its environment, and their EES rows:
	// exactly the rows the environment's supplier packs hold together
	// (every MPAN has its supplier onboarded, and a supplier pack carries
	// the EES rows of its MPANs, re-appointments rewritten alike).
	for envName, mpids := range map[string][]string{"SIT-A": {"ECOE", "ECOF"}, "SIT-MIG": {"ECOE"}} {
		want := eesRows(t, filepath.Join(run, "packs", envName, "supplier-*", "ees", "ees_portfolio.parquet"))
		for _, m := range mpids {
			pack := filepath.Join(run, "packs", envName, "ees-"+m)
			got := eesRows(t, filepath.Join(pack, "ees", "ees_portfolio.parquet"))
			if len(got) == 0 || !slices.Equal(got, want) {
				t.Errorf("%s ees-%s: %d EES rows, the supplier packs hold %d", envName, m, len(got), len(want))
			}
			cores := map[string]bool{}
			for _, r := range got {
				cores[strings.SplitN(r, "|", 2)[0]] = true
			}
			if len(cores) != len(envMPANs[envName]) {
				t.Errorf("%s ees-%s: EES rows of %d MPANs, the environment has %d", envName, m, len(cores), len(envMPANs[envName]))
			}
			var pm PackManifest
			bj, err := os.ReadFile(filepath.Join(pack, PackManifestFile))
			if err != nil || json.Unmarshal(bj, &pm) != nil || pm.Role != "ees" || pm.MPANs != len(envMPANs[envName]) {
				t.Errorf("%s ees-%s: pack.json %+v (%v)", envName, m, pm, err)
			}
			for _, f := range pm.Files {
				if f.Format == FormatDFlow || (f.Cut != "" && f.Cut != "ees") {
					t.Errorf("%s ees-%s: %s of cut %s: an EES pack holds the EES cut only", envName, m, f.Name, f.Cut)
				}
			}
		}
	}
	if _, err := os.Stat(filepath.Join(run, "packs", "SIT-MIG", "ees-ECOF")); !os.IsNotExist(err) {
		t.Error("ECOF is onboarded in SIT-A only, yet has a SIT-MIG pack")
	}
	// pack.json, mpans.csv (every MPAN of the environment, never
	// re-appointed), file hashes, the EES CSV: as for every pack.
	checkPackContents(t, run, oc.RunID, oc.Report)

	// The report counts each EES participant's MPANs: all of its environment's.
	for _, e := range oc.Report.Environments {
		n := 0
		for _, pr := range e.Participants {
			if pr.Role != "ees" {
				continue
			}
			n++
			if pr.MPANs != e.MPANs || pr.MPANs == 0 || pr.Pack == "" || pr.WithoutData != 0 {
				t.Errorf("%s: report %+v, want every one of its %d MPANs", e.Name, pr, e.MPANs)
			}
		}
		if n == 0 {
			t.Errorf("%s: the report lists no EES participant", e.Name)
		}
	}
	for _, name := range []string{"report.md", "report.html"} {
		if b, _ := os.ReadFile(filepath.Join(run, name)); !strings.Contains(string(b), "ECOF") {
			t.Errorf("%s does not name the EES participant ECOF", name)
		}
	}

	// The next run (a supplier more in SIT-A) gives SIT-A more MPANs: the
	// EES pack's delta.json adds exactly those, and its add-pack holds
	// their EES rows only.
	raw := strings.Replace(string(withEES(t, p).Raw), "supplier: [BRGT, ECHO, IRIS]", "supplier: [BRGT, ECHO, IRIS, FRNT]", 1)
	p2, err := plan.Decode("sit.yaml", []byte(raw), p.Sources.Types)
	if err != nil {
		t.Fatal(err)
	}
	next, err := Run(ctx, Options{Store: st, Plan: p2, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	run3 := filepath.Join(dir, filepath.FromSlash(next.Prefix))
	before := map[string]bool{}
	for _, m := range envMPANs["SIT-A"] {
		before[m] = true
	}
	c3 := readColumns(t, filepath.Join(run3, "allocation.parquet"), "mpan_core", "environment")
	var added []string
	for i, core := range c3[0] {
		if c3[1][i] == "SIT-A" && !before[core] {
			added = append(added, core)
		}
	}
	sort.Strings(added)
	pack := filepath.Join(run3, "packs", "SIT-A", "ees-ECOE")
	var d PackDelta
	if bj, err := os.ReadFile(filepath.Join(pack, PackDeltaFile)); err != nil || json.Unmarshal(bj, &d) != nil {
		t.Fatalf("SIT-A ees-ECOE delta.json: %v", err)
	}
	if len(added) == 0 || d.PreviousRun != oc.RunID || !slices.Equal(d.Added, added) || len(d.Removed) != 0 || d.Kept != len(before) {
		t.Errorf("SIT-A ees-ECOE delta %+v, want the %d MPANs added (%v) and %d kept", d, len(added), added, len(before))
	}
	var inDelta []string
	for _, r := range eesRows(t, filepath.Join(pack, DeltaFolder+"ees", "ees_portfolio.parquet")) {
		if core := strings.SplitN(r, "|", 2)[0]; !slices.Contains(inDelta, core) {
			inDelta = append(inDelta, core)
		}
	}
	if sort.Strings(inDelta); !slices.Equal(inDelta, added) {
		t.Errorf("SIT-A ees-ECOE add-pack holds the EES rows of %v, want %v", inDelta, added)
	}
}

// eesRows lists, sorted, the rows of the EES tables matching glob, each
// as its columns' values joined (mpan_core first).
func eesRows(t *testing.T, glob string) []string {
	t.Helper()
	files, _ := filepath.Glob(glob)
	var out []string
	for _, f := range files {
		tbl := readTable(t, f)
		var names []string
		for _, fd := range tbl.Schema().Fields() {
			names = append(names, fd.Name)
		}
		tbl.Release()
		i := slices.Index(names, "mpan_core")
		if i < 0 {
			t.Fatalf("%s: no mpan_core", f)
		}
		names[0], names[i] = names[i], names[0]
		var strCols []string
		for _, n := range names {
			if fd, ok := tbl.Schema().FieldsByName(n); ok && fd[0].Type.ID() == arrow.STRING {
				strCols = append(strCols, n)
			}
		}
		c := readColumns(t, f, strCols...)
		for r := range c[0] {
			var vals []string
			for _, col := range c {
				vals = append(vals, col[r])
			}
			out = append(out, strings.Join(vals, "|"))
		}
	}
	sort.Strings(out)
	return out
}
