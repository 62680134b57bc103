package allocation

import (
	"context"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// addSelection picks a pack's add-pack rows: those of the MPANs added since
// the run before, and the context records (a D0204 file sequence, say) the
// rows hang under. Tables must be filtered rows first, then contexts,
// deepest first, as a pack's tables are collected.
type addSelection struct {
	added   map[uint64]bool
	parents map[parentKey]bool
}

func newAddSelection(added []string) *addSelection {
	s := &addSelection{added: map[uint64]bool{}, parents: map[parentKey]bool{}}
	for _, m := range added {
		if c, ok := universe.ParseCore(m); ok {
			s.added[c] = true
		}
	}
	return s
}

// filter passes on the rows of src that the add-pack holds: of a context
// group, the records above a chosen row; of any other table (EES
// included), the rows of an added MPAN.
func (s *addSelection) filter(g *dflow.Group, src dflow.RecordSource) dflow.RecordSource {
	isContext := g != nil && g.Context()
	underContext := g != nil && g.ParentG != nil && g.ParentG.Context()
	return func() (arrow.Record, error) {
		for {
			rec, err := src()
			if err != nil || rec == nil {
				return nil, err
			}
			var rows []int32
			files, _ := rec.Column(0).(*array.String)
			lines, _ := rec.Column(1).(*array.Int64)
			parents, _ := rec.Column(2).(*array.Int64)
			var mpans *array.String
			if idx := rec.Schema().FieldIndices(dflow.ColInstanceMPAN); len(idx) == 1 {
				mpans, _ = rec.Column(idx[0]).(*array.String)
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				keep := false
				if isContext {
					keep = s.parents[parentKey{files.Value(i), lines.Value(i)}]
				} else if mpans != nil && !mpans.IsNull(i) {
					c, _ := universe.ParseCore(mpans.Value(i))
					keep = s.added[c]
				}
				if !keep {
					continue
				}
				rows = append(rows, int32(i))
				if (isContext || underContext) && !parents.IsNull(i) {
					s.parents[parentKey{files.Value(i), parents.Value(i)}] = true
				}
			}
			if len(rows) == 0 {
				rec.Release()
				continue
			}
			if len(rows) == int(rec.NumRows()) {
				return rec, nil // every row: rec itself
			}
			kept, err := takeIndices(context.Background(), rec, rows)
			rec.Release()
			return kept, err
		}
	}
}
