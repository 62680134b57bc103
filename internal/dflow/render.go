package dflow

import (
	"fmt"
	"sort"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// RenderTables writes the rows of a flow's group tables (records with
// Group.Schema columns, as ArrowBuilder makes them) back into a D-flow body,
// merging the groups in (source file id, record line) order. Each group's
// records must already be in that order.
func RenderTables(w *Writer, flow *Flow, tables map[string][]arrow.Record) error {
	sources := make(map[string]RecordSource, len(tables))
	for code, recs := range tables {
		sources[code] = Records(recs)
	}
	return RenderStream(w, flow, sources)
}

// A RecordSource yields a group's records one after another, nil after the
// last. The renderer releases each record it is given.
type RecordSource func() (arrow.Record, error)

// Records is a RecordSource over records held in memory (each retained as
// it is handed out).
func Records(recs []arrow.Record) RecordSource {
	return func() (arrow.Record, error) {
		if len(recs) == 0 {
			return nil, nil
		}
		r := recs[0]
		recs = recs[1:]
		r.Retain()
		return r, nil
	}
}

// RenderStream is RenderTables over record sources: it holds one record per
// group at a time, so its memory does not grow with the rows rendered.
func RenderStream(w *Writer, flow *Flow, groups map[string]RecordSource) error {
	var cur []*cursor
	defer func() {
		for _, c := range cur {
			c.release()
		}
	}()
	codes := make([]string, 0, len(groups))
	for code := range groups {
		codes = append(codes, code)
	}
	sort.Strings(codes) // ties cannot happen (one line, one group); the order only fixes the work done
	for _, code := range codes {
		g := flow.Group(code)
		if g == nil {
			return fmt.Errorf("rendering %s: group %s is not part of the flow", flow.Key(), code)
		}
		c := &cursor{g: g, src: groups[code]}
		cur = append(cur, c)
		if err := c.next(); err != nil {
			return err
		}
		if c.done() {
			cur = cur[:len(cur)-1]
		}
	}
	var fields [][]byte
	var buf []byte
	for len(cur) > 0 {
		best := 0
		for i := 1; i < len(cur); i++ {
			if cur[i].less(cur[best]) {
				best = i
			}
		}
		c := cur[best]
		buf, fields = buf[:0], fields[:0]
		offs := make([]int, 0, len(c.g.Fields)+1)
		for i := range c.g.Fields {
			offs = append(offs, len(buf))
			buf = AppendText(buf, c.rec.Column(lineageCols+i), c.row)
		}
		offs = append(offs, len(buf))
		for i := range c.g.Fields {
			fields = append(fields, buf[offs[i]:offs[i+1]])
		}
		if err := w.Write(c.g, fields); err != nil {
			return err
		}
		if err := c.next(); err != nil {
			return err
		}
		if c.done() {
			cur = append(cur[:best], cur[best+1:]...)
		}
	}
	return nil
}

type cursor struct {
	g        *Group
	src      RecordSource
	rec      arrow.Record // nil once the source is exhausted
	row      int
	started  bool
	file     string
	line     int64
	prevFile string
	prevLine int64
}

func (c *cursor) done() bool { return c.started && c.rec == nil }

func (c *cursor) release() {
	if c.rec != nil {
		c.rec.Release()
		c.rec = nil
	}
}

// next advances to the following row, skipping empty records.
func (c *cursor) next() error {
	c.row++
	for !c.started || (c.rec != nil && c.row >= int(c.rec.NumRows())) {
		c.started = true
		c.release()
		rec, err := c.src()
		if err != nil {
			return fmt.Errorf("rendering %s group %s: %w", c.g.Flow.Key(), c.g.Code, err)
		}
		if rec == nil {
			return nil
		}
		c.rec, c.row = rec, 0
		if err := checkSchema(c.g, rec.Schema()); err != nil {
			return err
		}
	}
	if c.done() {
		return nil
	}
	c.prevFile, c.prevLine = c.file, c.line
	c.file = c.rec.Column(0).(*array.String).Value(c.row)
	c.line = c.rec.Column(1).(*array.Int64).Value(c.row)
	if c.file < c.prevFile || (c.file == c.prevFile && c.line <= c.prevLine && c.prevLine != 0) {
		return fmt.Errorf("rendering %s group %s: rows are not in (source file, line) order at line %d", c.g.Flow.Key(), c.g.Code, c.line)
	}
	return nil
}

func (c *cursor) less(o *cursor) bool {
	if c.file != o.file {
		return c.file < o.file
	}
	return c.line < o.line
}

func checkSchema(g *Group, s *arrow.Schema) error {
	want := g.Schema()
	if s.NumFields() != want.NumFields() {
		return fmt.Errorf("rendering group %s: table has %d columns, want %d", g.Code, s.NumFields(), want.NumFields())
	}
	for i, f := range want.Fields() {
		if got := s.Field(i); got.Name != f.Name || !arrow.TypeEqual(got.Type, f.Type) {
			return fmt.Errorf("rendering group %s: column %d is %s %s, want %s %s", g.Code, i, got.Name, got.Type, f.Name, f.Type)
		}
	}
	return nil
}
