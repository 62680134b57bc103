package allocation

import (
	"context"
	"encoding/csv"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/plan"
)

// eesLayout is an EES cut type's column mapping: the header names of the
// CSV a pack renders its EES rows as, in the mapping's order.
type eesLayout struct {
	headers []string
}

// eesLayouts reads the column mapping of every EES source cut type of the
// plan (input.columns, relative to the definitions directory).
func eesLayouts(defs fs.FS, p *plan.Plan) (map[string]*eesLayout, error) {
	out := map[string]*eesLayout{}
	for _, t := range p.Sources.Types {
		if t.Input.Format != "ees-csv" {
			continue
		}
		cols, err := ees.LoadColumnsFS(defs, t.Input.Columns, dflow.DefaultCatalog())
		if err != nil {
			return nil, fmt.Errorf("cut type %s: %w", t.Name, err)
		}
		out[t.Name] = &eesLayout{headers: cols.Order}
	}
	return out, nil
}

// writeEES renders a pack's EES table (the Parquet file f just stored) as
// an EES portfolio export beside it: the mapping's header names in its
// order (a column the table lacks is empty), dates dd/mm/yyyy and
// booleans true/false as the export writes them, so the file reads back
// through the EES reader (datacut validate --format ees) to the same rows.
func (pk *pack) writeEES(ctx context.Context, pr *packRun, spool string, f PackFile, next dflow.RecordSource) error {
	lay := pr.ees[f.Cut]
	if lay == nil {
		return nil // not an EES cut type of the plan's sources
	}
	var at []int // header → column, -1 if none
	path := filepath.Join(spool, "pack.csv")
	var rows int64
	var rerr error
	err := writeCSV(path, func(w *csv.Writer) {
		_ = w.Write(lay.headers)
		line := make([]string, len(lay.headers))
		var buf []byte
		for {
			r, err := next()
			if err != nil || r == nil {
				rerr = err
				return
			}
			if at == nil {
				at = make([]int, len(lay.headers))
				for i, h := range lay.headers {
					at[i] = -1
					if idx := r.Schema().FieldIndices(dflow.ColumnName(h)); len(idx) == 1 {
						at[i] = idx[0]
					}
				}
			}
			for i := 0; i < int(r.NumRows()); i++ {
				for j, c := range at {
					line[j] = ""
					if c < 0 {
						continue
					}
					buf = eesText(buf[:0], r.Column(c), i)
					line[j] = string(buf)
				}
				_ = w.Write(line)
				rows++
			}
			r.Release()
		}
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	f.Name, f.Format, f.Rows = strings.TrimSuffix(f.Name, ".parquet")+".csv", FormatEESCSV, rows
	f.rank[2] = 0 // before the Parquet table: the EES CSV is the export's own format
	return pk.put(ctx, pr, path, f)
}

// eesText renders a value as the EES export writes it.
func eesText(dst []byte, col arrow.Array, i int) []byte {
	if col.IsNull(i) {
		return dst
	}
	switch a := col.(type) {
	case *array.Date32:
		return a.Value(i).ToTime().AppendFormat(dst, "02/01/2006")
	case *array.Boolean:
		if a.Value(i) {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	}
	return dflow.AppendText(dst, col, i)
}
