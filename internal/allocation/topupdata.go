package allocation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing/fstest"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// topUpKeyPrefix marks the keys of the synthetic units' tables: the pack
// builder reads them from the run's spool, beside the store's cuts.
const topUpKeyPrefix = "topup:"

// topUpSources publishes the synthetic units' records the way a
// participant's cut is published: the generator writes each owner's
// files (the distributor's D0204, the supplier's EES rows, D0302 and
// D0225, the MOp's D0150 and D0149 or D0268) into an inbox in the run's
// spool, and datacut's pipelines read, validate and mask them into the
// same tables, with the same columns, as the published cuts. Identifiers
// and personal data come out of the masking methods, with a key of the
// plan's own (from its name and seed), so they look like the rest; MPAN
// cores are kept, being the synthetic cores already. It returns the
// published versions as sources, their table keys under topUpKeyPrefix,
// and a store that reads them beside st.
func topUpSources(ctx context.Context, st store.Store, spool string, p *plan.Plan, defs fs.FS, points []*synth.Point) (store.Store, []universe.Source, error) {
	dir := filepath.Join(spool, "topup")
	ts, err := local.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	if err := synth.WritePoints(ctx, ts, p.Seed, points, p.Sources.Cuts); err != nil {
		return nil, nil, fmt.Errorf("top-up: writing the synthetic units' records: %w", err)
	}
	kept, err := keepMPANs(defs, p)
	if err != nil {
		return nil, nil, err
	}
	set, err := pipeline.Load(kept)
	if err != nil {
		return nil, nil, fmt.Errorf("top-up: loading the pipelines: %w", err)
	}
	sum, err := pipeline.Run(ctx, pipeline.Options{Store: ts, Pipelines: set, Key: topUpKey(p), Log: zerolog.Nop(), Tool: "allocate top-up", Workers: 1})
	if err != nil {
		return nil, nil, fmt.Errorf("top-up: publishing the synthetic units' records: %w", err)
	}
	if rejected, quarantined := sum.Totals(); rejected+quarantined > 0 {
		return nil, nil, fmt.Errorf("top-up: the synthetic units' records did not pass validation (%d instances rejected, %d files quarantined): a fault of the generator, please report it", rejected, quarantined)
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

// topUpKey is the plan's own mask key for the synthetic units: from its
// name and seed, so the same plan masks its units alike in every run. It
// protects nothing (the units are made up); it makes them look masked.
func topUpKey(p *plan.Plan) mask.Key {
	h := sha256.Sum256([]byte(fmt.Sprintf("datacut top-up key\nplan %s\nseed %d\n", p.Name, p.Seed)))
	k, err := mask.ParseKey(hex.EncodeToString(h[:]))
	for n := 0; err != nil; n++ { // a hash this weak is all but impossible
		h = sha256.Sum256(append(h[:], byte(n)))
		k, err = mask.ParseKey(hex.EncodeToString(h[:]))
	}
	return k
}

// mpanDomain is the DPIA rules' MPAN domain line.
var mpanDomain = regexp.MustCompile(`(?m)^(\s*mpan:\s*)\{\s*method:\s*mpan\s*\}`)

// keepMPANs is the definitions with the rule sets of the plan's source cut
// types keeping MPAN cores as they are (every other item masked as
// before): a synthetic core is already what a masked one looks like; and
// without the programme register.
func keepMPANs(defs fs.FS, p *plan.Plan) (fs.FS, error) {
	out := fstest.MapFS{}
	err := fs.WalkDir(defs, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(defs, path)
		if err != nil {
			return err
		}
		out[path] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("top-up: reading the definitions: %w", err)
	}
	// The programme register says who may send which cut: the synthetic
	// units' senders are the plan's and the universe's participants, not
	// necessarily registered ones.
	delete(out, programme.File)
	done := map[string]bool{}
	for _, t := range p.Sources.Types {
		f := out[t.Rules]
		if f == nil || done[t.Rules] {
			continue
		}
		done[t.Rules] = true
		if !mpanDomain.Match(f.Data) {
			return nil, fmt.Errorf("top-up: the rule set %s has no line 'mpan: {method: mpan}': synthetic MPAN cores need it to keep them", t.Rules)
		}
		out[t.Rules] = &fstest.MapFile{Data: mpanDomain.ReplaceAll(f.Data, []byte("${1}{method: keep}"))}
	}
	return out, nil
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
