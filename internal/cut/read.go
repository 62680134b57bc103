package cut

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// Read reads columns cols of row groups rowGroups (nil: all of either) as
// a table, as Arrow's FileReader.ReadRowGroups does, except in the calling
// goroutine: Arrow's reads each column on a goroutine of its own, where a
// panic of its page decoding (its Snappy codec panics on damaged bytes)
// cannot be recovered and ends the process. Here it is an error naming the
// table. Each chunk's pages are checked first, through the buffers of
// ColumnChunk (whose reader and values are then no longer valid). The
// caller releases the table.
func (r *Reader) Read(ctx context.Context, cols, rowGroups []int) (_ arrow.Table, err error) {
	defer r.Damaged(&err)
	if cols == nil {
		cols = make([]int, r.PF.MetaData().Schema.NumColumns())
		for i := range cols {
			cols[i] = i
		}
	}
	if rowGroups == nil {
		rowGroups = make([]int, r.PF.NumRowGroups())
		for i := range rowGroups {
			rowGroups[i] = i
		}
	}
	// Arrow's readers read the pages afresh, with nothing of ours in front
	// of them: each chunk is checked first (pagecheck.go).
	for _, rg := range rowGroups {
		if n := r.PF.MetaData().RowGroup(rg).NumRows(); n < 0 || n > maxRowGroupRows {
			return nil, fmt.Errorf("reading %s: row group %d counts %d rows: its footer is damaged", r.Key, rg, n)
		}
		for _, c := range cols {
			if err := r.checkChunk(rg, c); err != nil {
				return nil, err
			}
		}
	}
	readers, schema, err := r.File.GetFieldReaders(ctx, cols, rowGroups)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", r.Key, err)
	}
	columns := make([]arrow.Column, 0, len(readers))
	defer func() {
		for _, rd := range readers {
			rd.Release()
		}
		for i := range columns {
			columns[i].Release()
		}
	}()
	for i, rd := range readers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := r.File.ReadColumn(rowGroups, rd)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.Key, err)
		}
		columns = append(columns, *arrow.NewColumn(schema.Field(i), data))
		data.Release()
	}
	return array.NewTable(schema, columns, -1), nil
}

// maxRowGroupRows bounds the rows a row group read through Arrow may
// count: Arrow reserves levels and values for a row group's footer count
// before it decodes a page (8 GiB for a damaged count of 10^10). The tools
// write RowGroupRows; this leaves room for other writers' tables.
const maxRowGroupRows = 64 * RowGroupRows
