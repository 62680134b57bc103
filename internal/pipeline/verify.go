package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/table"
)

// ReadManifest loads a published cut's manifest.
func ReadManifest(ctx context.Context, st store.Store, prefix string) (*Manifest, error) {
	b, err := store.ReadAll(ctx, st, strings.TrimSuffix(prefix, "/")+"/manifest.json")
	if err != nil {
		return nil, fmt.Errorf("reading the cut's manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decoding the manifest: %w", err)
	}
	return &m, nil
}

// Verify is the DPIA leak check on a published cut: it walks the raw input
// files (still in raw, e.g. kept with --keep-raw) beside the published
// tables, row by row, and counts every sensitive value that came through
// unchanged. Tables are read with Arrow's Parquet reader, one row group at a
// time, so memory stays bounded.
func Verify(ctx context.Context, st store.Store, prefix string, d *Definition, raw store.Store, mem memory.Allocator) (mask.LeakReport, error) {
	rep := mask.LeakReport{ByItem: map[string]int{}}
	m, err := ReadManifest(ctx, st, prefix)
	if err != nil {
		return rep, err
	}
	if m.Rules.Hash != d.rules.Hash {
		return rep, fmt.Errorf("the cut was masked with rules %s (%s), not the ones given (%s)", m.Rules.Version, m.Rules.Hash, d.rules.Hash)
	}
	cursors := map[string]*tableCursor{}
	defer func() {
		for _, c := range cursors {
			c.close()
		}
	}()
	for _, t := range m.Tables {
		c, err := openTable(ctx, st, t.Key, mem)
		if err != nil {
			return rep, err
		}
		cursors[t.Name] = c
	}
	constant := func(ref string) bool {
		r := d.rules.Items[ref]
		return r != nil && r.Domain.Method == mask.MethodConstant
	}
	check := func(ref string, rawV []byte, col arrow.Array, row int, buf []byte) []byte {
		if len(rawV) == 0 || !d.rules.Sensitive(ref) {
			return buf
		}
		rep.Checked++
		buf = dflow.AppendText(buf[:0], col, row)
		if string(buf) == string(rawV) && !constant(ref) {
			rep.Leaks++
			rep.ByItem[ref]++
		}
		return buf
	}
	var buf []byte
	for _, in := range m.Inputs {
		rc, err := raw.Get(ctx, in.Key)
		if err != nil {
			return rep, fmt.Errorf("raw input %s (run with --keep-raw to verify later): %w", in.Key, err)
		}
		if d.Input.Format == FormatEESCSV {
			err = verifyEES(d, in.Key, rc, cursors, func(c *ees.Column, v []byte, col arrow.Array, row int) {
				buf = check(c.Field.Ref, v, col, row, buf)
			}, &rep)
		} else {
			err = verifyDFlow(in.Key, rc, cursors, func(ref string, v []byte, col arrow.Array, row int) {
				buf = check(ref, v, col, row, buf)
			}, &rep)
		}
		rc.Close()
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func verifyDFlow(key string, rc io.Reader, cursors map[string]*tableCursor, check func(string, []byte, arrow.Array, int), rep *mask.LeakReport) error {
	rd := dflow.NewReader(rc, key, dflow.Options{})
	h, err := rd.Header()
	if err != nil {
		return err
	}
	for {
		inst, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if inst.Rejected() {
			continue
		}
		for _, rec := range inst.Records {
			c := cursors[TableName(rec.Group)]
			if c == nil {
				return fmt.Errorf("%s line %d: no table %s in the cut", key, rec.Line, TableName(rec.Group))
			}
			r, row, err := c.next(h.FileID, rec.Line)
			if err != nil {
				return err
			}
			rep.Records++
			for i, v := range rec.Fields {
				check(rec.Group.Fields[i].Ref, v, r.Column(dflow.LineageColumns+i), row)
			}
		}
	}
}

func verifyEES(d *Definition, key string, rc io.Reader, cursors map[string]*tableCursor, check func(*ees.Column, []byte, arrow.Array, int), rep *mask.LeakReport) error {
	rd := ees.NewReader(rc, key, d.columns, d.resolve)
	cols, err := rd.Columns()
	if err != nil {
		return err
	}
	c := cursors[ees.Table]
	name := key[strings.LastIndexByte(key, '/')+1:]
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if row.Rejected() {
			continue
		}
		if c == nil {
			return fmt.Errorf("no table %s in the cut", ees.Table)
		}
		r, i, err := c.next(name, row.Line)
		if err != nil {
			return err
		}
		rep.Records++
		for j := range cols {
			check(&cols[j], row.Values[j], r.Column(dflow.LineageColumns+j), i)
		}
	}
}

// tableCursor walks a Parquet table's rows in order.
type tableCursor struct {
	key string
	t   *table.Reader
	rr  pqarrow.RecordReader
	rec arrow.Record
	row int
}

func openTable(ctx context.Context, st store.Store, key string, mem memory.Allocator) (*tableCursor, error) {
	t, err := table.Open(ctx, st, key, mem, pqarrow.ArrowReadProperties{BatchSize: 8192})
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
