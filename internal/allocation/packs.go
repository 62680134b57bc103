package allocation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/compute"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"golang.org/x/sync/errgroup"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// PackInfo describes one participant's load pack.
type PackInfo struct {
	Env    string           `json:"environment"`
	Role   string           `json:"role"`
	MPID   string           `json:"mpid"`
	Prefix string           `json:"prefix"`
	MPANs  int              `json:"mpans"`
	Rows   map[string]int64 `json:"rowsByTable"`
	DFlows []string         `json:"dflows"`
	// Added and Removed count the MPANs its delta.json lists (none
	// without a run before).
	Added   int `json:"addedSincePreviousRun"`
	Removed int `json:"removedSincePreviousRun"`
}

// pack collects one participant's rows, table by table.
type pack struct {
	info   PackInfo
	tables map[string][]arrow.Record // cut/table → records
	srcs   map[string][]int          // cut/table → the source (index) of each of its records
	// parents: cut → "file/line" of the records its rows hang under, so
	// the context records (a D0204 instruction, say) above them come too.
	// Filled per source (see writePacks).
	parents map[string]map[string]bool
	given   []int      // the run's rows given to the participant, in order
	files   []PackFile // stored so far, for pack.json
}

// rewriteRoles are the data items that name an appointee, by role: a
// re-appointed MPAN's real appointee is replaced by its stand-in wherever
// it appears, so every participant's pack tells the same story.
var rewriteRoles = map[string]string{"J0084": "supplier", "J0178": "mop", "J0205": "dc", "J0183": "da",
	"EES.data-service-mpid": "dc", "EES.metering-service-mpid": "mop"}

// rewriteDIPs are the data items holding a role's DIP participant id (EES
// columns): a re-appointed MPAN's is blanked (null), since the stand-in's
// DIP id is not known (the programme register holds none), and a real
// appointee's id must not stay beside the stand-in's MPID.
var rewriteDIPs = map[string]string{"EES.supplier-dip": "supplier", "EES.data-service-dip": "dc", "EES.metering-service-dip": "mop"}

// writePacks builds every participant's load pack: the rows of the cuts the
// plan says its role loads, for the MPANs it loads in the environment, as
// Parquet tables and as D-flow files re-headed as test data from the SI.
// Each source table is read once, row group by row group, whatever the
// number of packs; a pack holds only its own rows.
func writePacks(ctx context.Context, st store.Store, prefix, runID, previous, spool string, res *solver.Result, rows []Row, sources []universe.Source, ees map[string]*eesLayout, mem memory.Allocator) ([]PackInfo, error) {
	p := res.Plan
	pr := newPackRun(st, p, runID, previous, sources, rows, ees)
	var packs []*pack
	index := map[string]int{} // env/role/mpid → pack
	for _, e := range p.Environments {
		for _, role := range plan.Roles {
			if len(p.Packs[role]) == 0 {
				continue
			}
			for _, m := range e.Participants[role] {
				index[e.Name+"/"+role+"/"+m] = len(packs)
				packs = append(packs, &pack{info: PackInfo{Env: e.Name, Role: role, MPID: m,
					Prefix: cut.PackPrefix(prefix, e.Name, role, m), Rows: map[string]int64{}},
					tables: map[string][]arrow.Record{}, srcs: map[string][]int{}, parents: map[string]map[string]bool{}})
			}
		}
	}
	defer func() {
		for _, pk := range packs {
			for _, recs := range pk.tables {
				for _, r := range recs {
					r.Release()
				}
			}
		}
	}()
	// Which packs take each MPAN, per cut type.
	byCore := map[string]*Row{}
	takers := map[string]map[string][]int{} // cut → core → packs
	for i := range rows {
		r := &rows[i]
		byCore[r.MPAN] = r
		for _, role := range plan.Roles {
			pi, ok := index[r.Env+"/"+role+"/"+r.Appointed[role]]
			if !ok {
				continue
			}
			packs[pi].info.MPANs++
			packs[pi].given = append(packs[pi].given, i)
			for _, cut := range p.Packs[role] {
				if takers[cut] == nil {
					takers[cut] = map[string][]int{}
				}
				takers[cut][r.MPAN] = append(takers[cut][r.MPAN], pi)
			}
		}
	}
	// Sources are read in parallel, each into packs of its own (a source
	// file id is only unique within its sender, so parent lines are kept
	// per source), then merged in source order: the packs do not depend on
	// scheduling.
	perSource := make([][]*pack, len(sources))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, s := range sources {
		t := takers[s.Cut]
		if len(t) == 0 {
			continue
		}
		own := make([]*pack, len(packs))
		for pi, pk := range packs {
			own[pi] = &pack{info: pk.info, tables: map[string][]arrow.Record{}, parents: map[string]map[string]bool{}}
		}
		perSource[i] = own
		g.Go(func() error {
			if err := collect(gctx, st, s, t, byCore, own, mem, p); err != nil {
				return err
			}
			for _, pk := range own {
				if err := pk.coalesce(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	err := g.Wait()
	for si, own := range perSource {
		for pi, pk := range own {
			for name, recs := range pk.tables {
				packs[pi].tables[name] = append(packs[pi].tables[name], recs...)
				for range recs {
					packs[pi].srcs[name] = append(packs[pi].srcs[name], si)
				}
			}
		}
	}
	if err != nil {
		return nil, err
	}
	// Packs are independent: write them on every core, each in a spool
	// directory of its own.
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, pk := range packs {
		g.Go(func() error {
			dir, err := os.MkdirTemp(spool, "pack-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			return pk.write(gctx, pr, dir)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]PackInfo, len(packs))
	for i, pk := range packs {
		out[i] = pk.info
	}
	return out, nil
}

// coalesce joins each table's records into one: a pack gathers a few rows
// from each of many row groups, and one record per table keeps the
// collector's work and the Parquet row groups in proportion to the rows.
func (pk *pack) coalesce() error {
	for name, recs := range pk.tables {
		if len(recs) < 2 {
			continue
		}
		cols := make([]arrow.Array, recs[0].NumCols())
		var rows int64
		for _, r := range recs {
			rows += r.NumRows()
		}
		for j := range cols {
			parts := make([]arrow.Array, len(recs))
			for i, r := range recs {
				parts[i] = r.Column(j)
			}
			c, err := array.Concatenate(parts, memory.DefaultAllocator)
			if err != nil {
				return fmt.Errorf("pack table %s: %w", name, err)
			}
			cols[j] = c
		}
		joined := array.NewRecord(recs[0].Schema(), cols, rows)
		for _, c := range cols {
			c.Release()
		}
		for _, r := range recs {
			r.Release()
		}
		pk.tables[name] = []arrow.Record{joined}
	}
	return nil
}

// collect routes the rows of one source cut to the packs that take them.
// Context records (a D0204 file sequence, say) go to every pack that took
// a row of the same source file.
func collect(ctx context.Context, st store.Store, s universe.Source, takers map[string][]int, byCore map[string]*Row, packs []*pack, mem memory.Allocator, p *plan.Plan) error {
	tables := append([]string(nil), tableNames(s)...)
	var contexts []string
	levels := map[string]int{}
	for pass := 0; pass < 2; pass++ {
		names := tables
		if pass == 1 {
			// Deeper contexts first: each kept one adds its own parent.
			sort.SliceStable(contexts, func(i, j int) bool { return levels[contexts[i]] > levels[contexts[j]] })
			names = contexts
		}
		for _, name := range names {
			r, err := cut.OpenTable(ctx, st, s.TableKey(name), mem, pqarrow.ArrowReadProperties{BatchSize: 64 * 1024})
			if err != nil {
				return err
			}
			schema, err := r.File.Schema()
			if err != nil {
				r.Close()
				return err
			}
			if pass == 0 && contextLevel(schema) > 0 {
				contexts = append(contexts, name)
				levels[name] = contextLevel(schema)
				r.Close()
				continue
			}
			err = routeTable(ctx, r, schema, s, name, pass == 1, takers, byCore, packs, receivers(p, s.Cut, schema, packs))
			r.Close()
			if err != nil {
				return fmt.Errorf("load packs from %s: %w", s.TableKey(name), err)
			}
		}
	}
	return nil
}

func tableNames(s universe.Source) []string {
	var n []string
	for _, t := range s.Manifest.Tables {
		n = append(n, t.Name)
	}
	return n
}

// contextLevel is the group level of a context table, 0 for others.
func contextLevel(schema *arrow.Schema) int {
	if g := dflow.DefaultCatalog().TableGroup(schema); g != nil && g.Context() {
		return g.Level
	}
	return 0
}

func routeTable(ctx context.Context, r *cut.Reader, schema *arrow.Schema, s universe.Source, name string, context bool, takers map[string][]int, byCore map[string]*Row, packs []*pack, recv []bool) error {
	cols, err := r.Columns(dflow.ColSourceFileID, dflow.ColInstanceMPAN, dflow.ColRecordLine, dflow.ColParentLine)
	if err != nil {
		return err
	}
	masks := map[int][]bool{}
	for rg := 0; rg < r.PF.NumRowGroups(); rg++ {
		keys, err := r.File.ReadRowGroups(ctx, cols, []int{rg})
		if err != nil {
			return err
		}
		n := int(keys.NumRows())
		clear(masks)
		row := 0
		for c, ch := range keys.Column(1).Data().Chunks() {
			files := keys.Column(0).Data().Chunk(c).(*array.String)
			lines := keys.Column(2).Data().Chunk(c).(*array.Int64)
			parentLines := keys.Column(3).Data().Chunk(c).(*array.Int64)
			mp := ch.(*array.String)
			for i := 0; i < mp.Len(); i, row = i+1, row+1 {
				var to []int
				if context {
					at := files.Value(i) + "/" + strconv.FormatInt(lines.Value(i), 10)
					for pi, pk := range packs {
						if pk.parents[s.Cut][at] {
							to = append(to, pi)
						}
					}
				} else if !mp.IsNull(i) {
					to = takers[mp.Value(i)]
				}
				for _, pi := range to {
					if !recv[pi] {
						continue // the flow is not routed to the pack's role
					}
					if masks[pi] == nil {
						masks[pi] = make([]bool, n)
					}
					masks[pi][row] = true
					if !parentLines.IsNull(i) {
						if packs[pi].parents[s.Cut] == nil {
							packs[pi].parents[s.Cut] = map[string]bool{}
						}
						packs[pi].parents[s.Cut][files.Value(i)+"/"+strconv.FormatInt(parentLines.Value(i), 10)] = true
					}
				}
			}
		}
		keys.Release()
		if len(masks) == 0 {
			continue
		}
		all := make([]int, r.PF.MetaData().Schema.NumColumns())
		for i := range all {
			all[i] = i
		}
		full, err := r.File.ReadRowGroups(ctx, all, []int{rg})
		if err != nil {
			return err
		}
		rec := tableRecord(full, schema)
		full.Release()
		for pi, m := range masks {
			bb := array.NewBooleanBuilder(memory.DefaultAllocator)
			bb.AppendValues(m, nil)
			filter := bb.NewArray()
			bb.Release()
			kept, err := compute.FilterRecordBatch(ctx, rec, filter, compute.DefaultFilterOptions())
			filter.Release()
			if err != nil {
				rec.Release()
				return err
			}
			kept = rewrite(kept, packs[pi].info.Env, byCore)
			packs[pi].tables[s.Cut+"/"+name] = append(packs[pi].tables[s.Cut+"/"+name], kept)
		}
		rec.Release()
	}
	return nil
}

// receivers says, per pack, whether its role receives the table's flow
// (plan.Receives: routed to or from the role in the catalogue); a table of
// no D-flow (EES) goes to every pack that takes its cut.
func receivers(p *plan.Plan, cutType string, schema *arrow.Schema, packs []*pack) []bool {
	flow := ""
	if g := dflow.DefaultCatalog().TableGroup(schema); g != nil {
		flow = g.Flow.ID
	}
	out := make([]bool, len(packs))
	for pi, pk := range packs {
		out[pi] = p.Receives(pk.info.Role, plan.DataSet{Cut: cutType, Flow: flow})
	}
	return out
}

// tableRecord turns a one-row-group table into one record of the file's
// schema (with its metadata: flow, version, group, J-refs).
func tableRecord(t arrow.Table, schema *arrow.Schema) arrow.Record {
	cols := make([]arrow.Array, t.NumCols())
	for i := range cols {
		ch := t.Column(i).Data().Chunks()
		if len(ch) == 1 {
			cols[i] = ch[0]
			ch[0].Retain()
			continue
		}
		cols[i], _ = array.Concatenate(ch, memory.DefaultAllocator)
	}
	rec := array.NewRecord(schema, cols, t.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// rewrite replaces re-appointed MPANs' real appointees by their stand-ins.
func rewrite(rec arrow.Record, env string, byCore map[string]*Row) arrow.Record {
	mpans, ok := rec.Column(4).(*array.String)
	if !ok || rec.Schema().Field(4).Name != dflow.ColInstanceMPAN {
		return rec
	}
	cols := append([]arrow.Array(nil), rec.Columns()...) // the record's own slice must not change
	changed := false
	for c, f := range rec.Schema().Fields() {
		ref, _ := f.Metadata.GetValue(dflow.MetaRef)
		role, dip := rewriteRoles[ref], false
		if role == "" {
			role, dip = rewriteDIPs[ref], true
		}
		vals, isStr := cols[c].(*array.String)
		if role == "" || !isStr {
			continue
		}
		b := array.NewStringBuilder(memory.DefaultAllocator)
		for i := 0; i < vals.Len(); i++ {
			if vals.IsNull(i) {
				b.AppendNull()
				continue
			}
			v := vals.Value(i)
			if r := byCore[mpans.Value(i)]; dip && r != nil && !mpans.IsNull(i) && r.Env == env && r.Real[role] != r.Appointed[role] {
				b.AppendNull()
				changed = true
				continue
			}
			if r := byCore[mpans.Value(i)]; !dip && r != nil && !mpans.IsNull(i) && r.Env == env && r.Real[role] == v && r.Appointed[role] != v {
				v = r.Appointed[role]
				changed = true
			}
			b.Append(v)
		}
		cols[c] = b.NewArray()
		b.Release()
		defer cols[c].Release()
	}
	if !changed {
		return rec
	}
	out := array.NewRecord(rec.Schema(), cols, rec.NumRows())
	rec.Release()
	return out
}

// write stores the pack: mpans.csv, a Parquet file per table (and an EES
// CSV beside the EES table), a D-flow file per flow and source file, then
// pack.json, last.
func (pk *pack) write(ctx context.Context, pr *packRun, spool string) error {
	if err := pk.writeMPANs(ctx, pr, spool); err != nil {
		return fmt.Errorf("pack %s: %w", pk.info.Prefix, err)
	}
	if err := pk.writeDelta(ctx, pr, spool); err != nil {
		return fmt.Errorf("pack %s: %w", pk.info.Prefix, err)
	}
	names := make([]string, 0, len(pk.tables))
	for n := range pk.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	type flowRows struct {
		recs map[string][]arrow.Record // group code → records
		srcs map[string][]int          // group code → each record's source
	}
	flows := map[*dflow.Flow]*flowRows{}
	for _, n := range names {
		recs := pk.tables[n]
		cutType, table, _ := strings.Cut(n, "/")
		path := filepath.Join(spool, "pack.parquet")
		if err := writeParquet(path, recs...); err != nil {
			return err
		}
		var rows int64
		for _, r := range recs {
			rows += r.NumRows()
		}
		pk.info.Rows[n] += rows
		g := dflow.DefaultCatalog().TableGroup(recs[0].Schema())
		f := PackFile{Name: n + ".parquet", Format: FormatParquet, Cut: cutType, Table: table, Rows: rows, srcs: map[int]bool{}}
		for _, s := range pk.srcs[n] {
			f.srcs[s] = true
		}
		if g != nil {
			f.Flow = g.Flow.ID
		} else if flow, _ := recs[0].Schema().Metadata().GetValue(dflow.MetaFlow); flow != "" {
			f.Flow = flow
		}
		pr.rankFile(&f, g)
		if err := pk.put(ctx, pr, path, f); err != nil {
			return err
		}
		if g == nil {
			if err := pk.writeEES(ctx, pr, spool, f, recs); err != nil {
				return fmt.Errorf("pack %s: %w", pk.info.Prefix, err)
			}
			continue // EES is no D-flow
		}
		fr := flows[g.Flow]
		if fr == nil {
			fr = &flowRows{recs: map[string][]arrow.Record{}, srcs: map[string][]int{}}
			flows[g.Flow] = fr
		}
		fr.recs[g.Code] = append(fr.recs[g.Code], recs...)
		fr.srcs[g.Code] = append(fr.srcs[g.Code], pk.srcs[n]...)
	}
	keys := make([]*dflow.Flow, 0, len(flows))
	for f := range flows {
		keys = append(keys, f)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Key() < keys[j].Key() })
	for _, f := range keys {
		if err := pk.renderFlow(ctx, pr, spool, f, flows[f].recs, flows[f].srcs); err != nil {
			return fmt.Errorf("pack %s: %w", pk.info.Prefix, err)
		}
	}
	return pk.writeManifest(ctx, pr)
}

// renderFlow writes one D-flow file per source file of the flow, rows in
// their original order, with a test header from the SI. srcs gives each
// record's source.
func (pk *pack) renderFlow(ctx context.Context, pr *packRun, spool string, f *dflow.Flow, groups map[string][]arrow.Record, srcs map[string][]int) error {
	p := pr.plan
	key := f.ID + "/" + f.Version                    // names the pack's files
	byFile := map[string]map[string][]arrow.Record{} // source file → group code → rows
	fileSrcs := map[string]map[int]bool{}            // source file → sources
	cutOf := map[string]string{}                     // source file → cut type
	for code, recs := range groups {
		for k, r := range recs {
			for fid, sub := range fileRuns(r) {
				if byFile[fid] == nil {
					byFile[fid] = map[string][]arrow.Record{}
					fileSrcs[fid] = map[int]bool{}
				}
				byFile[fid][code] = append(byFile[fid][code], sub...)
				fileSrcs[fid][srcs[code][k]] = true
				cutOf[fid] = pr.sources[srcs[code][k]].Cut
			}
		}
	}
	defer func() {
		for _, byGroup := range byFile {
			for _, recs := range byGroup {
				for _, r := range recs {
					r.Release()
				}
			}
		}
	}()
	order := make([]string, 0, len(byFile))
	for fid := range byFile {
		order = append(order, fid)
	}
	sort.Strings(order)
	for _, fid := range order {
		byGroup := byFile[fid]
		sum := sha256.Sum256([]byte(pk.info.Prefix + key + fid))
		h := dflow.Header{FileID: "T" + hex.EncodeToString(sum[:])[:9], Flow: f.ID, Version: f.Version, FromRole: "Z", FromMPID: p.SI,
			ToRole: plan.RoleCodes[pk.info.Role], ToMPID: pk.info.MPID, Created: packCreated, TestFlag: p.TestFlag}
		path := filepath.Join(spool, "pack.dat")
		if err := renderFile(path, h, f, byGroup); err != nil {
			return err
		}
		var rows int64
		for _, recs := range byGroup {
			for _, r := range recs {
				rows += r.NumRows()
			}
		}
		name := "dflow/" + f.ID + "_" + fid + ".dat"
		pf := PackFile{Name: name, Format: FormatDFlow, Cut: cutOf[fid], Flow: f.ID, Rows: rows, srcs: fileSrcs[fid]}
		pr.rankFile(&pf, nil)
		if err := pk.put(ctx, pr, path, pf); err != nil {
			return err
		}
		pk.info.DFlows = append(pk.info.DFlows, name)
	}
	return nil
}

// packCreated is the creation time in every pack header: fixed, so the
// same allocation renders the same bytes.
const packCreated = "20260101000000"

func renderFile(path string, h dflow.Header, f *dflow.Flow, groups map[string][]arrow.Record) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := dflow.NewWriter(out, h, dflow.WriterOptions{})
	if err == nil {
		err = dflow.RenderTables(w, f, groups)
	}
	if err == nil {
		err = w.Close("", packCreated)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// fileRuns slices a record into its runs of rows from one source file
// (column 0), in row order; the caller releases the slices.
func fileRuns(r arrow.Record) map[string][]arrow.Record {
	ids := r.Column(0).(*array.String)
	out := map[string][]arrow.Record{}
	for lo := 0; lo < ids.Len(); {
		hi := lo + 1
		for hi < ids.Len() && ids.Value(hi) == ids.Value(lo) {
			hi++
		}
		fid := ids.Value(lo)
		out[fid] = append(out[fid], r.NewSlice(int64(lo), int64(hi)))
		lo = hi
	}
	return out
}
