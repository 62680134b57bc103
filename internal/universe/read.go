package universe

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mpan"
	"github.com/mhhs-sit/datacut/internal/store"
)

// noCore marks a row without a valid MPAN core.
const noCore = ^uint64(0)

// eesColumns are the EES columns the universe reads, in profile order
// (distributor and smets are derived).
var eesColumns = []struct {
	attr int
	col  string
}{
	{Segment, "market_segment_indicator"}, {GSP, "gsp_group"}, {MC, "measurement_class"}, {PC, "pc"},
	{Energised, "energisation_status"}, {Domestic, "domestic_premises_indicator"}, {MeterType, "meter_type"},
	{Supplier, "supplier"}, {MOp, "mop"}, {DC, "dc"}, {DA, "da"},
}

// maxSymbols bounds the distinct attribute values of one table: real
// portfolios have a few hundred; more means the table is something else.
const maxSymbols = 60000

// eesReader interns one EES table's attribute values and profiles.
type eesReader struct {
	key      string
	syms     map[string]uint16
	symVals  []string
	profiles map[[NumAttrs]uint16]uint32 // table's own ids, in order of first row
	global   []uint32                    // table's id → the universe's provisional id
	intern   func(Profile) uint32
	rows     int
	pids     []uint32
}

// readEES reads an EES table: each row group's cores and their profiles
// (ids intern gives) go to emit.
func readEES(ctx context.Context, st store.Store, key string, mem memory.Allocator, intern func(Profile) uint32, emit func(cores []uint64, pids []uint32) error) error {
	r, err := cut.OpenTable(ctx, st, key, mem, pqarrow.ArrowReadProperties{BatchSize: 64 * 1024})
	if err != nil {
		return err
	}
	defer r.Close()
	names := []string{"mpan_core"}
	for _, c := range eesColumns {
		names = append(names, c.col)
	}
	cols, err := r.Columns(names...)
	if err != nil {
		return fmt.Errorf("%w: is it an EES portfolio cut?", err)
	}
	if err := r.ReadDict(cols[1:]...); err != nil {
		return err
	}
	e := &eesReader{key: key, syms: map[string]uint16{}, profiles: map[[NumAttrs]uint16]uint32{}, intern: intern}
	return scanCores(ctx, r, cols[:1], func(rg int, cores [][]uint64) error {
		tbl, err := r.Read(ctx, cols[1:], []int{rg})
		if err != nil {
			return err
		}
		defer tbl.Release()
		if err := e.add(cores[0], tbl); err != nil {
			return err
		}
		return emit(cores[0], e.pids)
	})
}

// profile is the profile of a table's profile key.
func (e *eesReader) profile(k [NumAttrs]uint16) Profile {
	var pr Profile
	for a := range k {
		switch a {
		case Distributor:
			d, _ := mpan.DistributorOf(fmt.Sprintf("%02d", k[a]))
			pr[a] = d.MPID
		case SMETS:
		default:
			pr[a] = e.symVals[k[a]]
		}
	}
	pr[SMETS] = smetsOf(pr[MeterType])
	return pr
}

// add sets e.pids to the row group's rows' provisional profile ids.
func (e *eesReader) add(cores []uint64, tbl arrow.Table) error {
	n := len(cores)
	for i, c := range cores {
		if c == noCore {
			return fmt.Errorf("%s: row %d has no valid MPAN core: the table is not a datacut EES cut", e.key, e.rows+i+1)
		}
	}
	e.rows += n
	syms := make([][]uint16, len(eesColumns))
	for j, c := range eesColumns {
		syms[j] = make([]uint16, 0, n)
		for _, ch := range tbl.Column(j).Data().Chunks() {
			s, err := e.symbols(ch, c.attr)
			if err != nil {
				return fmt.Errorf("%s: %w", e.key, err)
			}
			syms[j] = append(syms[j], s...)
		}
		if len(syms[j]) != n {
			return fmt.Errorf("%s: column %s has %d rows, mpan_core %d", e.key, c.col, len(syms[j]), n)
		}
	}
	if len(e.symVals) > maxSymbols {
		return fmt.Errorf("%s: more than %d distinct attribute values: the table is not an EES portfolio cut", e.key, maxSymbols)
	}
	var k [NumAttrs]uint16
	e.pids = e.pids[:0]
	for i, core := range cores {
		for j, c := range eesColumns {
			k[c.attr] = syms[j][i]
		}
		k[Distributor] = uint16(core / 100_000_000_000) // the first two digits; an MPID once read
		pid, ok := e.profiles[k]
		if !ok {
			pid = uint32(len(e.profiles))
			e.profiles[k] = pid
			e.global = append(e.global, e.intern(e.profile(k)))
		}
		e.pids = append(e.pids, e.global[pid])
	}
	return nil
}

func (e *eesReader) sym(s string) uint16 {
	if id, ok := e.syms[s]; ok {
		return id
	}
	id := uint16(len(e.symVals))
	e.syms[s] = id
	e.symVals = append(e.symVals, s)
	return id
}

// symbols returns each row's symbol for a column chunk: dictionary chunks
// intern their dictionary once, others intern row by row.
func (e *eesReader) symbols(col arrow.Array, attr int) ([]uint16, error) {
	out := make([]uint16, col.Len())
	norm := func(s string) string {
		if attr == Energised {
			switch s {
			case "E":
				return "true"
			case "D":
				return "false"
			}
		}
		return s
	}
	switch c := col.(type) {
	case *array.Dictionary:
		dict, ok := c.Dictionary().(*array.String)
		if !ok {
			return nil, fmt.Errorf("dictionary of %s is %s, want strings", AttrNames[attr], c.Dictionary().DataType())
		}
		if dict.Len() > maxSymbols {
			return nil, fmt.Errorf("more than %d distinct values of %s: the table is not an EES portfolio cut", maxSymbols, AttrNames[attr])
		}
		ids := make([]uint16, dict.Len())
		for i := range ids {
			ids[i] = e.sym(norm(dict.Value(i)))
		}
		empty := e.sym("")
		for i := range out {
			if c.IsNull(i) {
				out[i] = empty
			} else {
				out[i] = ids[c.GetValueIndex(i)]
			}
		}
	case *array.String:
		for i := range out {
			out[i] = e.sym(norm(c.Value(i)))
		}
	case *array.Boolean:
		t, f, empty := e.sym("true"), e.sym("false"), e.sym("")
		for i := range out {
			switch {
			case c.IsNull(i):
				out[i] = empty
			case c.Value(i):
				out[i] = t
			default:
				out[i] = f
			}
		}
	default:
		return nil, fmt.Errorf("column for %s is %s, want text", AttrNames[attr], col.DataType())
	}
	return out, nil
}

// readLinks reads registration's related MPANs (D0204 group 48M): an MPAN
// listed with another one forms a unit with it. Its rows also mark the
// MPANs the registration service holds.
func readLinks(ctx context.Context, st store.Store, key string, mem memory.Allocator, emit func(cores []uint64) error) ([][2]uint64, error) {
	r, err := openScan(ctx, st, key, mem)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cols, err := r.Columns("instance_mpan_core", "primary_mpan", "secondary_mpan")
	if err != nil {
		return nil, err
	}
	var links [][2]uint64
	var held []uint64
	err = scanCores(ctx, r, cols, func(_ int, cores [][]uint64) error {
		inst, prim, sec := cores[0], cores[1], cores[2]
		held = held[:0]
		for i, c := range inst {
			if c != noCore {
				held = append(held, c)
			}
			if prim[i] != noCore && sec[i] != noCore && prim[i] != sec[i] {
				links = append(links, [2]uint64{prim[i], sec[i]})
			}
		}
		return emit(held)
	})
	return links, err
}

// readHeld reads the MPANs a D-flow table holds: those of its flow's unit
// group (D0150 288, D0268 01A, D0302 ...), as the catalogue names it in the
// table's metadata; they get flag. Other tables give nothing.
func readHeld(ctx context.Context, st store.Store, key string, mem memory.Allocator, emit func(cores []uint64) error) (flow string, err error) {
	r, err := openScan(ctx, st, key, mem)
	if err != nil {
		return "", err
	}
	defer r.Close()
	schema, err := r.File.Schema()
	if err != nil {
		return "", fmt.Errorf("table %s: %w", key, err)
	}
	g := dflow.DefaultCatalog().TableGroup(schema)
	if g == nil || !g.Unit() {
		return "", nil
	}
	cols, err := r.Columns(dflow.ColInstanceMPAN)
	if err != nil {
		return "", err
	}
	var held []uint64
	err = scanCores(ctx, r, cols, func(_ int, cores [][]uint64) error {
		held = held[:0]
		for _, c := range cores[0] {
			if c != noCore {
				held = append(held, c)
			}
		}
		return emit(held)
	})
	return g.Flow.ID, err
}

func openScan(ctx context.Context, st store.Store, key string, mem memory.Allocator) (*cut.Reader, error) {
	return cut.OpenTable(ctx, st, key, mem, pqarrow.ArrowReadProperties{BatchSize: 64 * 1024})
}

// scanCores calls fn for each row group with its text columns cols parsed
// as cores, one slice per column, one entry per row.
func scanCores(ctx context.Context, r *cut.Reader, cols []int, fn func(rg int, cores [][]uint64) error) error {
	cores := make([][]uint64, len(cols))
	for rg := 0; rg < r.PF.NumRowGroups(); rg++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for j, c := range cols {
			var err error
			if cores[j], err = coreColumn(r, rg, c, cores[j][:0]); err != nil {
				return err
			}
			if len(cores[j]) != len(cores[0]) {
				return fmt.Errorf("%s: row group %d has columns of different lengths", r.Key, rg)
			}
		}
		if err := fn(rg, cores); err != nil {
			return err
		}
	}
	return nil
}

// NoCore is CoreColumn's entry for a row without a core.
const NoCore = noCore

// CoreColumn appends to dst one core per row of row group rg's text column
// col (NoCore where the row has none), parsed from Parquet's page bytes.
func CoreColumn(r *cut.Reader, rg, col int, dst []uint64) ([]uint64, error) {
	return coreColumn(r, rg, col, dst)
}

// coreColumn appends to dst one core per row of row group rg's text column
// col, noCore where the row has none. It reads Parquet's values directly:
// cores are parsed from the page bytes, never built into strings.
func coreColumn(r *cut.Reader, rg, col int, dst []uint64) ([]uint64, error) {
	err := r.EachText(rg, col, func(v []byte, ok bool) {
		c := noCore
		if ok {
			if p, good := parseCoreBytes(v); good {
				c = p
			}
		}
		dst = append(dst, c)
	})
	return dst, err
}
