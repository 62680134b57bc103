package ees

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

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
	cols []Column
	rb   *array.RecordBuilder
	rows int
}

// NewArrowBuilder builds records of Schema(cols).
func NewArrowBuilder(cols []Column, mem memory.Allocator) *ArrowBuilder {
	return &ArrowBuilder{cols: cols, rb: array.NewRecordBuilder(mem, Schema(cols))}
}

// Append adds a valid row.
func (b *ArrowBuilder) Append(fileID string, row *Row) error {
	dflow.AppendLineage(b.rb, fileID, row.Line, 0, row.Ordinal, row.MPAN)
	for i := range b.cols {
		if err := dflow.AppendValue(b.rb.Field(dflow.LineageColumns+i), &b.cols[i].Field, row.Values[i]); err != nil {
			return fmt.Errorf("line %d column %s: %w", row.Line, b.cols[i].Header, err)
		}
	}
	b.rows++
	return nil
}

// Rows is the number of rows buffered.
func (b *ArrowBuilder) Rows() int { return b.rows }

// Record returns the buffered rows as a record (the caller releases it).
func (b *ArrowBuilder) Record() arrow.Record {
	b.rows = 0
	return b.rb.NewRecord()
}

// Release frees the builder.
func (b *ArrowBuilder) Release() { b.rb.Release() }
