package cut

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/compute"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
)

// ReadRows reads the rows (ascending indices within row group rg) of every
// column into one record of schema (the table's Arrow schema). A load pack
// takes a few rows of each row group: decoding straight from the pages
// into the few values kept costs a fraction of building the whole row
// group as Arrow arrays and filtering it. Columns of a type read here
// natively (text, integers, dates, booleans) are; any other column is read
// whole and its rows taken.
func (r *Reader) ReadRows(ctx context.Context, rg int, rows []int32, schema *arrow.Schema) (_ arrow.Record, err error) {
	defer r.Damaged(&err)
	if r.PF.MetaData().Schema.NumColumns() != schema.NumFields() {
		return nil, fmt.Errorf("table %s: %d columns for %d fields", r.Key, r.PF.MetaData().Schema.NumColumns(), schema.NumFields())
	}
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for c, f := range schema.Fields() {
		if cols[c], err = r.pageColumnRows(rg, c, f.Type, rows); err != errUnhandled {
			if err != nil {
				return nil, err
			}
			continue
		}
		cr, err := r.ColumnChunk(rg, c)
		if err != nil {
			return nil, err
		}
		if cols[c], err = r.readColumnRows(cr, f.Type, rows); err != nil {
			return nil, err
		}
		if cols[c] == nil { // not a type read natively
			if cols[c], err = r.takeColumnRows(ctx, rg, c, rows); err != nil {
				return nil, err
			}
		}
	}
	return array.NewRecord(schema, cols, int64(len(rows))), nil
}

// pageColumnRows reads the rows of a text, integer or date column from
// its pages (pages.go); errUnhandled for a column read through Arrow.
func (r *Reader) pageColumnRows(rg, c int, t arrow.DataType, rows []int32) (arrow.Array, error) {
	if rows == nil {
		rows = []int32{} // none; nil asks the walkers for every row
	}
	var b array.Builder
	var err error
	switch t.ID() {
	case arrow.STRING:
		sb := array.NewStringBuilder(r.mem)
		b = sb
		err = r.eachText(rg, c, rows, func(v []byte) { sb.BinaryBuilder.Append(v) }, sb.AppendNull)
	case arrow.INT64:
		ib := array.NewInt64Builder(r.mem)
		b = ib
		err = r.eachInt(rg, c, rows, ib.Append, ib.AppendNull)
	case arrow.DATE32:
		db := array.NewDate32Builder(r.mem)
		b = db
		err = r.eachInt(rg, c, rows, func(v int64) { db.Append(arrow.Date32(v)) }, db.AppendNull)
	default:
		return nil, errUnhandled
	}
	defer b.Release()
	if err != nil {
		return nil, err
	}
	return b.NewArray(), nil
}

// rowBatch is the values decoded at a time.
const rowBatch = 4096

// rowScratch is ReadRows' decode buffers, kept by the Reader between calls.
type rowScratch struct {
	def   []int16
	bytes []parquet.ByteArray
	i64   []int64
	i32   []int32
	bools []bool
}

// readColumnRows returns nil, nil for a column it does not read natively.
func (r *Reader) readColumnRows(cr file.ColumnChunkReader, t arrow.DataType, rows []int32) (arrow.Array, error) {
	maxDef := cr.Descriptor().MaxDefinitionLevel()
	if r.scratch == nil {
		r.scratch = &rowScratch{def: make([]int16, rowBatch), bytes: make([]parquet.ByteArray, rowBatch),
			i64: make([]int64, rowBatch), i32: make([]int32, rowBatch), bools: make([]bool, rowBatch)}
	}
	def := r.scratch.def
	switch cr := cr.(type) {
	case *file.ByteArrayColumnChunkReader:
		if t.ID() != arrow.STRING {
			return nil, nil
		}
		b := array.NewStringBuilder(r.mem)
		defer b.Release()
		vals := r.scratch.bytes
		err := pick(r.Key, cr, rows, maxDef, def, func(n int64) (int64, int, error) { return cr.ReadBatch(n, vals, def, nil) },
			func(v int) { b.BinaryBuilder.Append(vals[v]) }, b.AppendNull)
		return b.NewArray(), err
	case *file.Int64ColumnChunkReader:
		if t.ID() != arrow.INT64 {
			return nil, nil
		}
		b := array.NewInt64Builder(r.mem)
		defer b.Release()
		vals := r.scratch.i64
		err := pick(r.Key, cr, rows, maxDef, def, func(n int64) (int64, int, error) { return cr.ReadBatch(n, vals, def, nil) },
			func(v int) { b.Append(vals[v]) }, b.AppendNull)
		return b.NewArray(), err
	case *file.Int32ColumnChunkReader:
		if t.ID() != arrow.DATE32 {
			return nil, nil
		}
		b := array.NewDate32Builder(r.mem)
		defer b.Release()
		vals := r.scratch.i32
		err := pick(r.Key, cr, rows, maxDef, def, func(n int64) (int64, int, error) { return cr.ReadBatch(n, vals, def, nil) },
			func(v int) { b.Append(arrow.Date32(vals[v])) }, b.AppendNull)
		return b.NewArray(), err
	case *file.BooleanColumnChunkReader:
		if t.ID() != arrow.BOOL {
			return nil, nil
		}
		b := array.NewBooleanBuilder(r.mem)
		defer b.Release()
		vals := r.scratch.bools
		err := pick(r.Key, cr, rows, maxDef, def, func(n int64) (int64, int, error) { return cr.ReadBatch(n, vals, def, nil) },
			func(v int) { b.Append(vals[v]) }, b.AppendNull)
		return b.NewArray(), err
	}
	return nil, nil
}

// pick walks a column chunk batch by batch and calls keep with the value
// index of each wanted row that has a value, null for one that has none.
func pick(key string, cr file.ColumnChunkReader, rows []int32, maxDef int16, def []int16, read func(int64) (int64, int, error), keep func(v int), null func()) error {
	base, j := int64(0), 0
	for j < len(rows) {
		if !cr.HasNext() {
			if err := cr.Err(); err != nil {
				return fmt.Errorf("reading %s: %w", key, err)
			}
			return fmt.Errorf("reading %s: column %s ends before row %d", key, cr.Descriptor().Name(), rows[j])
		}
		n, nv, err := read(rowBatch)
		if err != nil {
			return fmt.Errorf("reading %s: %w", key, err)
		}
		if n == 0 {
			continue
		}
		if maxDef == 0 {
			for ; j < len(rows) && int64(rows[j]) < base+n; j++ {
				keep(int(int64(rows[j]) - base))
			}
			base += n
			continue
		}
		v := 0
		for i := int64(0); i < n && j < len(rows); i++ {
			present := def[i] >= maxDef
			if base+i == int64(rows[j]) {
				if present {
					if v >= nv {
						return fmt.Errorf("reading %s: column %s has fewer values than rows", key, cr.Descriptor().Name())
					}
					keep(v)
				} else {
					null()
				}
				j++
			}
			if present {
				v++
			}
		}
		base += n
	}
	return nil
}

// takeColumnRows reads column c of row group rg through Arrow and takes the
// rows.
func (r *Reader) takeColumnRows(ctx context.Context, rg, c int, rows []int32) (arrow.Array, error) {
	t, err := r.Read(ctx, []int{c}, []int{rg})
	if err != nil {
		return nil, err
	}
	defer t.Release()
	whole, err := array.Concatenate(t.Column(0).Data().Chunks(), r.mem)
	if err != nil {
		return nil, err
	}
	defer whole.Release()
	idx := array.NewInt32Builder(r.mem)
	defer idx.Release()
	idx.AppendValues(rows, nil)
	ia := idx.NewArray()
	defer ia.Release()
	return compute.TakeArray(ctx, whole, ia)
}
