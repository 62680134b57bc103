package allocation

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/pipelines"
)

// checkPackContents: every pack has pack.json (written last) listing
// exactly the files present, with their sizes, SHA-256 and rows, every
// data file once in the load order (registration before EES before MTD
// before customer data) with the cut versions the run read; mpans.csv
// lists exactly the MPANs of allocation.parquet given to the participant;
// the EES CSV reads back through the EES reader to the Parquet's rows.
func checkPackContents(t *testing.T, run, runID string, rep *Report) {
	t.Helper()
	a := readColumns(t, filepath.Join(run, "allocation.parquet"), "mpan_core", "unit_id", "environment", "demand",
		"supplier", "mop", "dc", "da", "distributor", "real_supplier", "real_mop", "real_dc", "real_da")
	roleCol := map[string]int{"supplier": 4, "mop": 5, "dc": 6, "da": 7, "distributor": 8}
	synthetic := boolColumn(t, filepath.Join(run, "allocation.parquet"), "synthetic")
	units := map[string][]string{}
	for i, core := range a[0] {
		units[a[1][i]] = append(units[a[1][i]], core)
	}
	read := map[string]SourceRef{}
	for _, s := range rep.Sources {
		read[s.Cut+"/"+s.MPID] = s
	}
	dirs, _ := filepath.Glob(filepath.Join(run, "packs", "*", "*"))
	if len(dirs) == 0 {
		t.Fatal("no packs")
	}
	eesChecked := 0
	for _, dir := range dirs {
		envName, who := filepath.Base(filepath.Dir(dir)), filepath.Base(dir)
		role, mpid, _ := strings.Cut(who, "-")
		b, err := os.ReadFile(filepath.Join(dir, PackManifestFile))
		if err != nil {
			t.Errorf("%s: %v", who, err)
			continue
		}
		var m PackManifest
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if m.Schema != PackSchema || m.Plan != rep.Plan || m.RunID != runID || m.Env != envName || m.Role != role || m.MPID != mpid {
			t.Errorf("%s/%s: pack.json says %s %s %s %s %s-%s", envName, who, m.Schema, m.Plan, m.RunID, m.Env, m.Role, m.MPID)
		}
		manifestInfo, _ := os.Stat(filepath.Join(dir, PackManifestFile))
		present := map[string]bool{}
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, path)
				if rel != PackManifestFile {
					present[filepath.ToSlash(rel)] = true
				}
				if i, _ := d.Info(); i != nil && i.ModTime().After(manifestInfo.ModTime()) {
					t.Errorf("%s: %s written after pack.json", dir, rel)
				}
			}
			return nil
		})
		listed := map[string]bool{}
		var loadable, deltaLoadable []string
		for _, f := range m.Files {
			listed[f.Name] = true
			path := filepath.Join(dir, filepath.FromSlash(f.Name))
			data, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s: listed %s: %v", dir, f.Name, err)
				continue
			}
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(data)) != f.Bytes {
				t.Errorf("%s: %s: pack.json says %d bytes, SHA-256 %s; the file has %d", dir, f.Name, f.Bytes, f.SHA256, len(data))
			}
			if rows := fileRows(t, path, f.Format, data); rows != f.Rows {
				t.Errorf("%s: %s (%s): pack.json says %d rows, the file has %d", dir, f.Name, f.Format, f.Rows, rows)
			}
			if f.Format == FormatCSV || f.Format == FormatJSON {
				continue
			}
			if f.Delta != strings.HasPrefix(f.Name, DeltaFolder) {
				t.Errorf("%s: %s: delta %v, but the add-pack is %s", dir, f.Name, f.Delta, DeltaFolder)
			}
			if f.Delta {
				deltaLoadable = append(deltaLoadable, f.Name)
			} else {
				loadable = append(loadable, f.Name)
			}
			if len(f.Sources) == 0 || f.Cut == "" || f.Flow == "" || f.Step == 0 {
				t.Errorf("%s: %s: no cut, flow, load step or sources: %+v", dir, f.Name, f)
			}
			for _, s := range f.Sources {
				if r, ok := read[s.Cut+"/"+s.MPID]; !ok || r != s || s.Cut != f.Cut || s.AsAt == "" {
					t.Errorf("%s: %s: source %+v is not a cut version the run read (%+v)", dir, f.Name, s, r)
				}
			}
		}
		if !sameKeys(present, listed) {
			t.Errorf("%s: pack.json lists %v, the folder holds %v", dir, keys(listed), keys(present))
		}
		if !slices.Equal(loadable, m.LoadOrder) || !slices.Equal(deltaLoadable, m.DeltaLoadOrder) {
			t.Errorf("%s: load order %v and %v, files in load order %v and %v", dir, m.LoadOrder, m.DeltaLoadOrder, loadable, deltaLoadable)
		}
		// The load order, of the pack and of its add-pack: registration,
		// then EES, then MTD, then customer data.
		rank := map[string]int{"registration": 1, "ees": 2, "mop-mtd": 3, "supplier-customer": 4}
		last := map[bool]int{}
		for _, f := range m.Files {
			if f.Format == FormatCSV || f.Format == FormatJSON {
				continue
			}
			if rank[f.Cut] < last[f.Delta] {
				t.Errorf("%s: %s (%s) loads after a later cut", dir, f.Name, f.Cut)
			}
			last[f.Delta] = rank[f.Cut]
		}

		// mpans.csv: the allocation's MPANs of this participant.
		want := map[string]string{}
		for i, core := range a[0] {
			central := slices.Contains(plan.CentralRoles, role) // loads every MPAN of its environment
			if a[2][i] != envName || (!central && a[roleCol[role]][i] != mpid) {
				continue
			}
			var partners []string
			for _, o := range units[a[1][i]] {
				if o != core {
					partners = append(partners, o)
				}
			}
			re := role != "distributor" && !central && a[roleCol[role]][i] != a[roleCol[role]+5][i]
			want[core] = strings.Join([]string{core, a[1][i], strings.Join(partners, ";"), a[3][i], strconv.FormatBool(re), synthetic[i]}, ",")
		}
		got := map[string]string{}
		recs := readCSV(t, filepath.Join(dir, PackMPANsFile))
		if len(recs) == 0 || strings.Join(recs[0], ",") != "mpan_core,unit_id,linked_mpan,demand,reappointed,synthetic" {
			t.Fatalf("%s: mpans.csv header %v", dir, recs)
		}
		for _, r := range recs[1:] {
			got[r[0]] = strings.Join(r, ",")
		}
		if len(got) != len(recs)-1 || len(got) != m.MPANs || !mapsEqual(got, want) {
			t.Errorf("%s: mpans.csv (%d rows) differs from the allocation's %d MPANs:\n got %v\nwant %v", dir, len(recs)-1, len(want), got, want)
		}

		if _, err := os.Stat(filepath.Join(dir, "ees", "ees_portfolio.parquet")); err == nil {
			checkEESCSV(t, filepath.Join(dir, "ees"))
			eesChecked++
		}
	}
	if eesChecked == 0 {
		t.Error("no pack carries EES rows")
	}
}

// checkEESCSV reads a pack's EES CSV with the EES reader: every row
// valid, the same values as the Parquet table, row by row.
func checkEESCSV(t *testing.T, dir string) {
	t.Helper()
	cols, err := ees.LoadColumnsFS(pipelines.FS, "ees-columns.yaml", dflow.DefaultCatalog())
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(filepath.Join(dir, "ees_portfolio.csv"))
	if err != nil {
		t.Fatalf("the EES rows as CSV: %v", err)
	}
	defer fh.Close()
	cat := dflow.DefaultCatalog()
	r := ees.NewReader(fh, "ees_portfolio.csv", cols, func(ref string) *dflow.Item {
		if it := cat.Item(ref); it != nil {
			return it
		}
		return cols.Extra[ref]
	})
	tbl := readTable(t, filepath.Join(dir, "ees_portfolio.parquet"))
	defer tbl.Release()
	hdr, err := r.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); !slices.Equal(h, cols.Order) {
		t.Errorf("EES CSV header %v, want the mapping's %v", h, cols.Order)
	}
	n := 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if row.Rejected() {
			t.Errorf("%s line %d rejected: %v", dir, row.Line, row.Findings)
		}
		for i, c := range hdr {
			idx := tbl.Schema().FieldIndices(c.Name)
			if len(idx) != 1 {
				t.Fatalf("the EES Parquet has no column %s", c.Name)
			}
			want := parquetText(tbl.Column(idx[0]), n)
			if string(row.Values[i]) != want {
				t.Errorf("%s row %d %s: CSV reads %q, Parquet holds %q", dir, n+1, c.Header, row.Values[i], want)
			}
		}
		n++
	}
	if int64(n) != tbl.NumRows() || n == 0 {
		t.Errorf("%s: the EES CSV has %d rows, the Parquet %d", dir, n, tbl.NumRows())
	}
}

// fileRows counts a pack file's data rows as pack.json should.
func fileRows(t *testing.T, path, format string, data []byte) int64 {
	switch format {
	case FormatParquet:
		tbl := readTable(t, path)
		defer tbl.Release()
		return tbl.NumRows()
	case FormatCSV, FormatEESCSV:
		return int64(len(readCSV(t, path)) - 1)
	case FormatDFlow:
		return int64(bytes.Count(data, []byte("\n")) - 2) // less ZHV and ZPT
	case FormatJSON: // delta.json: one row per MPAN it names
		var d PackDelta
		if err := json.Unmarshal(data, &d); err != nil || d.Schema != DeltaSchema {
			t.Fatalf("%s: %v (schema %q)", path, err, d.Schema)
		}
		return int64(len(d.Added) + len(d.Removed) + len(d.Changed))
	}
	t.Fatalf("%s: unknown format %q", path, format)
	return 0
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
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

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// parquetText renders row n of a column in DTC form, as the EES reader
// normalises a value.
func parquetText(col *arrow.Column, n int) string {
	for _, ch := range col.Data().Chunks() {
		if n < ch.Len() {
			return string(dflow.AppendText(nil, ch, n))
		}
		n -= ch.Len()
	}
	return "<missing>"
}

// Sources and packs start largest first, equal sizes in their order, so
// the last to start is a small one.
func TestLargestFirst(t *testing.T) {
	sizes := []int64{5, 40, 5, 0, 40, 12}
	got := largestFirst(len(sizes), func(i int) int64 { return sizes[i] })
	if want := []int{1, 4, 5, 0, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
