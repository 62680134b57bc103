package allocation

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// topUpKeyPrefix marks the keys of the synthetic units' tables: the pack
// builder reads them from the run's spool, beside the store's cuts.
const topUpKeyPrefix = "topup:"

// topUpSources publishes the synthetic units' records as published cuts:
// the generator writes each owner's files (the distributor's D0204, the
// supplier's EES rows, D0302 and D0225, the MOp's D0150 and D0149 or
// D0268) into an inbox in the run's spool (a scratch store: nothing in it
// outlives the run, so nothing is synced), and publishSynthetic reads
// them into the same tables, with the same columns, as datacut run
// publishes (see there). It returns the published versions as sources,
// their table keys under topUpKeyPrefix, and a store that reads them
// beside st.
func topUpSources(ctx context.Context, st store.Store, spool string, p *plan.Plan, defs fs.FS, points []*synth.Point) (store.Store, []universe.Source, error) {
	dir := filepath.Join(spool, "topup")
	ts, err := local.OpenScratch(dir) // removed with the spool
	if err != nil {
		return nil, nil, err
	}
	if err := synth.WritePoints(ctx, ts, p.Seed, points, p.Sources.Cuts); err != nil {
		return nil, nil, fmt.Errorf("top-up: writing the synthetic units' records: %w", err)
	}
	if err := publishSynthetic(ctx, ts, defs, p.Sources.Types, "allocate top-up"); err != nil {
		return nil, nil, fmt.Errorf("top-up: publishing the synthetic units' records: %w", err)
	}
	srcs, _, err := universe.Find(ctx, ts, p.Sources.Types, nil)
	if err != nil {
		return nil, nil, err
	}
	for i := range srcs {
		m := *srcs[i].Manifest
		m.Tables = slices.Clone(m.Tables)
		for j := range m.Tables {
			m.Tables[j].Key = topUpKeyPrefix + m.Tables[j].Key
		}
		srcs[i].Manifest = &m
		srcs[i].Prefix = topUpKeyPrefix + srcs[i].Prefix
	}
	return &overlay{Store: st, extra: ts}, srcs, nil
}

// overlay reads keys under topUpKeyPrefix from extra, the rest from the
// store it embeds.
type overlay struct {
	store.Store
	extra store.Store
}

func (o *overlay) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if k, ok := strings.CutPrefix(key, topUpKeyPrefix); ok {
		return o.extra.Get(ctx, k)
	}
	return o.Store.Get(ctx, key)
}

func (o *overlay) PutFile(ctx context.Context, key, path string) error {
	return store.PutFile(ctx, o.Store, key, path)
}

func (o *overlay) TempDir() string { return store.TempDir(o.Store) }

var _ store.FilePutter = (*overlay)(nil)

// isTopUpSource reports whether a source is the run's synthetic units'.
func isTopUpSource(s universe.Source) bool { return strings.HasPrefix(s.Prefix, topUpKeyPrefix) }

// relink names, in the D0204 related MPANs groups of a real import MPAN
// the run linked a new export MPAN to (Row.NewExport), the pair: the
// Related MPAN Indicator (J2245, group 47M) becomes Y, the Primary MPAN
// (J2243, 48M) the import and the Secondary MPAN (J2244) the export, as
// the export's own D0204 names them. Other rows stay as they are.
func relink(rec arrow.Record, env string, byCore map[uint64]*Row) arrow.Record {
	idx := rec.Schema().FieldIndices(dflow.ColInstanceMPAN)
	if len(idx) != 1 {
		return rec
	}
	cols := map[string]int{}
	for c, f := range rec.Schema().Fields() {
		if ref, _ := f.Metadata.GetValue(dflow.MetaRef); ref == "J2243" || ref == "J2244" || ref == "J2245" {
			cols[ref] = c
		}
	}
	mpans, ok := rec.Column(idx[0]).(*array.String)
	if len(cols) == 0 || !ok {
		return rec
	}
	rowOf := make([]*Row, mpans.Len())
	some := false
	for i := range rowOf {
		if mpans.IsNull(i) {
			continue
		}
		c, _ := universe.ParseCore(mpans.Value(i))
		if r := byCore[c]; r != nil && r.Env == env && r.NewExport != "" {
			rowOf[i], some = r, true
		}
	}
	if !some {
		return rec
	}
	out := append([]arrow.Array(nil), rec.Columns()...)
	for ref, c := range cols {
		vals, isStr := out[c].(*array.String)
		if !isStr {
			continue
		}
		b := array.NewStringBuilder(memory.DefaultAllocator)
		for i := 0; i < vals.Len(); i++ {
			switch r := rowOf[i]; {
			case r != nil && ref == "J2245":
				b.Append("Y")
			case r != nil && ref == "J2243":
				b.Append(r.MPAN)
			case r != nil && ref == "J2244":
				b.Append(r.NewExport)
			case vals.IsNull(i):
				b.AppendNull()
			default:
				b.Append(vals.Value(i))
			}
		}
		out[c] = b.NewArray()
		b.Release()
		defer out[c].Release()
	}
	res := array.NewRecord(rec.Schema(), out, rec.NumRows())
	rec.Release()
	return res
}
