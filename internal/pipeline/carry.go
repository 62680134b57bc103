package pipeline

import (
	"context"
	"errors"
	"io"
	"maps"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/cut"
)

// carry copies the kept parts' rows of the amended version into the new
// one's tables, masked as they are: an amendment needs none of the raw
// files behind them. Each part's rows are a contiguous run in every table
// (cut.Input.Rows, in part order), so the copy is a walk over the tables.
func (r *runner) carry(ctx context.Context, c *cutBuild, base *cut.Manifest, kept []cut.Input) error {
	keep := map[string]bool{}
	for _, in := range kept {
		keep[in.Key] = true
	}
	for _, t := range base.Tables {
		var spans []span // rows of kept parts, in table order
		var off int64
		for _, in := range base.Inputs {
			n := in.Rows[t.Name]
			if keep[in.Key] && n > 0 {
				spans = append(spans, span{off, off + n})
			}
			off += n
		}
		if off != t.Rows {
			return errors.New("version " + t.Name + " table's rows do not add up to its parts' rows: send a full submission")
		}
		if len(spans) > 0 {
			if err := r.copySpans(ctx, c, t, spans); err != nil {
				return err
			}
		}
	}
	for _, in := range kept {
		in.Rows = maps.Clone(in.Rows)
		c.m.Inputs = append(c.m.Inputs, in)
		c.m.Counts["instances"] += in.Instances
		c.m.Counts["published"] += in.Instances - in.Rejected
		c.m.Rejected.Count += in.Rejected
		for rule, n := range in.ByRule {
			c.m.Rejected.ByRule[rule] += n
		}
	}
	for _, x := range base.Rejected.Instances {
		if keep[x.Input] && len(c.m.Rejected.Instances) < cut.MaxListedRejections {
			c.m.Rejected.Instances = append(c.m.Rejected.Instances, x)
		}
	}
	return c.tw.barrier()
}

type span struct{ lo, hi int64 }

// plainSchema drops the field ids Parquet readers add to each field's
// metadata, so carried rows have the schema the table was stored with.
func plainSchema(s *arrow.Schema) *arrow.Schema {
	fields := make([]arrow.Field, s.NumFields())
	for i, f := range s.Fields() {
		var keys, vals []string
		for j, k := range f.Metadata.Keys() {
			if k != "PARQUET:field_id" {
				keys, vals = append(keys, k), append(vals, f.Metadata.Values()[j])
			}
		}
		f.Metadata = arrow.NewMetadata(keys, vals)
		fields[i] = f
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

// copySpans sends the rows of table t within spans to the new version's
// table of the same name.
func (r *runner) copySpans(ctx context.Context, c *cutBuild, t cut.Table, spans []span) error {
	tr, err := cut.OpenTable(ctx, r.opt.Store, t.Key, r.opt.Mem, pqarrow.ArrowReadProperties{BatchSize: batchRows})
	if err != nil {
		return err
	}
	defer tr.Close()
	rr, err := tr.File.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return err
	}
	defer rr.Release()
	schema := plainSchema(rr.Schema())
	var at int64 // the table row of the batch's first row
	for rr.Next() {
		rec := rr.Record()
		n := rec.NumRows()
		for _, s := range spans {
			lo, hi := max(s.lo, at), min(s.hi, at+n)
			if lo < hi {
				part := rec.NewSlice(lo-at, hi-at)
				c.tw.sendMasked(t.Name, array.NewRecord(schema, part.Columns(), part.NumRows()))
				part.Release()
			}
		}
		at += n
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return ctx.Err()
}
