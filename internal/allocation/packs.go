package allocation

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"golang.org/x/sync/errgroup"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/plan"
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
	// Added, Removed and Changed count the MPANs its delta.json lists
	// (none without a run before).
	Added   int `json:"addedSincePreviousRun"`
	Removed int `json:"removedSincePreviousRun"`
	Changed int `json:"changedSincePreviousRun"`
}

// pack is one participant's load pack being built: its rows are spooled
// table by table as the sources are read, then written out.
type pack struct {
	info  PackInfo
	index int        // its number among the run's packs
	dir   string     // its spool
	given []int      // the run's rows given to the participant, in order
	files []PackFile // stored so far, for pack.json
	// tables: cut/table → the sources holding its rows, in source order;
	// segs: cut/table → its spooled segments, in the same order.
	tables map[string][]int
	segs   map[string]*spooledTable
	spools spoolFiles // open while the pack is written
}

// addSpooled lists a source's segments of one of the pack's tables; the
// sources are added in source order.
func (pk *pack) addSpooled(src int, table string, segs []segment) {
	if len(segs) == 0 {
		return
	}
	if pk.segs == nil {
		pk.segs = map[string]*spooledTable{}
	}
	t := pk.segs[table]
	if t == nil {
		t = &spooledTable{}
		pk.segs[table] = t
	}
	pk.tables[table] = append(pk.tables[table], src)
	t.segs = append(t.segs, segs...)
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
// number of packs, and only the rows some pack takes are decoded; each
// pack's rows go to a spool file as they come, so memory stays flat
// however large the allocation.
func writePacks(ctx context.Context, st store.Store, prefix, runID, previous, spool string, p *plan.Plan, rows []Row, sources []universe.Source, ees map[string]*eesLayout, mem memory.Allocator) ([]PackInfo, error) {
	pr := newPackRun(st, p, runID, previous, sources, rows, ees)
	var packs []*pack
	index := map[string]int{} // env/role/mpid → pack
	for _, e := range p.Environments {
		for _, role := range plan.AllRoles { // central roles' packs last (central.go)
			if len(p.Packs[role]) == 0 {
				continue
			}
			for _, m := range e.Participants[role] {
				index[e.Name+"/"+role+"/"+m] = len(packs)
				packs = append(packs, &pack{index: len(packs), info: PackInfo{Env: e.Name, Role: role, MPID: m,
					Prefix: cut.PackPrefix(prefix, e.Name, role, m), Rows: map[string]int64{}},
					dir: filepath.Join(spool, fmt.Sprintf("pack-%d", len(packs))), tables: map[string][]int{}})
			}
		}
	}
	// Which packs take each MPAN, per cut type.
	ix := newTakers(rows)
	central := centralPacks(p, index)
	for i := range rows {
		r := &rows[i]
		give := func(pi int) {
			packs[pi].info.MPANs++
			packs[pi].given = append(packs[pi].given, i)
			for _, cut := range p.Packs[packs[pi].info.Role] {
				ix.add(cut, r.MPAN, pi)
			}
		}
		for _, role := range plan.Roles {
			if pi, ok := index[r.Env+"/"+role+"/"+r.Appointee(role)]; ok {
				give(pi)
			}
		}
		for _, pi := range central[r.Env] { // every MPAN of the environment
			give(pi)
		}
	}
	// Sources are read in parallel, each spooling its rows to files of its
	// own; a pack's tables then list their sources in source order, so the
	// packs do not depend on scheduling.
	spooled := make([]*sourceSpool, len(sources))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, i := range largestFirst(len(sources), func(i int) int64 { return sourceBytes(sources[i]) }) {
		s := sources[i]
		if !ix.takes(s.Cut) {
			continue
		}
		g.Go(func() error {
			sp := newSourceSpool(spool, i)
			defer sp.release()
			if err := collect(gctx, st, s, ix, packs, sp, mem, p); err != nil {
				return err
			}
			if err := sp.flush(); err != nil {
				return err
			}
			spooled[i] = sp
			return sp.close()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for si, sp := range spooled {
		if sp == nil {
			continue
		}
		for k, segs := range sp.segs {
			packs[k.pack].addSpooled(si, k.table, segs)
		}
		spooled[si] = nil // its segments are the packs' now
	}
	// Packs are independent: write them on every core, each in a spool
	// directory of its own, removed once the pack is stored.
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, i := range largestFirst(len(packs), func(i int) int64 { return packs[i].spooledBytes() }) {
		pk := packs[i]
		g.Go(func() error {
			if err := os.MkdirAll(pk.dir, 0o700); err != nil {
				return err
			}
			defer os.RemoveAll(pk.dir)
			return pk.write(gctx, pr)
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

// largestFirst orders n jobs by size, largest first (ties in order): on
// two cores, a large job started last leaves one core idle to the end.
// Each job's output is its own, so the order changes no result.
func largestFirst(n int, size func(int) int64) []int {
	order := make([]int, n)
	sizes := make([]int64, n)
	for i := range order {
		order[i], sizes[i] = i, size(i)
	}
	sort.SliceStable(order, func(a, b int) bool { return sizes[order[a]] > sizes[order[b]] })
	return order
}

// sourceBytes is the stored size of a source's tables.
func sourceBytes(s universe.Source) int64 {
	var n int64
	for _, t := range s.Manifest.Tables {
		n += t.Bytes
	}
	return n
}

// spooledBytes is the size of the pack's spooled rows.
func (pk *pack) spooledBytes() int64 {
	var n int64
	for _, t := range pk.segs {
		for _, s := range t.segs {
			n += int64(s.size)
		}
	}
	return n
}

// takers says which packs take each allocated MPAN, per cut type. A bit
// per hashed core answers "no" for most rows of a table without a map
// lookup: a pack takes a few MPANs of millions.
type takers struct {
	bits   []uint64
	byCut  map[string]map[uint64][]int
	byCore map[uint64]*Row
}

const takerBits = 24

func newTakers(rows []Row) *takers {
	t := &takers{bits: make([]uint64, 1<<takerBits/64), byCut: map[string]map[uint64][]int{}, byCore: map[uint64]*Row{}}
	for i := range rows {
		if c, ok := universe.ParseCore(rows[i].MPAN); ok {
			t.byCore[c] = &rows[i]
			h := coreHash(c)
			t.bits[h/64] |= 1 << (h % 64)
		}
	}
	return t
}

func coreHash(c uint64) uint64 { return (c * 0x9E3779B97F4A7C15) >> (64 - takerBits) }

func (t *takers) add(cutType, mpan string, pack int) {
	c, ok := universe.ParseCore(mpan)
	if !ok {
		return
	}
	if t.byCut[cutType] == nil {
		t.byCut[cutType] = map[uint64][]int{}
	}
	t.byCut[cutType][c] = append(t.byCut[cutType][c], pack)
}

func (t *takers) takes(cutType string) bool { return len(t.byCut[cutType]) > 0 }

// forCut is the takers of one cut type's rows: a table's scan looks its
// cut type up once, not once a row.
func (t *takers) forCut(cutType string) cutTakers { return cutTakers{t.bits, t.byCut[cutType]} }

type cutTakers struct {
	bits   []uint64
	byCore map[uint64][]int
}

// of lists the packs taking the core's rows.
func (t cutTakers) of(c uint64) []int {
	if c == universe.NoCore {
		return nil
	}
	if h := coreHash(c); t.bits[h/64]&(1<<(h%64)) == 0 {
		return nil
	}
	return t.byCore[c]
}

// parentKey is a record of a source: its source file and line.
type parentKey struct {
	file string
	line int64
}

// collect routes the rows of one source cut to the packs that take them.
// Context records (a D0204 file sequence, say) go to every pack that took
// a row under them.
func collect(ctx context.Context, st store.Store, s universe.Source, ix *takers, packs []*pack, sp *sourceSpool, mem memory.Allocator, p *plan.Plan) error {
	tables := append([]string(nil), tableNames(s)...)
	var contexts []string
	levels := map[string]int{}
	parents := map[parentKey][]int{} // context records → the packs under them
	// Context tables are met in the first pass and read in the second: kept
	// open between them, so a store's object is fetched once, but without
	// their footers, megabytes each at 3·10^7 (read again when their turn
	// comes).
	open := map[string]*cut.Reader{}
	defer func() {
		for _, r := range open {
			r.Close()
		}
	}()
	for pass := 0; pass < 2; pass++ {
		names := tables
		if pass == 1 {
			// Deeper contexts first: each kept one adds its own parent.
			sort.SliceStable(contexts, func(i, j int) bool { return levels[contexts[i]] > levels[contexts[j]] })
			names = contexts
		}
		for _, name := range names {
			r := open[name]
			delete(open, name)
			if r == nil {
				var err error
				if r, err = cut.OpenTable(ctx, st, s.TableKey(name), mem, pqarrow.ArrowReadProperties{BatchSize: 64 * 1024}); err != nil {
					return err
				}
			} else if err := r.ReadFooter(); err != nil {
				r.Close()
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
				r.DropFooter()
				open[name] = r
				continue
			}
			rt := &router{r: r, schema: schema, src: s, table: s.Cut + "/" + name, ix: ix, packs: packs, sp: sp,
				recv: receivers(p, s.Cut, schema, packs), parents: parents, context: pass == 1, rewrites: rewriteColumns(schema)}
			if g := dflow.DefaultCatalog().TableGroup(schema); g != nil && g.ParentG != nil && g.ParentG.Context() {
				rt.underContext = true
			}
			err = rt.route(ctx)
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

// router sends one table's rows to the packs that take them.
type router struct {
	r            *cut.Reader
	schema       *arrow.Schema
	src          universe.Source
	table        string // cut/table
	ix           *takers
	packs        []*pack
	sp           *sourceSpool
	recv         []bool // per pack: its role receives the table's flow
	rewrites     []rewriteColumn
	parents      map[parentKey][]int
	context      bool // a context table: rows go where the rows under them went
	underContext bool // the table's rows hang under context records
}

func (rt *router) route(ctx context.Context) error {
	cols, err := rt.r.Columns(dflow.ColSourceFileID, dflow.ColInstanceMPAN, dflow.ColRecordLine, dflow.ColParentLine)
	if err != nil {
		return err
	}
	var cores []uint64
	ix := rt.ix.forCut(rt.src.Cut)
	sel := map[int][]int32{} // pack → rows of the row group it takes
	var order []int          // packs in the order first met, for a fixed result
	for rg := 0; rg < rt.r.PF.NumRowGroups(); rg++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		clear(sel)
		order = order[:0]
		take := func(row int32, to []int) {
			for _, pi := range to {
				if !rt.recv[pi] {
					continue // the flow is not routed to the pack's role
				}
				if sel[pi] == nil {
					order = append(order, pi)
				}
				sel[pi] = append(sel[pi], row)
			}
		}
		if rt.context {
			if err := rt.contextRows(ctx, rg, cols, take); err != nil {
				return err
			}
		} else {
			if cores, err = universe.CoreColumn(rt.r, rg, cols[1], cores[:0]); err != nil {
				return err
			}
			for i, c := range cores {
				if to := ix.of(c); to != nil {
					take(int32(i), to)
				}
			}
		}
		if len(order) == 0 {
			continue
		}
		sort.Ints(order)
		if err := rt.spool(ctx, rg, sel, order); err != nil {
			return err
		}
	}
	return nil
}

// contextRows finds the rows of a context table that some pack took a row
// under.
func (rt *router) contextRows(ctx context.Context, rg int, cols []int, take func(int32, []int)) error {
	keys, err := rt.r.Read(ctx, []int{cols[0], cols[2]}, []int{rg})
	if err != nil {
		return err
	}
	defer keys.Release()
	row := int32(0)
	for c, ch := range keys.Column(0).Data().Chunks() {
		files := ch.(*array.String)
		lines := keys.Column(1).Data().Chunk(c).(*array.Int64)
		for i := 0; i < files.Len(); i, row = i+1, row+1 {
			if to := rt.parents[parentKey{files.Value(i), lines.Value(i)}]; to != nil {
				take(row, to)
			}
		}
	}
	return nil
}

// spool decodes the rows some pack takes (their union, once) and hands
// each pack its own.
func (rt *router) spool(ctx context.Context, rg int, sel map[int][]int32, order []int) error {
	union := sel[order[0]]
	if len(order) > 1 {
		seen := map[int32]bool{}
		union = nil
		for _, pi := range order {
			for _, row := range sel[pi] {
				if !seen[row] {
					seen[row] = true
					union = append(union, row)
				}
			}
		}
		slices.Sort(union)
	}
	rec, err := rt.r.ReadRows(ctx, rg, union, rt.schema)
	if err != nil {
		return err
	}
	defer rec.Release()
	at := make([]int32, union[len(union)-1]+1) // row → its place in rec
	for i, row := range union {
		at[row] = int32(i)
	}
	for _, pi := range order {
		kept, err := takeRows(ctx, rec, sel[pi], at, len(union))
		if err != nil {
			return err
		}
		kept = rewrite(kept, rt.packs[pi].info.Env, rt.ix.byCore, rt.rewrites)
		kept = relink(kept, rt.packs[pi].info.Env, rt.ix.byCore) // top-up's new export MPANs
		if rt.underContext {
			rt.noteParents(kept, pi)
		}
		if err := rt.sp.add(pi, rt.table, kept); err != nil {
			return err
		}
	}
	return nil
}

// noteParents records the context records above a pack's rows.
func (rt *router) noteParents(rec arrow.Record, pi int) {
	files := rec.Column(0).(*array.String)
	parents := rec.Column(2).(*array.Int64)
	for i := 0; i < files.Len(); i++ {
		if parents.IsNull(i) {
			continue
		}
		k := parentKey{files.Value(i), parents.Value(i)}
		if to := rt.parents[k]; !slices.Contains(to, pi) {
			rt.parents[k] = append(to, pi)
		}
	}
}

// takeRows returns rec's rows at the places of rows (all of them when rows
// is the whole union).
func takeRows(ctx context.Context, rec arrow.Record, rows []int32, at []int32, union int) (arrow.Record, error) {
	if len(rows) == union {
		rec.Retain()
		return rec, nil
	}
	places := make([]int32, len(rows))
	for i, row := range rows {
		places[i] = at[row]
	}
	return takeIndices(ctx, rec, places)
}

// takeIndices returns rec's rows at indices, in their order.
func takeIndices(ctx context.Context, rec arrow.Record, indices []int32) (arrow.Record, error) {
	cols := make([]arrow.Array, rec.NumCols())
	for j := range cols {
		c, err := takeColumn(ctx, rec.Column(j), indices)
		if err != nil {
			for _, c := range cols[:j] {
				c.Release()
			}
			return nil, err
		}
		cols[j] = c
	}
	out := array.NewRecord(rec.Schema(), cols, int64(len(indices)))
	for _, c := range cols {
		c.Release()
	}
	return out, nil
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

// rewriteColumn is a column rewrite changes: it names role's appointee,
// or holds its DIP id (dip).
type rewriteColumn struct {
	col  int
	role string
	dip  bool
}

// rewriteColumns lists the columns of a table's schema that rewrite
// changes: worked out once a table, not once a record (a table without
// any is passed by without looking at its rows).
func rewriteColumns(schema *arrow.Schema) []rewriteColumn {
	if schema.NumFields() <= 4 || schema.Field(4).Name != dflow.ColInstanceMPAN {
		return nil
	}
	var out []rewriteColumn
	for c, f := range schema.Fields() {
		ref, _ := f.Metadata.GetValue(dflow.MetaRef)
		role, dip := rewriteRoles[ref], false
		if role == "" {
			role, dip = rewriteDIPs[ref], true
		}
		if role != "" && f.Type.ID() == arrow.STRING {
			out = append(out, rewriteColumn{c, role, dip})
		}
	}
	return out
}

// rewrite replaces re-appointed MPANs' real appointees by their stand-ins
// in the columns of rewriteColumns(rec.Schema()).
func rewrite(rec arrow.Record, env string, byCore map[uint64]*Row, rw []rewriteColumn) arrow.Record {
	if len(rw) == 0 {
		return rec
	}
	mpans, ok := rec.Column(4).(*array.String)
	if !ok {
		return rec
	}
	rowOf := make([]*Row, mpans.Len()) // the allocated MPAN of each row, if re-appointed here
	some := false
	for i := range rowOf {
		if mpans.IsNull(i) {
			continue
		}
		c, _ := universe.ParseCore(mpans.Value(i))
		if r := byCore[c]; r != nil && r.Env == env && r.Reappointed {
			rowOf[i], some = r, true
		}
	}
	if !some {
		return rec
	}
	cols := append([]arrow.Array(nil), rec.Columns()...) // the record's own slice must not change
	changed := false
	for _, w := range rw {
		c, role, dip := w.col, w.role, w.dip
		vals, isStr := cols[c].(*array.String)
		if !isStr {
			continue
		}
		b := array.NewStringBuilder(memory.DefaultAllocator)
		for i := 0; i < vals.Len(); i++ {
			if vals.IsNull(i) {
				b.AppendNull()
				continue
			}
			v := vals.Value(i)
			if r := rowOf[i]; dip && r != nil && r.RealAppointee(role) != r.Appointee(role) {
				b.AppendNull()
				changed = true
				continue
			}
			if r := rowOf[i]; !dip && r != nil && r.RealAppointee(role) == v && r.Appointee(role) != v {
				v = r.Appointee(role)
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
// CSV beside the EES table), a D-flow file per flow and source file, the
// digest of each MPAN's rows (beside the pack), the add-pack of a run that
// follows another (the same files under delta/, for the MPANs added since
// and those kept whose rows changed), then pack.json, last. Rows stream
// from the spool.
func (pk *pack) write(ctx context.Context, pr *packRun) error {
	pk.spools = spoolFiles{}
	defer pk.spools.close()
	if err := pk.writeMPANs(ctx, pr, pk.dir); err != nil {
		return fmt.Errorf("pack %s: %w", pk.info.Prefix, err)
	}
	tables, err := pk.spooled()
	if err != nil {
		return fmt.Errorf("pack %s: %w", pk.info.Prefix, err)
	}
	reload, err := pk.writeFull(ctx, pr, tables)
	if err != nil {
		return fmt.Errorf("pack %s: %w", pk.info.Prefix, err)
	}
	if len(reload) > 0 {
		if err := pk.writeTables(ctx, pr, tables, newAddSelection(reload), nil); err != nil {
			return fmt.Errorf("pack %s: %w", pk.info.Prefix, err)
		}
	}
	return pk.writeManifest(ctx, pr)
}

// writeFull writes the pack's tables and D-flows, their rows' digests and
// delta.json, and returns the MPANs the add-pack holds.
func (pk *pack) writeFull(ctx context.Context, pr *packRun, tables map[string]*spooledTable) ([]string, error) {
	dig := newRowDigests(pr, pk.given)
	if err := pk.writeTables(ctx, pr, tables, nil, dig); err != nil {
		return nil, err
	}
	if err := pk.writeDigests(ctx, pr, dig); err != nil {
		return nil, err
	}
	return pk.writeDelta(ctx, pr, pk.dir, dig)
}

// writeTables writes the pack's tables and D-flows: all their rows, or with
// an add selection, the add-pack's rows under delta/. With dig, the rows
// of every table but context records are digested per MPAN as they pass.
func (pk *pack) writeTables(ctx context.Context, pr *packRun, tables map[string]*spooledTable, sel *addSelection, dig *rowDigests) error {
	names := make([]string, 0, len(tables))
	for n := range tables {
		names = append(names, n)
	}
	sort.Strings(names)
	groups := map[string]*dflow.Group{} // table → its D-flow group (nil for EES)
	for _, n := range names {
		groups[n] = tables[n].group
	}
	under := ""
	if sel != nil {
		under = DeltaFolder
		// Context records are chosen by the rows under them: those first,
		// then contexts, deepest first.
		level := func(n string) int {
			if g := groups[n]; g != nil && g.Context() {
				return 100 - g.Level
			}
			return 0
		}
		sort.SliceStable(names, func(i, j int) bool { return level(names[i]) < level(names[j]) })
	}
	source := func(n string, src dflow.RecordSource) dflow.RecordSource {
		if sel == nil {
			return src
		}
		return sel.filter(groups[n], src)
	}
	flows := map[*dflow.Flow]map[string][]string{} // flow → group code → the tables holding it
	for _, n := range names {
		cutType, table, _ := strings.Cut(n, "/")
		path := filepath.Join(pk.dir, "pack.parquet")
		rd := newSharedSpoolReader(tables[n].segs, pk.spools)
		src := source(n, rd.next)
		if g := groups[n]; dig != nil && (g == nil || !g.Context()) {
			src = dig.digesting(n, src)
		}
		schema, rows, err := writeSpooledParquet(path, src)
		rd.close()
		if err != nil {
			return err
		}
		if rows == 0 {
			continue // an add-pack's table without added rows
		}
		g := groups[n]
		f := PackFile{Name: under + n + ".parquet", Format: FormatParquet, Cut: cutType, Table: table, Rows: rows, Delta: sel != nil, srcs: map[int]bool{}}
		if sel == nil {
			pk.info.Rows[n] += rows
		}
		for _, s := range pk.tables[n] {
			f.srcs[s] = true
		}
		if g != nil {
			f.Flow = g.Flow.ID
		} else if flow, _ := schema.Metadata().GetValue(dflow.MetaFlow); flow != "" {
			f.Flow = flow
		}
		pr.rankFile(&f, g)
		if err := pk.put(ctx, pr, path, f); err != nil {
			return err
		}
		if g == nil {
			rd := newSharedSpoolReader(tables[n].segs, pk.spools)
			err := pk.writeEES(ctx, pr, pk.dir, f, source(n, rd.next))
			rd.close()
			if err != nil {
				return err
			}
			continue // EES is no D-flow
		}
		if flows[g.Flow] == nil {
			flows[g.Flow] = map[string][]string{}
		}
		flows[g.Flow][g.Code] = append(flows[g.Flow][g.Code], n)
	}
	keys := make([]*dflow.Flow, 0, len(flows))
	for f := range flows {
		keys = append(keys, f)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Key() < keys[j].Key() })
	for _, f := range keys {
		if err := pk.renderFlow(ctx, pr, tables, f, flows[f], sel); err != nil {
			return err
		}
	}
	return nil
}

// spooledTable is one table of a pack as spooled: its segments in source
// order and its D-flow group (nil for EES).
type spooledTable struct {
	segs  []segment
	group *dflow.Group
}

// spooled gives the pack's spooled tables with their D-flow groups, once
// for both of the pack's passes (the full pack and the add-pack) and every
// format each writes.
func (pk *pack) spooled() (map[string]*spooledTable, error) {
	out := make(map[string]*spooledTable, len(pk.segs))
	for n, t := range pk.segs {
		if len(t.segs) > 0 && t.group == nil { // the group, from the schema of the first segment
			rd := newSharedSpoolReader(t.segs[:1], pk.spools)
			rec, err := rd.next()
			rd.close()
			if err != nil {
				return nil, err
			}
			t.group = dflow.DefaultCatalog().TableGroup(rec.Schema())
			rec.Release()
		}
		out[n] = t
	}
	return out, nil
}

// writeSpooledParquet writes a table's rows as Parquet, in row groups of
// cut.RowGroupRows as if they were one record; no file for no rows.
func writeSpooledParquet(path string, next dflow.RecordSource) (*arrow.Schema, int64, error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, 0, err
	}
	var w *cut.ParquetWriter
	var pending []arrow.Record
	var pendingRows, rows int64
	release := func() {
		for _, r := range pending {
			r.Release()
		}
		pending, pendingRows = nil, 0
	}
	defer release()
	// flush writes the pending rows: all of them at the end, else the
	// whole row groups among them, keeping the rest.
	flush := func(final bool) error {
		if pendingRows == 0 || (!final && pendingRows < cut.RowGroupRows) {
			return nil
		}
		rec, err := concatRecords(pending)
		if err != nil {
			return err
		}
		defer rec.Release()
		release()
		whole := rec.NumRows()
		if !final {
			whole -= whole % cut.RowGroupRows
		}
		part := rec.NewSlice(0, whole)
		err = cut.WriteRecord(w, part)
		part.Release()
		if err == nil && whole < rec.NumRows() {
			pending, pendingRows = []arrow.Record{rec.NewSlice(whole, rec.NumRows())}, rec.NumRows()-whole
		}
		return err
	}
	var schema *arrow.Schema
	for {
		rec, err := next()
		if err != nil {
			out.Close()
			return nil, 0, err
		}
		if rec == nil {
			break
		}
		if w == nil {
			schema = rec.Schema()
			if w, err = cut.NewParquetWriter(schema, out, "allocate"); err != nil {
				rec.Release()
				out.Close()
				return nil, 0, err
			}
		}
		pending, pendingRows, rows = append(pending, rec), pendingRows+rec.NumRows(), rows+rec.NumRows()
		if err := flush(false); err != nil {
			w.Close()
			return nil, 0, err
		}
	}
	if w == nil {
		return nil, 0, out.Close()
	}
	if err := flush(true); err != nil {
		w.Close()
		return nil, 0, err
	}
	return schema, rows, w.Close() // closes out
}

// renderFlow writes one D-flow file per source file of the flow, rows in
// their original order, with a test header from the SI. tables lists, per
// group code, the pack's tables holding its rows.
func (pk *pack) renderFlow(ctx context.Context, pr *packRun, spooled map[string]*spooledTable, f *dflow.Flow, tables map[string][]string, sel *addSelection) error {
	p := pr.plan
	key := f.ID + "/" + f.Version // names the pack's files
	// A source file id is unique only within its sender: the pack renders
	// one file per source file of each source. The flow's segments are
	// sorted by source file, source and group, each group's in their order.
	type flowSegment struct {
		segment
		code int // in codes
	}
	codes := slices.Sorted(maps.Keys(tables))
	var all []flowSegment
	for ci, code := range codes {
		for _, n := range tables[code] {
			for _, seg := range spooled[n].segs {
				all = append(all, flowSegment{seg, ci})
			}
		}
	}
	slices.SortStableFunc(all, func(a, b flowSegment) int {
		return cmp.Or(strings.Compare(a.fileID(), b.fileID()), cmp.Compare(a.src(), b.src()), cmp.Compare(a.code, b.code))
	})
	prev := "" // the previous file's id
	for len(all) > 0 {
		n := 1 // the segments of one source file of one source
		for n < len(all) && all[n].fileID() == all[0].fileID() && all[n].src() == all[0].src() {
			n++
		}
		file := all[:n]
		all = all[n:]
		fid, src := file[0].fileID(), file[0].src()
		shared := fid == prev || (len(all) > 0 && all[0].fileID() == fid) // another source has a file of the id
		prev = fid
		if shared { // named by its sender too
			fid += "_" + pr.sources[src].Cut + "-" + pr.sources[src].MPID
		}
		tag := ""
		if sel != nil {
			tag = DeltaFolder
		}
		sum := sha256.Sum256([]byte(pk.info.Prefix + tag + key + fid))
		h := dflow.Header{FileID: "T" + hex.EncodeToString(sum[:])[:9], Flow: f.ID, Version: f.Version, FromRole: "Z", FromMPID: p.SI,
			ToRole: plan.RoleCodes[pk.info.Role], ToMPID: pk.info.MPID, Created: packCreated, TestFlag: p.TestFlag}
		path := filepath.Join(pk.dir, "pack.dat")
		var rows int64
		groups := map[string]dflow.RecordSource{}
		var readers []*spoolReader
		for len(file) > 0 {
			m := 1 // one group's segments
			for m < len(file) && file[m].code == file[0].code {
				m++
			}
			code := codes[file[0].code]
			list := make([]segment, m)
			for i := range list {
				list[i] = file[i].segment
			}
			file = file[m:]
			rd := newSharedSpoolReader(list, pk.spools)
			readers = append(readers, rd)
			next := dflow.RecordSource(rd.next)
			if sel != nil {
				next = sel.filter(f.Group(code), next)
			}
			groups[code] = func() (arrow.Record, error) {
				r, err := next()
				if r != nil {
					rows += r.NumRows()
				}
				return r, err
			}
		}
		err := renderFile(path, h, f, groups)
		for _, rd := range readers {
			rd.close()
		}
		if err != nil {
			return err
		}
		if rows == 0 {
			continue // an add-pack's file without added rows
		}
		name := "dflow/" + f.ID + "_" + fid + ".dat"
		if sel != nil {
			name = DeltaFolder + name
		}
		pf := PackFile{Name: name, Format: FormatDFlow, Cut: pr.sources[src].Cut, Flow: f.ID, Rows: rows, Delta: sel != nil, srcs: map[int]bool{src: true}}
		pr.rankFile(&pf, nil)
		if err := pk.put(ctx, pr, path, pf); err != nil {
			return err
		}
		if sel == nil {
			pk.info.DFlows = append(pk.info.DFlows, name)
		}
	}
	return nil
}

// packCreated is the creation time in every pack header: fixed, so the
// same allocation renders the same bytes.
const packCreated = "20260101000000"

func renderFile(path string, h dflow.Header, f *dflow.Flow, groups map[string]dflow.RecordSource) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := dflow.NewWriter(out, h, dflow.WriterOptions{})
	if err == nil {
		err = dflow.RenderStream(w, f, groups)
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
