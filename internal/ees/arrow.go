package ees

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/mhhs-sit/datacut/internal/columns"
	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Table is the name of the table EES rows go to.
const Table = "ees_portfolio"

// Schema is the EES table's schema for the file's columns.
func Schema(cols []Column) *arrow.Schema {
	names := make([]string, len(cols))
	fields := make([]dflow.Field, len(cols))
	for i, c := range cols {
		names[i], fields[i] = c.Name, c.Field
	}
	return dflow.TableSchema(names, fields, arrow.NewMetadata([]string{dflow.MetaFlow}, []string{"EES"}))
}

// ArrowBuilder collects valid rows into Arrow records.
type ArrowBuilder struct {
	cols   []Column
	tb     *dflow.TableBuilder
	date32 []bool // per column: a date32 column, filled from the row's day numbers
}

// NewArrowBuilder builds records of Schema(cols).
func NewArrowBuilder(cols []Column) *ArrowBuilder {
	b := &ArrowBuilder{cols: cols, tb: dflow.NewTableBuilder(Schema(cols)), date32: make([]bool, len(cols))}
	for i, c := range b.tb.Columns()[dflow.LineageColumns:] {
		b.date32[i] = c.ID() == arrow.DATE32
	}
	return b
}

// Append adds a valid row.
func (b *ArrowBuilder) Append(fileID string, row *Row) error {
	cols := b.tb.Columns()
	dflow.AppendLineage(cols, fileID, row.Line, 0, row.Ordinal, row.MPAN)
	dated := len(row.dated) == len(b.cols)
	for i := range b.cols {
		if dated && row.dated[i] && b.date32[i] {
			cols[dflow.LineageColumns+i].Int32(row.days[i])
			continue
		}
		if err := dflow.AppendValue(cols[dflow.LineageColumns+i], &b.cols[i].Field, row.Values[i]); err != nil {
			return fmt.Errorf("line %d column %s: %w", row.Line, b.cols[i].Header, err)
		}
	}
	return nil
}

// Sizes is what a builder has learnt of its columns' sizes, by name.
type Sizes struct {
	names []string
	cols  []columns.Sizes
}

// Empty says whether s knows of no column.
func (s Sizes) Empty() bool { return len(s.cols) == 0 }

// Sizes returns the sizes b's columns would start their next batch at.
func (b *ArrowBuilder) Sizes() Sizes {
	cols, fields := b.tb.Columns(), b.tb.Schema().Fields()
	s := Sizes{names: make([]string, len(cols)), cols: make([]columns.Sizes, len(cols))}
	for i, c := range cols {
		s.names[i], s.cols[i] = fields[i].Name, c.Sizes()
	}
	return s
}

// SizeLike starts b's buffers at the sizes s gives, column by column where
// their names are the same, rather than growing them from nothing (s: the
// sizes of the builder of the cut's previous file; the zero Sizes: none).
func (b *ArrowBuilder) SizeLike(s Sizes) {
	cols, fields := b.tb.Columns(), b.tb.Schema().Fields()
	for i := range min(len(cols), len(s.cols)) {
		if fields[i].Name == s.names[i] {
			cols[i].SizeLike(s.cols[i])
		}
	}
}

// Rows is the number of rows buffered.
func (b *ArrowBuilder) Rows() int { return b.tb.Rows() }

// Record returns the buffered rows as a record (the caller releases it).
func (b *ArrowBuilder) Record() arrow.Record { return b.tb.NewRecord() }

// Release drops rows not yet taken.
func (b *ArrowBuilder) Release() { b.tb.Release() }
