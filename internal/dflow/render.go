package dflow

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// RenderTables writes the rows of a flow's group tables (records with
// Group.Schema columns, as ArrowBuilder makes them) back into a D-flow body,
// merging the groups in (source file id, record line) order. Each group's
// records must already be in that order. Memory is constant: rows stream
// from the records as they are.
func RenderTables(w *Writer, flow *Flow, tables map[string][]arrow.Record) error {
	var cur []*cursor
	for code, recs := range tables {
		g := flow.Group(code)
		if g == nil {
			return fmt.Errorf("rendering %s: group %s is not part of the flow", flow.Key(), code)
		}
		c := &cursor{g: g, recs: recs, ri: -1}
		if err := c.next(); err != nil {
			return err
		}
		if !c.done() {
			cur = append(cur, c)
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
		rec := c.recs[c.ri]
		buf, fields = buf[:0], fields[:0]
		offs := make([]int, 0, len(c.g.Fields)+1)
		for i := range c.g.Fields {
			offs = append(offs, len(buf))
			buf = AppendText(buf, rec.Column(lineageCols+i), c.row)
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
	recs     []arrow.Record
	ri, row  int
	file     string
	line     int64
	prevFile string
	prevLine int64
}

func (c *cursor) done() bool { return c.ri >= len(c.recs) }

// next advances to the following row, skipping empty records.
func (c *cursor) next() error {
	c.row++
	for c.ri < 0 || (c.ri < len(c.recs) && c.row >= int(c.recs[c.ri].NumRows())) {
		c.ri, c.row = c.ri+1, 0
		if c.ri < len(c.recs) {
			if err := checkSchema(c.g, c.recs[c.ri].Schema()); err != nil {
				return err
			}
		}
	}
	if c.done() {
		return nil
	}
	rec := c.recs[c.ri]
	c.prevFile, c.prevLine = c.file, c.line
	c.file = rec.Column(0).(*array.String).Value(c.row)
	c.line = rec.Column(1).(*array.Int64).Value(c.row)
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
