package synth

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/store"
)

// UniverseCutsOptions say which market WriteUniverseCuts writes.
type UniverseCutsOptions struct {
	MPANs int    // MPANs in the market
	Seed  uint64 // the same seed and size give the same market
	Tool  string // the manifests' tool (default "allocate synth-cuts")
}

// UniverseCutsSummary is what WriteUniverseCuts wrote.
type UniverseCutsSummary struct {
	MPANs   int
	Tables  int // one per cut, each with its manifest
	Seconds float64
}

// The published cuts WriteUniverseCuts writes: the cut types and tables the
// universe reads its attributes and links from.
const (
	universeEESCut   = "ees"
	universeEESTable = "ees_portfolio"
	universeRegCut   = "registration"
	universeRegTable = "d0204_48m"
)

// eesColumns are the ees_portfolio columns the universe reads, each with
// the DTC data item it carries: their field metadata is a real cut's, so
// cut's writer dictionary-encodes the same short codes.
var eesColumns = []struct{ name, ref string }{
	{"mpan_core", "J0003"}, {"market_segment_indicator", "J2329"}, {"gsp_group", "J0066"},
	{"measurement_class", "J0082"}, {"pc", "J0071"}, {"energisation_status", "J0080"},
	{"domestic_premises_indicator", "J2251"}, {"meter_type", "J0483"}, {"supplier", "J0084"},
	{"mop", "J0178"}, {"dc", "J0205"}, {"da", "J0183"},
}

func eesSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(eesColumns))
	for i, c := range eesColumns {
		it := dflow.DefaultCatalog().Item(c.ref)
		t := arrow.DataType(arrow.BinaryTypes.String)
		if it.Type == dflow.TypeBool {
			t = arrow.FixedWidthTypes.Boolean
		}
		fields[i] = arrow.Field{Name: c.name, Type: t, Nullable: true,
			Metadata: arrow.NewMetadata([]string{dflow.MetaRef, dflow.MetaName, dflow.MetaFormat}, []string{it.Ref, it.Name, it.Format.String()})}
	}
	return arrow.NewSchema(fields, nil)
}

func linkSchema() *arrow.Schema {
	str := arrow.BinaryTypes.String
	return arrow.NewSchema([]arrow.Field{{Name: dflow.ColInstanceMPAN, Type: str}, {Name: "primary_mpan", Type: str}, {Name: "secondary_mpan", Type: str}}, nil)
}

// universeTable is one cut's table being written by several generators.
type universeTable struct {
	mu        sync.Mutex
	cut, mpid string
	*cut.TableFile
}

// WriteUniverseCuts writes a synthetic market straight as published cuts
// (an ees cut per supplier with the columns the universe reads, a
// registration cut per distributor with D0204 related MPANs), each with its
// manifest, under the keys of internal/cut. It is for measuring the
// allocator at national scale without generating and parsing 30 GB of
// D-flows first: the cuts are unmasked and hold only what the universe
// reads.
func WriteUniverseCuts(ctx context.Context, st store.Store, o UniverseCutsOptions) (*UniverseCutsSummary, error) {
	if o.MPANs <= 0 {
		return nil, fmt.Errorf("a market needs MPANs (got %d)", o.MPANs)
	}
	if o.Tool == "" {
		o.Tool = "allocate synth-cuts"
	}
	spool, err := os.MkdirTemp(store.TempDir(st), "synth-cuts-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(spool)
	ees, links := eesSchema(), linkSchema()
	tables := map[string]*universeTable{}
	var tmu sync.Mutex
	get := func(cutType, mpid, name string, schema *arrow.Schema) (*universeTable, error) {
		tmu.Lock()
		defer tmu.Unlock()
		k := cutType + "/" + mpid
		if t := tables[k]; t != nil {
			return t, nil
		}
		tf, err := cut.CreateTableFile(spool, name, schema, nil, o.Tool)
		if err != nil {
			return nil, err
		}
		t := &universeTable{cut: cutType, mpid: mpid, TableFile: tf}
		tables[k] = t
		return t, nil
	}
	defer func() {
		for _, t := range tables {
			t.Discard() // what was not published
		}
	}()
	const chunk = 250_000
	started := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for from := 0; from < o.MPANs; from += chunk {
		from, to := from, min(o.MPANs, from+chunk)
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			eesB := map[string]*array.RecordBuilder{}
			linkB := map[string]*array.RecordBuilder{}
			Points(o.MPANs, o.Seed, from, to, func(p *Point) {
				b := eesB[p.Supplier.MPID]
				if b == nil {
					b = array.NewRecordBuilder(memory.DefaultAllocator, ees)
					eesB[p.Supplier.MPID] = b
				}
				appendEES(b, p)
				l := linkB[p.Distributor]
				if l == nil {
					l = array.NewRecordBuilder(memory.DefaultAllocator, links)
					linkB[p.Distributor] = l
				}
				appendLink(l, p)
			})
			flush := func(cutType, name string, m map[string]*array.RecordBuilder, schema *arrow.Schema) error {
				for mpid, b := range m {
					rec := b.NewRecord()
					b.Release()
					t, err := get(cutType, mpid, name, schema)
					if err == nil {
						t.mu.Lock()
						err = t.Write(rec)
						t.mu.Unlock()
					}
					rec.Release()
					if err != nil {
						return err
					}
				}
				return nil
			}
			if err := flush(universeEESCut, universeEESTable, eesB, ees); err != nil {
				return err
			}
			return flush(universeRegCut, universeRegTable, linkB, links)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	id := fmt.Sprintf("synth%011d", o.MPANs)
	for _, t := range tables {
		if err := publishUniverseTable(ctx, st, t, id, o.Tool); err != nil {
			return nil, err
		}
	}
	return &UniverseCutsSummary{MPANs: o.MPANs, Tables: len(tables), Seconds: time.Since(started).Seconds()}, nil
}

// appendEES adds the point's row to an ees_portfolio builder (eesColumns).
func appendEES(b *array.RecordBuilder, p *Point) {
	energised, meter := "E", ""
	if !p.Energised {
		energised = "D"
	}
	switch p.Meter {
	case Traditional:
		meter = "N"
	case Advanced:
		meter = "H"
	case Smart:
		meter = "S2ADE"
	}
	for i, v := range []string{p.Core, p.Segment, p.GSP, p.MC, p.PC, energised, "", meter, p.Supplier.MPID, p.mopMPID(), p.DC.MPID, p.DA.MPID} {
		if i == 6 {
			b.Field(i).(*array.BooleanBuilder).Append(p.Domestic)
			continue
		}
		b.Field(i).(*array.StringBuilder).Append(v)
	}
}

// appendLink adds the point's D0204 related MPANs row: its partner, or
// itself when it has none.
func appendLink(b *array.RecordBuilder, p *Point) {
	primary, secondary := p.Core, p.Core
	if p.Partner >= 0 {
		primary, secondary = p.Core, p.PartnerCore
		if p.Export {
			primary, secondary = p.PartnerCore, p.Core
		}
	}
	b.Field(0).(*array.StringBuilder).Append(p.Core)
	b.Field(1).(*array.StringBuilder).Append(primary)
	b.Field(2).(*array.StringBuilder).Append(secondary)
}

// publishUniverseTable closes a table, stores it and writes its cut's
// manifest, then the latest.json naming it: version 1 of the MPID's cut.
func publishUniverseTable(ctx context.Context, st store.Store, t *universeTable, id, tool string) error {
	if err := t.Close(); err != nil {
		return fmt.Errorf("table %s of %s: %w", t.Name, t.mpid, err)
	}
	fi, err := os.Stat(t.Path)
	if err != nil {
		return err
	}
	prefix := cut.Prefix(t.cut, t.mpid, id)
	key := cut.TableKey(prefix, t.Name)
	if err := store.PutFile(ctx, st, key, t.Path); err != nil {
		return err
	}
	m := &cut.Manifest{Cut: t.cut, MPID: t.mpid, CutID: id, Version: 1, AsAt: "1970-01-01", Tool: tool, KeyFingerprint: "synthetic-unmasked",
		Tables: []cut.Table{{Name: t.Name, Key: key, Rows: t.Rows, Bytes: fi.Size()}}, Timings: cut.Timings{Finished: time.Unix(0, 0).UTC()}}
	if err := cut.WriteManifest(ctx, st, prefix, m); err != nil {
		return err
	}
	return cut.WriteLatest(ctx, st, t.cut, t.mpid, cut.LatestRef(m))
}
