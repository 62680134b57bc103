package allocation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// Files every pack holds beside its data.
const (
	// PackManifestFile lists the pack's files: written last, so a pack
	// folder with it is complete.
	PackManifestFile = "pack.json"
	// PackMPANsFile lists the MPANs given to the participant.
	PackMPANsFile = "mpans.csv"
	// PackDeltaFile says what changed since the plan's run before: the
	// MPANs added and removed (in packs of a run that had one).
	PackDeltaFile = "delta.json"
	// DeltaFolder holds a pack's add-pack: its files for the MPANs added
	// since the run before.
	DeltaFolder = "delta/"
	// PackSchema names and versions pack.json's layout.
	PackSchema = "datacut.pack/v1"
)

// Formats of a pack's files.
const (
	FormatParquet = "parquet"
	FormatDFlow   = "dflow"
	FormatEESCSV  = "ees-csv"
	FormatCSV     = "csv"
	FormatJSON    = "json"
)

// PackManifest is a pack's pack.json: what a test lead checks a delivery
// against.
type PackManifest struct {
	Schema string `json:"schema"`
	Plan   string `json:"plan"`
	RunID  string `json:"runId"`
	Env    string `json:"environment"`
	Role   string `json:"role"`
	MPID   string `json:"mpid"`
	MPANs  int    `json:"mpans"` // rows of mpans.csv
	// LoadOrder names the data files in the order the participant loads
	// them (see loadRank); mpans.csv is a check list, not loaded.
	LoadOrder []string `json:"loadOrder"`
	// DeltaLoadOrder names the add-pack's files (delta/), in load order:
	// what a participant that loaded the run before loads instead, with
	// delta.json's removed MPANs taken out.
	DeltaLoadOrder []string `json:"deltaLoadOrder,omitempty"`
	// Files lists every file of the pack but pack.json, in load order,
	// mpans.csv first.
	Files []PackFile `json:"files"`
	// Sources are the cut versions the pack's rows came from.
	Sources []SourceRef `json:"sources"`
}

// PackFile is one file of a pack.
type PackFile struct {
	Name   string `json:"name"`   // relative to the pack folder, '/'-separated
	Format string `json:"format"` // parquet, dflow, ees-csv, csv
	Cut    string `json:"cut,omitempty"`
	Flow   string `json:"flow,omitempty"`  // the D-flow (D0150), or EES
	Table  string `json:"table,omitempty"` // a Parquet file's table: the flow's group, or ees_portfolio
	Rows   int64  `json:"rows"`            // data rows: table rows, D-flow records (ZHV/ZPT not counted), CSV lines after the header
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	// Sources are the cut versions its rows came from (indices into the
	// run's sources while the pack is built).
	Sources []SourceRef `json:"sources,omitempty"`
	Step    int         `json:"loadStep,omitempty"` // 1-based: the file's cut's place in the load order
	Delta   bool        `json:"delta,omitempty"`    // part of the add-pack (delta/)

	srcs map[int]bool
	rank [4]int
}

// packRun is what every pack of a run shares.
type packRun struct {
	st       store.Store
	plan     *plan.Plan
	runID    string
	previous string // the plan's run before this one, "" for none
	sources  []universe.Source
	rows     []Row
	partners map[string][]string // unit → its MPANs, for linked units
	cutRank  map[string]int      // cut type → its step in the load order
	flowRank map[string]int      // cut/flow → its place in its cut's input.flows
	ees      map[string]*eesLayout
}

// loadRank orders a pack's cuts as a participant loads them: a cut that
// registers MPANs (links: registration, D0204 related MPANs) first, then
// the one giving their attributes (the EES portfolio), then meter
// technical details (mtd), then customer data (customer), then cuts the
// universe does not read; ties in the plan's sources order. Within a cut,
// flows load in the order its input.flows lists them (registration:
// D0204, D0171, D0217, D0260; mop-mtd: D0150, D0268, D0149, D0313);
// within a flow the D-flow files (or the EES CSV) come before the Parquet
// tables, which are one format of the same rows: a participant loads one
// or the other. Parquet tables of a flow are in catalogue group order
// (parents before children).
var loadRank = map[string]int{"links": 0, "attributes": 1, "mtd": 2, "customer": 3, "": 4}

func newPackRun(st store.Store, p *plan.Plan, runID, previous string, sources []universe.Source, rows []Row, ees map[string]*eesLayout) *packRun {
	pr := &packRun{st: st, plan: p, runID: runID, previous: previous, sources: sources, rows: rows, partners: map[string][]string{},
		cutRank: map[string]int{}, flowRank: map[string]int{}, ees: ees}
	for i := range rows {
		if rows[i].Linked {
			pr.partners[rows[i].Unit] = append(pr.partners[rows[i].Unit], rows[i].MPAN)
		}
	}
	types := append([]*cut.Type(nil), p.Sources.Types...)
	sort.SliceStable(types, func(i, j int) bool { return loadRank[types[i].Universe] < loadRank[types[j].Universe] })
	for i, t := range types {
		pr.cutRank[t.Name] = i + 1
		for j, f := range t.Input.Flows {
			pr.flowRank[t.Name+"/"+f] = j
		}
	}
	return pr
}

// rankFile sets a file's place in the load order.
func (pr *packRun) rankFile(f *PackFile, g *dflow.Group) {
	f.Step = pr.cutRank[f.Cut]
	flow, ok := pr.flowRank[f.Cut+"/"+f.Flow]
	if !ok {
		flow = len(pr.flowRank)
	}
	group, format := 0, 0
	if f.Format == FormatParquet {
		format = 1
	}
	if g != nil {
		for i, gg := range g.Flow.Groups {
			if gg == g {
				group = i
			}
		}
	}
	f.rank = [4]int{f.Step, flow, format, group}
}

// put stores a spooled file of the pack, recording it (with its size and
// SHA-256) for pack.json.
func (pk *pack) put(ctx context.Context, pr *packRun, path string, f PackFile) error {
	sum, n, err := hashFile(path)
	if err != nil {
		return err
	}
	f.SHA256, f.Bytes = sum, n
	if err := store.PutFile(ctx, pr.st, pk.info.Prefix+f.Name, path); err != nil {
		return err
	}
	pk.files = append(pk.files, f)
	return nil
}

func hashFile(path string) (string, int64, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeMPANs writes mpans.csv: one row per MPAN given to the participant,
// in allocation order (demand by demand, units by rank): the masked MPAN
// core as in the pack's data, its unit, the other MPANs of a linked unit
// (';'-separated), the demand, and whether the participant stands in for
// the MPAN's real appointee (re-appointment).
func (pk *pack) writeMPANs(ctx context.Context, pr *packRun, spool string) error {
	path := filepath.Join(spool, PackMPANsFile)
	err := writeCSV(path, func(w *csv.Writer) {
		_ = w.Write([]string{"mpan_core", "unit_id", "linked_mpan", "demand", "reappointed", "synthetic"})
		for _, i := range pk.given {
			r := &pr.rows[i]
			var partners []string
			for _, m := range pr.partners[r.Unit] {
				if m != r.MPAN {
					partners = append(partners, m)
				}
			}
			_ = w.Write([]string{r.MPAN, r.Unit, strings.Join(partners, ";"), r.Demand,
				strconv.FormatBool(r.Appointee(pk.info.Role) != r.RealAppointee(pk.info.Role)), strconv.FormatBool(r.Synthetic)})
		}
	})
	if err != nil {
		return err
	}
	return pk.put(ctx, pr, path, PackFile{Name: PackMPANsFile, Format: FormatCSV, Rows: int64(len(pk.given))})
}

// writeCSV writes a spool file through a CSV writer: the first error of
// creating, writing, flushing or closing it.
func writeCSV(path string, fill func(w *csv.Writer)) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(fh)
	fill(w)
	w.Flush()
	err = w.Error()
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeManifest writes pack.json, once every other file of the pack is
// stored.
func (pk *pack) writeManifest(ctx context.Context, pr *packRun) error {
	sort.SliceStable(pk.files, func(i, j int) bool {
		a, b := pk.files[i], pk.files[j]
		if a.rank != b.rank {
			for k := range a.rank {
				if a.rank[k] != b.rank[k] {
					return a.rank[k] < b.rank[k]
				}
			}
		}
		return a.Name < b.Name
	})
	m := PackManifest{Schema: PackSchema, Plan: pr.plan.Name, RunID: pr.runID, Env: pk.info.Env, Role: pk.info.Role, MPID: pk.info.MPID,
		MPANs: len(pk.given), LoadOrder: []string{}, Files: pk.files, Sources: []SourceRef{}}
	all := map[int]bool{}
	for i := range m.Files {
		f := &m.Files[i]
		switch {
		case f.Format == FormatCSV || f.Format == FormatJSON: // check lists, not loaded
		case f.Delta:
			m.DeltaLoadOrder = append(m.DeltaLoadOrder, f.Name)
		default:
			m.LoadOrder = append(m.LoadOrder, f.Name)
		}
		for _, s := range sortedInts(f.srcs) {
			f.Sources = append(f.Sources, sourceRef(pr.sources[s]))
			all[s] = true
		}
	}
	for _, s := range sortedInts(all) {
		m.Sources = append(m.Sources, sourceRef(pr.sources[s]))
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return pr.st.Put(ctx, pk.info.Prefix+PackManifestFile, bytes.NewReader(b), int64(len(b)))
}

func sourceRef(s universe.Source) SourceRef {
	return SourceRef{SourceRef: cut.SourceRef{Cut: s.Cut, MPID: s.MPID, CutID: s.CutID, Version: s.Version}, AsAt: s.AsAt, Pinned: s.Pinned,
		Synthetic: isTopUpSource(s)}
}

func sortedInts(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// DeltaSchema names and versions delta.json's layout.
const DeltaSchema = "datacut.delta/v1"

// PackDelta is a pack's delta.json: what the participant changes in its
// test systems since the plan's run before (its pack's mpans.csv then):
// the MPANs to add and to remove, and those kept whose rows changed (to
// take out and load again), masked as in the packs.
type PackDelta struct {
	Schema      string   `json:"schema"`
	PreviousRun string   `json:"previousRun"`
	Added       []string `json:"added"`
	Removed     []string `json:"removed"`
	// Changed are MPANs kept (counted in Kept) whose rows in the pack
	// differ from the run before's: a participant sent a corrected cut, or
	// a stand-in changed. Their new rows are in the add-pack.
	Changed []string `json:"changed"`
	Kept    int      `json:"kept"`
}

// writeDelta writes delta.json against the same participant's pack of the
// run before, if the plan had one (a pack it did not have: every MPAN is
// added), and returns the MPANs whose rows go in the add-pack: those
// added, and those kept whose rows' digest (dig) differs from the one the
// run before recorded.
func (pk *pack) writeDelta(ctx context.Context, pr *packRun, spool string, dig *rowDigests) ([]string, error) {
	if pr.previous == "" {
		return nil, nil
	}
	before := map[string]bool{}
	old := cut.PackPrefix(cut.RunPrefix(pr.plan.Name, pr.previous), pk.info.Env, pk.info.Role, pk.info.MPID) + PackMPANsFile
	b, err := store.ReadAll(ctx, pr.st, old)
	switch {
	case err == nil:
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", old, err)
		}
		for _, r := range recs[min(1, len(recs)):] { // after the header
			before[r[0]] = true
		}
	case !store.IsNotFound(err):
		return nil, err
	}
	digests, err := pk.readDigests(ctx, pr)
	if err != nil {
		return nil, err
	}
	d := PackDelta{Schema: DeltaSchema, PreviousRun: pr.previous, Added: []string{}, Removed: []string{}, Changed: []string{}}
	now := map[string]bool{}
	for _, i := range pk.given {
		m := pr.rows[i].MPAN
		now[m] = true
		if !before[m] {
			d.Added = append(d.Added, m)
			continue
		}
		d.Kept++
		if was, ok := digests[m]; ok && was != digestText(dig.of(m)) {
			d.Changed = append(d.Changed, m)
		}
	}
	for m := range before {
		if !now[m] {
			d.Removed = append(d.Removed, m)
		}
	}
	sort.Strings(d.Added)
	sort.Strings(d.Removed)
	sort.Strings(d.Changed)
	pk.info.Added, pk.info.Removed, pk.info.Changed = len(d.Added), len(d.Removed), len(d.Changed)
	js, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(spool, PackDeltaFile)
	if err := os.WriteFile(path, append(js, '\n'), 0o600); err != nil {
		return nil, err
	}
	reload := append(append([]string(nil), d.Added...), d.Changed...)
	return reload, pk.put(ctx, pr, path, PackFile{Name: PackDeltaFile, Format: FormatJSON, Rows: int64(len(d.Added) + len(d.Removed) + len(d.Changed))})
}
