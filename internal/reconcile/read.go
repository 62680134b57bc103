package reconcile

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sort"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"golang.org/x/sync/errgroup"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// column is one statement (cut type, table, item) across every MPID's
// latest cut of the type, columnar and sorted by masked MPAN core: no
// value is kept as a string per row. val is a hash of the value (0 for
// none), or for an MPAN-typed item the core plus one, so it joins with
// cores; the text of values of items the DPIA keeps in clear is in the
// engine's dictionary, by hash. Statements of one table share its cores,
// sources, files and lines; a table's own statement (no item) has no val.
type column struct {
	cores []uint64
	src   []uint16 // index into engine.sources
	val   []uint64
	// Where each row's record is: file (index into engine.files) and line
	// of each row, or, for a column read from cuts, at, which finds them
	// in the table for the few rows a finding names.
	file []uint32
	line []int32
	at   *where
}

func (c *column) Len() int { return len(c.cores) }

// rows is the range of rows of core c.
func (c *column) rows(core uint64) (int, int) {
	lo := sort.Search(len(c.cores), func(i int) bool { return c.cores[i] >= core })
	return lo, c.end(lo, core)
}

// end is the end of the rows of core from lo, its first.
func (c *column) end(lo int, core uint64) int {
	hi := lo
	for hi < len(c.cores) && c.cores[hi] == core {
		hi++
	}
	return hi
}

// any says whether any of rows lo to hi is from a source ok accepts (nil:
// any source).
func (c *column) any(lo, hi int, ok func(src uint16) bool) bool {
	for i := lo; i < hi; i++ {
		if ok == nil || ok(c.src[i]) {
			return true
		}
	}
	return false
}

// finder looks cores up in a column in ascending order, as a merge join
// walks it: each lookup starts where the last ended (galloping), so a scan
// of one sorted column against another costs a step a row, not a binary
// search. A lookup below the last one searches from the start.
type finder struct {
	c    *column
	at   int
	last uint64
}

func (c *column) finder() *finder { return &finder{c: c} }

func (f *finder) rows(core uint64) (int, int) {
	c := f.c
	n := len(c.cores)
	lo := 0
	if core >= f.last {
		lo = f.at
	}
	// Every core before lo is below core: gallop to a bound, then search.
	hi, step := lo, 1
	for hi < n && c.cores[hi] < core {
		lo = hi + 1
		hi = lo + step
		step <<= 1
	}
	if hi > n {
		hi = n
	}
	lo += sort.Search(hi-lo, func(k int) bool { return c.cores[lo+k] >= core })
	f.at, f.last = lo, core
	return lo, c.end(lo, core)
}

func (f *finder) has(core uint64, ok func(src uint16) bool) bool {
	lo, hi := f.rows(core)
	return f.c.any(lo, hi, ok)
}

// FNV-1a, 64 bits (hash/fnv's), of a value's bytes.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hashOf is a value's hash: 0 for none (empty), never 0 otherwise.
func hashOf[T ~string | ~[]byte](s T) uint64 {
	if len(s) == 0 {
		return 0
	}
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	if h == 0 {
		h = 1
	}
	return h
}

func hashValue(s string) uint64 { return hashOf(s) }

// table is one (cut type, table) across every source of the type: its
// rows with a core, sorted by core, stably (rows of one core keep their
// read order: sources in order, then rows), with the universe's radix
// sort. Statements (items) of the table are read against it: perm maps a
// sorted row to its read position among the rows with a core, skip lists
// the rows read without one. A source's file is open only while it is
// read: an open Parquet file holds its metadata and page buffers.
type table struct {
	where
	raw  int    // rows read, with a core or not (of a partition: with)
	base column // val nil
	// chunkAt, of a partition's table, finds each chunk's rows (first,
	// count) in the order they were read from its file.
	chunkAt map[uint32][2]int
}

// where finds a table's rows in its sources' files: parts, skip and perm
// are the table's.
type where struct {
	parts []tablePart
	skip  []int // read positions of rows without a core, ascending
	perm  []uint32
	// pos, of a partition's table (several passes), is each sorted row's
	// read position: skip is then unused.
	pos []uint32
}

// raw is sorted row i's read position.
func (w *where) raw(i int) int {
	if w.pos != nil {
		return int(w.pos[i])
	}
	pos := int(w.perm[i])
	for _, s := range w.skip {
		if s > pos {
			break
		}
		pos++ // a row without a core was read before it
	}
	return pos
}

// tablePart is one source's table.
type tablePart struct {
	si        uint16
	key       string
	off, rows int // read positions
	// While read: the open file and its decode buffers.
	r   *cut.Reader
	buf *buffers
}

// buffers are a part's decode buffers, kept between row groups and
// columns: tables of a few rows are common (a D-flow group per file).
type buffers struct {
	def   []int16
	bytes []parquet.ByteArray
	i64   []int64
	i32   []int32
	bools []bool
}

// grow returns buf with room for n values.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// tableKey names a table in the engine's cache.
func tableKey(ct, name string) string { return ct + "/" + name }

// parallel runs fn on each part of t, its file open, as many at once as
// there are processors: parts write disjoint ranges, so the result does
// not depend on scheduling.
func (e *engine) parallel(ctx context.Context, t *table, fn func(ctx context.Context, j int, p *tablePart) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for j := range t.parts {
		p := &t.parts[j]
		g.Go(func() (err error) {
			if err := gctx.Err(); err != nil {
				return err
			}
			r, err := openTable(gctx, e, p.key)
			if err != nil {
				return err
			}
			defer r.Damaged(&err)
			p.r, p.buf = r, &buffers{}
			defer func() {
				r.Close()
				p.r, p.buf = nil, nil
			}()
			if n := int(r.PF.NumRows()); n != p.rows {
				return fmt.Errorf("%s: %d rows, %d when first opened", p.key, n, p.rows)
			}
			return fn(gctx, j, p)
		})
	}
	return g.Wait()
}

func openTable(ctx context.Context, e *engine, key string) (*cut.Reader, error) {
	return cut.OpenTable(ctx, e.st, key, memory.DefaultAllocator, pqarrow.ArrowReadProperties{BatchSize: 64 * 1024})
}

// table reads table name of every source of cut type ct, once: the core,
// file id and line of each row.
func (e *engine) table(ctx context.Context, ct, name string) (*table, error) {
	k := tableKey(ct, name)
	if t := e.tables[k]; t != nil {
		return t, nil
	}
	if e.sp != nil {
		return e.partTable(ctx, ct, name)
	}
	lay, err := e.layout(ctx, ct, name)
	if err != nil {
		return nil, err
	}
	t := &table{where: where{parts: lay.parts}, raw: lay.raw}
	cores, src := make([]uint64, t.raw), make([]uint16, t.raw)
	err = e.parallel(ctx, t, func(ctx context.Context, j int, p *tablePart) error {
		for i := p.off; i < p.off+p.rows; i++ {
			src[i] = p.si
		}
		return readCores(ctx, p, cores[p.off:p.off+p.rows])
	})
	if err != nil {
		return nil, err
	}
	// Rows without a core (context records) are dropped.
	w := 0
	for i, c := range cores {
		if c == universe.NoCore {
			t.skip = append(t.skip, i)
			continue
		}
		cores[w], src[w] = c, src[i]
		w++
	}
	cores, src = cores[:w:w], src[:w:w]
	t.perm = make([]uint32, w)
	for i := range t.perm {
		t.perm[i] = uint32(i)
	}
	cores, t.perm = sortCores(cores, t.perm)
	t.base = column{cores: cores, src: permute(src, t.perm), at: &t.where}
	e.tables[k] = t
	return t, nil
}

// layout is a table's sources' parts (one file each) and its rows, read
// once from the files' footers and kept for the whole run (a few words a
// part).
type layout struct {
	parts []tablePart
	raw   int
}

// layout finds table name of every source of cut type ct: its parts and
// their rows.
func (e *engine) layout(ctx context.Context, ct, name string) (*layout, error) {
	k := tableKey(ct, name)
	if l := e.layouts[k]; l != nil {
		return l, nil
	}
	l := &layout{}
	for si, s := range e.sources {
		if s.Cut != ct {
			continue
		}
		key := s.TableKey(name)
		if key == "" {
			continue // the cut has no rows of that table
		}
		r, err := openTable(ctx, e, key)
		if err != nil {
			return nil, err
		}
		n := int(r.PF.NumRows())
		r.Close()
		l.parts = append(l.parts, tablePart{si: uint16(si), key: key, off: l.raw, rows: n})
		l.raw += n
	}
	if e.layouts == nil {
		e.layouts = map[string]*layout{}
	}
	e.layouts[k] = l
	return l, nil
}

// sortCores sorts cores ascending, carrying perm, stably, with the
// universe's radix sort: a large table's two halves at once, then merged
// (the first half's rows first among equal cores, so the order is the
// one sort of the whole gives). It returns the sorted slices.
func sortCores(cores []uint64, perm []uint32) ([]uint64, []uint32) {
	n := len(cores)
	if n < 1<<16 || runtime.GOMAXPROCS(0) < 2 {
		universe.SortCores(cores, perm)
		return cores, perm
	}
	mid := n / 2
	done := make(chan struct{})
	go func() {
		universe.SortCores(cores[:mid], perm[:mid])
		close(done)
	}()
	universe.SortCores(cores[mid:], perm[mid:])
	<-done
	outC, outP := make([]uint64, n), make([]uint32, n)
	i, j := 0, mid
	for k := range outC {
		if j == n || (i < mid && cores[i] <= cores[j]) {
			outC[k], outP[k] = cores[i], perm[i]
			i++
		} else {
			outC[k], outP[k] = cores[j], perm[j]
			j++
		}
	}
	return outC, outP
}

// permute returns xs in the order perm gives.
func permute[T any](xs []T, perm []uint32) []T {
	out := make([]T, len(perm))
	for i, p := range perm {
		out[i] = xs[p]
	}
	return out
}

// readCores reads a part's cores into its range.
func readCores(ctx context.Context, p *tablePart, cores []uint64) error {
	r := p.r
	cols, err := r.Columns(dflow.ColInstanceMPAN)
	if err != nil {
		return err
	}
	at := 0
	for rg := 0; rg < r.PF.NumRowGroups(); rg++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int(r.PF.RowGroup(rg).NumRows())
		if at+n > len(cores) {
			return fmt.Errorf("%s: more rows than its metadata says", r.Key)
		}
		got, err := universe.CoreColumn(r, rg, cols[0], cores[at:at:at+n])
		if err != nil {
			return err
		}
		if len(got) != n {
			return fmt.Errorf("%s: row group %d has %d cores for %d rows", r.Key, rg, len(got), n)
		}
		at += n
	}
	if at != len(cores) {
		return fmt.Errorf("%s: %d rows for the %d its metadata says", r.Key, at, len(cores))
	}
	return nil
}

// rowRef is a finding's record before its file id and line are read: read
// position raw of the table at.
type rowRef struct {
	at  *where
	raw int
}

// locate reads the file id and line of the records of findings fs that
// name one by position (one pass over each part's file with such records).
func (e *engine) locate(ctx context.Context, fs []Finding) error {
	type want struct {
		f   *Finding
		raw int
	}
	byPart := map[*tablePart][]want{}
	for i := range fs {
		f := &fs[i]
		if f.ref == nil {
			continue
		}
		ps := f.ref.at.parts
		j := sort.Search(len(ps), func(j int) bool { return ps[j].off+ps[j].rows > f.ref.raw })
		if j == len(ps) {
			return fmt.Errorf("finding of rule %s: read position %d past the table's %d parts", f.Rule, f.ref.raw, len(ps))
		}
		byPart[&ps[j]] = append(byPart[&ps[j]], want{f, f.ref.raw - ps[j].off})
		f.ref = nil
	}
	for p, ws := range byPart {
		sort.Slice(ws, func(a, b int) bool { return ws[a].raw < ws[b].raw })
		r, err := openTable(ctx, e, p.key)
		if err != nil {
			return err
		}
		err = func() (err error) {
			defer r.Close()
			defer r.Damaged(&err)
			q := &tablePart{si: p.si, key: p.key, rows: p.rows, r: r, buf: &buffers{}}
			cols, err := r.Columns(dflow.ColSourceFileID, dflow.ColRecordLine)
			if err != nil {
				return err
			}
			base, k := 0, 0
			for rg := 0; rg < r.PF.NumRowGroups() && k < len(ws); rg++ {
				n := int(r.PF.RowGroup(rg).NumRows())
				end := k
				for end < len(ws) && ws[end].raw < base+n {
					end++
				}
				if end > k {
					i, j := base, k
					err := byteValues(q, rg, cols[0], n, func(v []byte) {
						for ; j < end && ws[j].raw == i; j++ {
							ws[j].f.FileID = string(v)
						}
						i++
					})
					if err != nil {
						return err
					}
					lines := make([]int32, n)
					if err := lineValues(q, rg, cols[1], n, lines); err != nil {
						return err
					}
					for ; k < end; k++ {
						ws[k].f.Line = int(lines[ws[k].raw-base])
					}
				}
				base += n
			}
			if k < len(ws) {
				return fmt.Errorf("%s: row %d past its %d rows", p.key, ws[k].raw, base)
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// batchReader is a typed Parquet column chunk reader.
type batchReader[T any] interface {
	HasNext() bool
	ReadBatch(batchSize int64, values []T, defLvls, repLvls []int16) (int64, int, error)
}

// batch is the most values decoded at a time.
const batch = 8 * 1024

// scan calls fn for each of a column chunk's n rows with its value (ok
// false and the zero value for a null) straight from the pages, decoding
// into vals, with def.
func scan[T any](p *tablePart, cr file.ColumnChunkReader, br batchReader[T], n int, vals *[]T, fn func(v T, ok bool)) error {
	key := p.r.Key
	maxDef := cr.Descriptor().MaxDefinitionLevel()
	size := min(batch, max(n, 1))
	buf, def := grow(vals, size), grow(&p.buf.def, size)
	var zero T
	rows := 0
	for br.HasNext() {
		got, nv, err := br.ReadBatch(int64(size), buf, def, nil)
		if err != nil {
			return fmt.Errorf("reading %s: %w", key, err)
		}
		if got == 0 {
			break
		}
		v := 0
		for i := 0; i < int(got); i++ {
			if maxDef > 0 && def[i] < maxDef {
				fn(zero, false)
				continue
			}
			if v >= nv {
				return fmt.Errorf("reading %s: column %s has fewer values than rows", key, cr.Descriptor().Name())
			}
			fn(buf[v], true)
			v++
		}
		rows += int(got)
	}
	if err := cr.Err(); err != nil { // a page that did not read ends the loop
		return fmt.Errorf("reading %s: %w", key, err)
	}
	if rows != n {
		return fmt.Errorf("reading %s: column %s has %d rows, want %d", key, cr.Descriptor().Name(), rows, n)
	}
	return nil
}

// byteValues calls fn with each row's bytes (empty for a null) of text
// column col of row group rg.
func byteValues(p *tablePart, rg, col, n int, fn func(v []byte)) error {
	r := p.r
	cr, err := r.Column(rg, col) // its pages checked before Arrow decodes them
	if err != nil {
		return err
	}
	br, ok := cr.(*file.ByteArrayColumnChunkReader)
	if !ok {
		return fmt.Errorf("%s: column %s is %s, want text", r.Key, cr.Descriptor().Name(), cr.Type())
	}
	return scan(p, cr, br, n, &p.buf.bytes, func(v parquet.ByteArray, _ bool) { fn(v) })
}

// lineValues reads the record lines of row group rg (0 unless integers).
func lineValues(p *tablePart, rg, col, n int, dst []int32) error {
	r := p.r
	cr, err := r.Column(rg, col) // its pages checked before Arrow decodes them
	if err != nil {
		return err
	}
	i := 0
	switch br := cr.(type) {
	case *file.Int64ColumnChunkReader:
		return scan(p, cr, br, n, &p.buf.i64, func(v int64, _ bool) { dst[i] = int32(v); i++ })
	case *file.Int32ColumnChunkReader:
		return scan(p, cr, br, n, &p.buf.i32, func(v int32, _ bool) { dst[i] = v; i++ })
	}
	clear(dst)
	return nil
}

// column reads statement it from every source of its cut type, once.
func (e *engine) column(ctx context.Context, it Item) (*column, error) {
	k := it.String()
	if c := e.cache[k]; c != nil {
		return c, nil
	}
	t, err := e.table(ctx, it.Cut, it.Table)
	if err != nil {
		return nil, err
	}
	c := t.base
	switch {
	case it.Item != "" && e.sp != nil:
		if c.val, err = e.partItem(ctx, t, it); err != nil {
			return nil, err
		}
	case it.Item != "":
		if c.val, err = e.readItem(ctx, t, it); err != nil {
			return nil, err
		}
	}
	e.cache[k] = &c
	return &c, nil
}

// remember keeps the text of clear value hash h.
func (e *engine) remember(h uint64, v string) {
	if h == 0 {
		return
	}
	e.mu.Lock()
	if _, ok := e.dict[h]; !ok {
		e.dict[h] = v
	}
	e.mu.Unlock()
}

// readItem reads item it of every part of t: one hash a row, in t's order.
func (e *engine) readItem(ctx context.Context, t *table, it Item) ([]uint64, error) {
	raw := make([]uint64, t.raw)
	err := e.parallel(ctx, t, func(ctx context.Context, _ int, p *tablePart) error {
		dst := raw[p.off : p.off+p.rows]
		return readItemPart(ctx, p, it, e.valFunc(p, it), func(base, n int) []uint64 { return dst[base : base+n] }, nil)
	})
	if err != nil {
		return nil, err
	}
	// Drop the rows without a core, as the table did, then sort.
	if len(t.skip) > 0 {
		w, s := 0, 0
		for i, v := range raw {
			if s < len(t.skip) && t.skip[s] == i {
				s++
				continue
			}
			raw[w] = v
			w++
		}
		raw = raw[:w]
	}
	return permute(raw, t.perm), nil
}

// valFunc is how a part's values of item it become a row's value: a hash,
// the recipient's, or an MPAN's core plus one. Clear values go into the
// dictionary.
func (e *engine) valFunc(p *tablePart, it Item) func([]byte) uint64 {
	mpanItem := false
	if x := dflow.DefaultCatalog().Item(it.Item); x != nil {
		mpanItem = x.MPAN
	}
	clear := e.clear(it.Item)
	var seen [256]uint64 // clear hashes already in the dictionary, by low bits
	if it.Item == ItemRecipient {
		// The recipient MPID of each row's file, as its source's
		// manifest names it (rows of one file come together).
		to := map[string]string{}
		for _, in := range e.sources[p.si].Manifest.Inputs {
			to[in.FileID] = in.ToMPID
		}
		var last []byte
		var lastH uint64
		return func(v []byte) uint64 {
			if last == nil || !bytes.Equal(v, last) {
				m := to[string(v)]
				last, lastH = append(last[:0], v...), hashOf(m)
				e.remember(lastH, m)
			}
			return lastH
		}
	}
	return func(v []byte) uint64 {
		if mpanItem {
			if x, ok := universe.ParseCoreBytes(v); ok {
				return x + 1
			}
			return 0
		}
		h := hashOf(v)
		if clear && h != 0 && seen[h&255] != h {
			seen[h&255] = h
			e.remember(h, string(v))
		}
		return h
	}
}

// readItemPart reads item it of one part, a value a row, row group by row
// group: into dst(base, n) for the n rows from read position base of the
// part, then done(base, values) unless nil. Text and booleans are read
// straight from the pages, other types through Arrow, as text.
func readItemPart(ctx context.Context, p *tablePart, it Item, val func([]byte) uint64, dst func(base, n int) []uint64, done func(base int, vals []uint64) error) error {
	r := p.r
	schema, err := r.File.Schema()
	if err != nil {
		return fmt.Errorf("table %s: %w", r.Key, err)
	}
	at := -1
	for i, f := range schema.Fields() {
		if ref, ok := f.Metadata.GetValue(dflow.MetaRef); ok && ref == it.Item {
			at = i
			break
		}
	}
	if it.Item == ItemRecipient { // the file's: read by its id
		if ix := schema.FieldIndices(dflow.ColSourceFileID); len(ix) == 1 {
			at = ix[0]
		}
	}
	if at < 0 {
		return fmt.Errorf("table %s has no column of item %s (rule statement %s): is it a cut of an older definition?", r.Key, it.Item, it)
	}
	typ := schema.Field(at).Type
	if d, ok := typ.(*arrow.DictionaryType); ok {
		typ = d.ValueType
	}
	base := 0
	for rg := 0; rg < r.PF.NumRowGroups(); rg++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int(r.PF.RowGroup(rg).NumRows())
		if base+n > p.rows {
			return fmt.Errorf("%s: more rows than its metadata says", r.Key)
		}
		d, i := dst(base, n), 0
		switch typ.ID() {
		case arrow.STRING:
			err = byteValues(p, rg, at, n, func(v []byte) { put(d, i, val(v)); i++ })
		case arrow.BOOL:
			err = boolValues(ctx, p, rg, at, n, func(v []byte) { put(d, i, val(v)); i++ })
		default:
			err = arrowValues(ctx, r, rg, at, n, func(v string) { put(d, i, val([]byte(v))); i++ })
		}
		if err != nil {
			return err
		}
		if done != nil {
			if err := done(base, d); err != nil {
				return err
			}
		}
		base += n
	}
	if base != p.rows {
		return fmt.Errorf("%s: %d rows for the %d its metadata says", r.Key, base, p.rows)
	}
	return nil
}

// put sets d[i] if there is such a row: a row group with more values than
// rows is an error its reader reports.
func put(d []uint64, i int, v uint64) {
	if i < len(d) {
		d[i] = v
	}
}

// boolValues calls fn with each row's boolean as text (empty for a null).
func boolValues(ctx context.Context, p *tablePart, rg, col, n int, fn func(v []byte)) error {
	r := p.r
	cr, err := r.Column(rg, col) // its pages checked before Arrow decodes them
	if err != nil {
		return err
	}
	br, ok := cr.(*file.BooleanColumnChunkReader)
	if !ok {
		return arrowValues(ctx, r, rg, col, n, func(v string) { fn([]byte(v)) })
	}
	t, f := []byte("true"), []byte("false")
	return scan(p, cr, br, n, &p.buf.bools, func(v bool, ok bool) {
		switch {
		case !ok:
			fn(nil)
		case v:
			fn(t)
		default:
			fn(f)
		}
	})
}

// arrowValues calls fn with each row's value of column col as Arrow
// renders it ("" for a null): for types read as text nowhere else.
func arrowValues(ctx context.Context, r *cut.Reader, rg, col, n int, fn func(v string)) error {
	tbl, err := r.Read(ctx, []int{col}, []int{rg})
	if err != nil {
		return err
	}
	defer tbl.Release()
	vs := textOf(tbl.Column(0).Data())
	if len(vs) != n {
		return fmt.Errorf("reading %s: %d values for %d rows", r.Key, len(vs), n)
	}
	for _, v := range vs {
		fn(v)
	}
	return nil
}

// textOf renders a column's values as text, "" for null.
func textOf(col *arrow.Chunked) []string {
	out := make([]string, 0, col.Len())
	for _, ch := range col.Chunks() {
		switch a := ch.(type) {
		case *array.String:
			for i := 0; i < a.Len(); i++ {
				if a.IsNull(i) {
					out = append(out, "")
				} else {
					out = append(out, a.Value(i))
				}
			}
		case *array.Dictionary:
			d := a.Dictionary()
			for i := 0; i < a.Len(); i++ {
				if a.IsNull(i) {
					out = append(out, "")
				} else {
					out = append(out, d.ValueStr(a.GetValueIndex(i)))
				}
			}
		case *array.Boolean:
			for i := 0; i < a.Len(); i++ {
				if a.IsNull(i) {
					out = append(out, "")
				} else {
					out = append(out, strconv.FormatBool(a.Value(i)))
				}
			}
		default:
			for i := 0; i < a.Len(); i++ {
				if a.IsNull(i) {
					out = append(out, "")
				} else {
					out = append(out, a.ValueStr(i))
				}
			}
		}
	}
	return out
}

// valueSet is the hashes of a filter's values.
func valueSet(vals []string) []uint64 {
	out := make([]uint64, len(vals))
	for i, v := range vals {
		out[i] = hashOf(v)
	}
	return out
}

// inSet says whether value hash h is one of hs.
func inSet(h uint64, hs []uint64) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}
