package reconcile

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// column is one statement (cut type, table, item) across every MPID's
// latest cut of the type, columnar and sorted by masked MPAN core: no
// value is kept as a string per row. val is a hash of the value (0 for
// none), or for an MPAN-typed item the core plus one, so it joins with
// cores; the text of values of items the DPIA keeps in clear is in the
// engine's dictionary, by hash.
type column struct {
	cores []uint64
	src   []uint16 // index into engine.sources
	file  []uint32 // index into engine.files
	line  []int32
	val   []uint64
}

func (c *column) Len() int { return len(c.cores) }

// rows is the range of rows of core c.
func (c *column) rows(core uint64) (int, int) {
	lo := sort.Search(len(c.cores), func(i int) bool { return c.cores[i] >= core })
	hi := lo
	for hi < len(c.cores) && c.cores[hi] == core {
		hi++
	}
	return lo, hi
}

// has says whether any row of core c is from a source ok accepts.
func (c *column) has(core uint64, ok func(src uint16) bool) bool {
	lo, hi := c.rows(core)
	for i := lo; i < hi; i++ {
		if ok == nil || ok(c.src[i]) {
			return true
		}
	}
	return false
}

// sort orders the rows by core, stably (rows of one core keep their read
// order), with the universe's radix sort.
func (c *column) sort() {
	n := len(c.cores)
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	universe.SortCores(c.cores, perm)
	src, file, line, val := make([]uint16, n), make([]uint32, n), make([]int32, n), make([]uint64, n)
	for i, p := range perm {
		src[i], file[i], line[i], val[i] = c.src[p], c.file[p], c.line[p], c.val[p]
	}
	c.src, c.file, c.line, c.val = src, file, line, val
}

func hashValue(s string) uint64 {
	if s == "" {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(s))
	v := h.Sum64()
	if v == 0 {
		v = 1
	}
	return v
}

// column reads statement it from every source of its cut type, once.
func (e *engine) column(ctx context.Context, it Item) (*column, error) {
	k := it.String()
	if c := e.cache[k]; c != nil {
		return c, nil
	}
	c := &column{}
	mpanItem, clear := false, false
	if it.Item == ItemRecipient {
		clear = true
	} else if it.Item != "" {
		if x := dflow.DefaultCatalog().Item(it.Item); x != nil {
			mpanItem = x.MPAN
		}
		clear = e.clear(it.Item)
	}
	for si, s := range e.sources {
		if s.Cut != it.Cut {
			continue
		}
		key := s.TableKey(it.Table)
		if key == "" {
			continue // the cut has no rows of that table
		}
		var to map[string]string
		if it.Item == ItemRecipient {
			to = map[string]string{}
			for _, in := range s.Manifest.Inputs {
				to[in.FileID] = in.ToMPID
			}
		}
		if err := e.readTable(ctx, key, it, uint16(si), c, mpanItem, clear, to); err != nil {
			return nil, err
		}
	}
	c.sort()
	e.cache[k] = c
	return c, nil
}

func (e *engine) readTable(ctx context.Context, key string, it Item, si uint16, c *column, mpanItem, clear bool, to map[string]string) error {
	r, err := cut.OpenTable(ctx, e.st, key, memory.DefaultAllocator, pqarrow.ArrowReadProperties{BatchSize: 64 * 1024})
	if err != nil {
		return err
	}
	defer r.Close()
	names := []string{dflow.ColInstanceMPAN, dflow.ColSourceFileID, dflow.ColRecordLine}
	cols, err := r.Columns(names...)
	if err != nil {
		return err
	}
	if it.Item != "" && it.Item != ItemRecipient {
		schema, err := r.File.Schema()
		if err != nil {
			return fmt.Errorf("table %s: %w", key, err)
		}
		at := -1
		for i, f := range schema.Fields() {
			if ref, ok := f.Metadata.GetValue(dflow.MetaRef); ok && ref == it.Item {
				at = i
				break
			}
		}
		if at < 0 {
			return fmt.Errorf("table %s has no column of item %s (rule statement %s): is it a cut of an older definition?", key, it.Item, it)
		}
		cols = append(cols, at)
	}
	for rg := 0; rg < r.PF.NumRowGroups(); rg++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		tbl, err := r.File.ReadRowGroups(ctx, cols, []int{rg})
		if err != nil {
			return fmt.Errorf("reading %s: %w", key, err)
		}
		err = e.addRows(tbl, key, si, c, mpanItem, clear, to)
		tbl.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *engine) addRows(tbl arrow.Table, key string, si uint16, c *column, mpanItem, clear bool, to map[string]string) error {
	n := int(tbl.NumRows())
	cores, files, lines := textOf(tbl.Column(0).Data()), textOf(tbl.Column(1).Data()), tbl.Column(2).Data()
	var vals []string
	if tbl.NumCols() > 3 {
		vals = textOf(tbl.Column(3).Data())
	}
	li := int64Of(lines)
	if len(cores) != n || len(files) != n || len(li) != n || (vals != nil && len(vals) != n) {
		return fmt.Errorf("%s: columns of different lengths", key)
	}
	for i := 0; i < n; i++ {
		core, ok := universe.ParseCore(cores[i])
		if !ok {
			continue // a context record (no MPAN of its own)
		}
		var v string
		switch {
		case to != nil:
			v = to[files[i]]
		case vals != nil:
			v = vals[i]
		}
		var h uint64
		if mpanItem {
			if x, ok := universe.ParseCore(v); ok {
				h = x + 1
			}
		} else {
			h = hashValue(v)
			if clear && h != 0 {
				if _, ok := e.dict[h]; !ok {
					e.dict[h] = strings.Clone(v) // v may point into the record
				}
			}
		}
		c.cores = append(c.cores, core)
		c.src = append(c.src, si)
		c.file = append(c.file, e.fileSym(files[i]))
		c.line = append(c.line, int32(li[i]))
		c.val = append(c.val, h)
	}
	return nil
}

func (e *engine) fileSym(id string) uint32 {
	if s, ok := e.fileIdx[id]; ok {
		return s
	}
	s := uint32(len(e.files))
	e.fileIdx[id] = s
	e.files = append(e.files, id)
	return s
}

// textOf renders a column's values as text, "" for null. Strings are
// referenced, not copied, where Arrow allows; callers keep none of them
// beyond the record but the clear items' dictionary.
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

func int64Of(col *arrow.Chunked) []int64 {
	out := make([]int64, 0, col.Len())
	for _, ch := range col.Chunks() {
		if a, ok := ch.(*array.Int64); ok {
			for i := 0; i < a.Len(); i++ {
				out = append(out, a.Value(i))
			}
			continue
		}
		for i := 0; i < ch.Len(); i++ {
			out = append(out, 0)
		}
	}
	return out
}

// inSet says whether value hash h is one of vals.
func inSet(h uint64, vals []string) bool {
	return slices.ContainsFunc(vals, func(v string) bool { return hashValue(v) == h })
}
