package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Verify is the DPIA leak check on a published cut: it walks the raw input
// files (still in raw, e.g. kept with --keep-raw) beside the published
// tables, row by row, and counts every sensitive value that came through
// unchanged. Tables are read with Arrow's Parquet reader, one row group at a
// time, so memory stays bounded.
func Verify(ctx context.Context, st store.Store, prefix string, d *Definition, raw store.Store, mem memory.Allocator) (mask.LeakReport, error) {
	v := &verifier{def: d, cursors: map[string]*tableCursor{}, rep: mask.LeakReport{ByItem: map[string]int{}}}
	defer v.close()
	m, err := cut.ReadManifest(ctx, st, prefix)
	if err != nil {
		return v.rep, err
	}
	if m.Rules.Hash != d.rules.Hash {
		return v.rep, fmt.Errorf("the cut was masked with rules %s (%s), not the ones given (%s)", m.Rules.Version, m.Rules.Hash, d.rules.Hash)
	}
	for _, t := range m.Tables {
		c, err := openCursor(ctx, st, t.Key, mem)
		if err != nil {
			return v.rep, err
		}
		v.cursors[t.Name] = c
	}
	for _, in := range m.Inputs {
		rc, err := raw.Get(ctx, in.Key)
		if err != nil {
			return v.rep, fmt.Errorf("raw input %s (run with --keep-raw to verify later): %w", in.Key, err)
		}
		err = d.in.verify(v, in.Key, rc)
		rc.Close()
		if err != nil {
			return v.rep, err
		}
	}
	return v.rep, nil
}

// verifier holds a leak check's open tables and its count.
type verifier struct {
	def     *Definition
	cursors map[string]*tableCursor
	rep     mask.LeakReport
	buf     []byte
	// collect, when set, is handed every sensitive raw value, rejected
	// instances' too, instead of comparing it with a table (the check of
	// texts: no table is read).
	collect func(ref string, raw []byte)
}

// next finds the table row published from the raw file's line, counting
// it as checked.
func (v *verifier) next(table, key, fileID string, line int) (arrow.Record, int, error) {
	if v.collect != nil {
		return nil, 0, nil
	}
	c := v.cursors[table]
	if c == nil {
		return nil, 0, fmt.Errorf("%s line %d: no table %s in the cut", key, line, table)
	}
	v.rep.Records++
	return c.next(fileID, line)
}

// check compares a raw value with its published form, column col of rec
// (from next): a sensitive value that came through unchanged is a leak (a
// constant may equal its input).
func (v *verifier) check(ref string, raw []byte, rec arrow.Record, col, row int) {
	rules := v.def.rules
	if len(raw) == 0 || !rules.Sensitive(ref) {
		return
	}
	if v.collect != nil {
		v.collect(ref, raw)
		return
	}
	v.rep.Checked++
	v.buf = dflow.AppendText(v.buf[:0], rec.Column(col), row)
	if string(v.buf) == string(raw) && !v.constant(ref) {
		v.rep.Leaks++
		v.rep.ByItem[ref]++
	}
}

func (v *verifier) constant(ref string) bool {
	r := v.def.rules.Items[ref]
	return r != nil && r.Domain.Method == mask.MethodConstant
}

func (v *verifier) close() {
	for _, c := range v.cursors {
		c.close()
	}
}

// tableCursor walks a Parquet table's rows in order.
type tableCursor struct {
	key string
	t   *cut.Reader
	rr  pqarrow.RecordReader
	rec arrow.Record
	row int
}

func openCursor(ctx context.Context, st store.Store, key string, mem memory.Allocator) (*tableCursor, error) {
	t, err := cut.OpenTable(ctx, st, key, mem, pqarrow.ArrowReadProperties{BatchSize: 8192})
	if err != nil {
		return nil, err
	}
	rr, err := t.File.GetRecordReader(ctx, nil, nil)
	if err != nil {
		t.Close()
		return nil, err
	}
	return &tableCursor{key: key, t: t, rr: rr, row: -1}, nil
}

// next returns the record and row of the table's next row, which must be
// the given file and line.
func (c *tableCursor) next(fileID string, line int) (arrow.Record, int, error) {
	c.row++
	for c.rec == nil || c.row >= int(c.rec.NumRows()) {
		if !c.rr.Next() {
			if err := c.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				return nil, 0, err
			}
			return nil, 0, fmt.Errorf("table %s ends before %s line %d: the cut does not match its raw inputs", c.key, fileID, line)
		}
		c.rec, c.row = c.rr.Record(), 0
	}
	gotFile := c.rec.Column(0).(*array.String).Value(c.row)
	gotLine := c.rec.Column(1).(*array.Int64).Value(c.row)
	if gotFile != fileID || gotLine != int64(line) {
		return nil, 0, fmt.Errorf("table %s row is %s line %d, raw is %s line %d: the cut does not match its raw inputs", c.key, gotFile, gotLine, fileID, line)
	}
	return c.rec, c.row, nil
}

func (c *tableCursor) close() {
	c.rr.Release()
	c.t.Close()
}
