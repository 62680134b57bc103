package pipeline

import (
	"fmt"
	"sort"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/cut"
)

// add writes the row groups rec completes and keeps its other rows
// pending; past maxPendingBytes, the largest pending table is written.
// Only the writer goroutine calls it.
func (t *tables) add(name string, f *cut.TableFile, rec arrow.Record) error {
	p := t.pending[name]
	if p == nil {
		p = &pendingRows{}
		t.pending[name] = p
	}
	if rec.NumRows() == 0 && (f.Rows > 0 || len(p.recs) > 0) {
		return nil // kept only while the table might end empty (writePending)
	}
	b := pinnedBytes(rec)
	if b > 2*rowBytes(rec)+compactSlack {
		// A few rows pinning a large batch's buffers (a slice of a
		// table read back, a file's tail): hold a copy of just them.
		c, err := concatRecords([]arrow.Record{rec}, t.mem)
		if err != nil {
			return fmt.Errorf("copying rows of table %s: %w", f.Name, err)
		}
		rec, b = c, pinnedBytes(c)
	} else {
		rec.Retain()
	}
	p.recs = append(p.recs, rec)
	p.rows += rec.NumRows()
	p.bytes += b
	t.held += b
	n := p.rows - p.rows%batchRows
	if len(p.recs) == 1 && p.rows-n >= minRowGroupRows {
		n = p.rows // a large record needs no company: written as it comes
	}
	if err := t.writeOut(f, p, n); err != nil {
		return err
	}
	for t.held > maxPendingBytes {
		most := ""
		for tn, q := range t.pending {
			if most == "" || q.bytes > t.pending[most].bytes || q.bytes == t.pending[most].bytes && tn < most {
				most = tn
			}
		}
		q := t.pending[most]
		if q.rows == 0 {
			break // only empty records wait: nothing to write
		}
		if err := t.writeOut(t.files[most], q, q.rows); err != nil {
			return err
		}
	}
	return nil
}

// writePending writes every table's pending rows, in table order.
func (t *tables) writePending() error {
	names := make([]string, 0, len(t.pending))
	for n := range t.pending {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p, f := t.pending[n], t.files[n]
		if p.rows > 0 {
			if err := t.writeOut(f, p, p.rows); err != nil {
				return err
			}
			continue
		}
		var err error
		if f.Rows == 0 && len(p.recs) > 0 {
			err = f.Write(p.recs[0]) // a table of no rows: one empty row group
		}
		p.release()
		t.held -= p.bytes
		p.recs, p.bytes = nil, 0
		if err != nil {
			return err
		}
	}
	return nil
}

// writeOut writes p's first n rows to f (as row groups of at most
// batchRows) and keeps the rest pending.
func (t *tables) writeOut(f *cut.TableFile, p *pendingRows, n int64) error {
	if n == 0 {
		return nil
	}
	var head, rest []arrow.Record
	left := n
	for _, r := range p.recs {
		switch k := r.NumRows(); {
		case left >= k:
			head, left = append(head, r), left-k
		case left > 0:
			head, rest = append(head, r.NewSlice(0, left)), append(rest, r.NewSlice(left, k))
			r.Release()
			left = 0
		default:
			rest = append(rest, r)
		}
	}
	defer release(head)
	p.recs, p.rows = rest, p.rows-n
	t.held -= p.bytes
	p.bytes = 0
	for _, r := range rest {
		p.bytes += pinnedBytes(r)
	}
	t.held += p.bytes
	rec := head[0]
	if len(head) > 1 {
		var err error
		if rec, err = concatRecords(head, t.mem); err != nil {
			return fmt.Errorf("joining rows of table %s: %w", f.Name, err)
		}
		defer rec.Release()
	}
	return f.Write(rec)
}

// pinnedBytes is the memory rec's buffers hold (their capacity: a slice
// pins its whole record's buffers, which may have room to spare).
func pinnedBytes(rec arrow.Record) int64 {
	var n int64
	var add func(d arrow.ArrayData)
	add = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				n += int64(cap(b.Buf()))
			}
		}
		for _, c := range d.Children() {
			add(c)
		}
		if dict := d.Dictionary(); dict != nil && dict.(*array.Data) != nil {
			add(dict)
		}
	}
	for _, c := range rec.Columns() {
		add(c.Data())
	}
	return n
}

// compactSlack is how many bytes more than twice its rows' a held record
// may pin before it is copied.
const compactSlack = 64 << 10

// rowBytes is about what rec's rows take on their own: their values,
// offsets and validity bits. A type it does not know counts as pinned.
func rowBytes(rec arrow.Record) int64 {
	var n int64
	for _, c := range rec.Columns() {
		rows := int64(c.Len())
		switch a := c.(type) {
		case *array.String:
			offs := a.ValueOffsets()
			n += int64(offs[len(offs)-1]-offs[0]) + 4*(rows+1)
		case *array.Boolean:
			n += rows / 8
		default:
			fw, ok := c.DataType().(arrow.FixedWidthDataType)
			if !ok {
				return pinnedBytes(rec)
			}
			n += rows * int64(fw.BitWidth()/8)
		}
		n += rows / 8 // validity
	}
	return n
}

// concatRecords copies records of one schema into one.
func concatRecords(recs []arrow.Record, mem memory.Allocator) (arrow.Record, error) {
	schema := recs[0].Schema()
	cols := make([]arrow.Array, schema.NumFields())
	defer release(cols)
	parts := make([]arrow.Array, len(recs))
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	for i := range cols {
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		c, err := array.Concatenate(parts, mem)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return array.NewRecord(schema, cols, rows), nil
}

func (p *pendingRows) release() { release(p.recs) }

// release releases each non-nil item.
func release[T interface{ Release() }](items []T) {
	for _, it := range items {
		if any(it) != nil {
			it.Release()
		}
	}
}
