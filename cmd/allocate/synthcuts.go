package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
)

// newSynthCutsCmd writes a synthetic market straight as published cut
// tables (the EES columns the universe reads and D0204 related MPANs), for
// measuring the allocator at national scale without parsing 30 GB of
// D-flows first. Hidden: a tool for performance work.
func newSynthCutsCmd() *cobra.Command {
	var dir string
	var n int
	var seed uint64
	cmd := &cobra.Command{
		Use:    "synth-cuts --mpans N --store DIR",
		Short:  "Write a synthetic market directly as published cut tables (performance work)",
		Hidden: true,
		Args:   cobra.NoArgs,
		Example: `  allocate synth-cuts --mpans 30000000 --store /tmp/national
  allocate run --plan uit-qualification --store /tmp/national --no-packs`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if n <= 0 {
				return cli.Usage("--mpans must be positive")
			}
			st, err := local.Open(dir)
			if err != nil {
				return err
			}
			return synthCuts(cmd.Context(), st, n, seed)
		},
	}
	cmd.Flags().StringVar(&dir, "store", "./data", "local directory")
	cmd.Flags().IntVar(&n, "mpans", 1_000_000, "MPANs in the market")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "market seed")
	return cmd
}

var eesCols = []string{"mpan_core", "market_segment_indicator", "gsp_group", "measurement_class", "pc", "energisation_status",
	"domestic_premises_indicator", "meter_type", "supplier", "mop", "dc", "da"}

type cutTable struct {
	mu        sync.Mutex
	cut, mpid string
	name      string
	path      string
	f         *os.File
	w         *pqarrow.FileWriter
	rows      int64
}

func newCutTable(dir, cutType, mpid, name string, schema *arrow.Schema) (*cutTable, error) {
	path := filepath.Join(dir, cutType+"-"+mpid+"-"+name+".parquet")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	opts := []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(cut.RowGroupRows)}
	for _, fl := range schema.Fields() {
		opts = append(opts, parquet.WithDictionaryFor(fl.Name, fl.Name != "mpan_core" && fl.Type.ID() == arrow.STRING && cutType == "ees"))
	}
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(opts...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, err
	}
	return &cutTable{cut: cutType, mpid: mpid, name: name, path: path, f: f, w: w}, nil
}

func synthCuts(ctx context.Context, st *local.Store, n int, seed uint64) error {
	spool, err := os.MkdirTemp(store.TempDir(st), "synth-cuts-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(spool)
	str := arrow.BinaryTypes.String
	var eesFields []arrow.Field
	for _, c := range eesCols {
		t := arrow.DataType(str)
		if c == "domestic_premises_indicator" {
			t = arrow.FixedWidthTypes.Boolean
		}
		eesFields = append(eesFields, arrow.Field{Name: c, Type: t, Nullable: true})
	}
	eesSchema := arrow.NewSchema(eesFields, nil)
	linkSchema := arrow.NewSchema([]arrow.Field{{Name: "instance_mpan_core", Type: str}, {Name: "primary_mpan", Type: str}, {Name: "secondary_mpan", Type: str}}, nil)
	tables := map[string]*cutTable{}
	var tmu sync.Mutex
	get := func(cut, mpid, name string, schema *arrow.Schema) (*cutTable, error) {
		tmu.Lock()
		defer tmu.Unlock()
		k := cut + "/" + mpid
		if t := tables[k]; t != nil {
			return t, nil
		}
		t, err := newCutTable(spool, cut, mpid, name, schema)
		if err == nil {
			tables[k] = t
		}
		return t, err
	}
	const chunk = 250_000
	started := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for from := 0; from < n; from += chunk {
		from, to := from, min(n, from+chunk)
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			ees := map[string]*array.RecordBuilder{}
			links := map[string]*array.RecordBuilder{}
			synth.Points(n, seed, from, to, func(p *synth.Point) {
				b := ees[p.Supplier.MPID]
				if b == nil {
					b = array.NewRecordBuilder(memory.DefaultAllocator, eesSchema)
					ees[p.Supplier.MPID] = b
				}
				energised, meter := "E", ""
				if !p.Energised {
					energised = "D"
				}
				switch p.Meter {
				case synth.Traditional:
					meter = "N"
				case synth.Advanced:
					meter = "H"
				case synth.Smart:
					meter = "S2ADE"
				}
				for i, v := range []string{p.Core, p.Segment, p.GSP, p.MC, p.PC, energised, "", meter, p.Supplier.MPID, p.MOp.MPID, p.DC.MPID, p.DA.MPID} {
					if i == 6 {
						b.Field(i).(*array.BooleanBuilder).Append(p.Domestic)
						continue
					}
					b.Field(i).(*array.StringBuilder).Append(v)
				}
				l := links[p.Distributor]
				if l == nil {
					l = array.NewRecordBuilder(memory.DefaultAllocator, linkSchema)
					links[p.Distributor] = l
				}
				primary, secondary := p.Core, p.Core
				if p.Partner >= 0 {
					primary, secondary = p.Core, p.PartnerCore
					if p.Export {
						primary, secondary = p.PartnerCore, p.Core
					}
				}
				l.Field(0).(*array.StringBuilder).Append(p.Core)
				l.Field(1).(*array.StringBuilder).Append(primary)
				l.Field(2).(*array.StringBuilder).Append(secondary)
			})
			flush := func(cut, name string, m map[string]*array.RecordBuilder, schema *arrow.Schema) error {
				for mpid, b := range m {
					rec := b.NewRecord()
					b.Release()
					t, err := get(cut, mpid, name, schema)
					if err == nil {
						t.mu.Lock()
						err = t.w.Write(rec)
						t.rows += rec.NumRows()
						t.mu.Unlock()
					}
					rec.Release()
					if err != nil {
						return err
					}
				}
				return nil
			}
			if err := flush("ees", "ees_portfolio", ees, eesSchema); err != nil {
				return err
			}
			return flush("registration", "d0204_48m", links, linkSchema)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, t := range tables {
		if err := t.w.Close(); err != nil {
			return err
		}
		id := fmt.Sprintf("synth%011d", n)
		prefix := "cuts/" + t.cut + "/mpid=" + t.mpid + "/cut=" + id + "/"
		key := prefix + t.name + ".parquet"
		if err := store.PutFile(ctx, st, key, t.path); err != nil {
			return err
		}
		m := cut.Manifest{Cut: t.cut, MPID: t.mpid, CutID: id, Tool: "allocate synth-cuts", KeyFingerprint: "synthetic-unmasked",
			Tables: []cut.Table{{Name: t.name, Key: key, Rows: t.rows}}, Timings: cut.Timings{Finished: time.Unix(0, 0).UTC()}}
		b, _ := json.MarshalIndent(m, "", "  ")
		if err := st.Put(ctx, prefix+"manifest.json", io.Reader(bytes.NewReader(b)), int64(len(b))); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d MPANs as %d cut tables in %s (%.0fs)\n", n, len(tables), st, time.Since(started).Seconds())
	return nil
}
