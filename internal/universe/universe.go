// Package universe builds the allocator's MPAN universe from published
// cuts: one row per MPAN joined across the EES, registration and MTD cuts on
// masked MPAN cores, with the attributes demands filter on, the appointed
// participants, and the units (linked MPANs move together).
package universe

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mpan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/table"
)

// Attributes of a profile, by index.
const (
	Segment = iota
	GSP
	Distributor
	MC
	PC
	Energised
	Domestic
	MeterType
	SMETS
	Supplier
	MOp
	DC
	DA
	NumAttrs
)

// AttrNames are the plan's names of the attributes (and roles).
var AttrNames = [NumAttrs]string{"segment", "gsp_group", "distributor", "measurement_class", "profile_class",
	"energised", "domestic", "meter_type", "smets", "supplier", "mop", "dc", "da"}

// AttrIndex maps a plan attribute or role name to its index.
func AttrIndex(name string) int {
	for i, n := range AttrNames {
		if n == name {
			return i
		}
	}
	return -1
}

// Profile is one combination of attribute values; MPANs share profiles.
type Profile [NumAttrs]string

// Flags say which cuts hold an MPAN.
const (
	InRegistration uint8 = 1 << iota
	InMTD
)

// Universe is every MPAN of the source cuts, columnar.
type Universe struct {
	Sources        []Source
	KeyFingerprint string
	Cores          []uint64 // masked MPAN cores
	Profile        []uint32 // index into Profiles
	Flags          []uint8
	Profiles       []Profile
	// Units: unit u's MPANs are Members[UnitStart[u]:UnitStart[u+1]],
	// lowest core first (the unit's lead, which names it).
	UnitOf    []int32
	UnitStart []int32
	Members   []int32
	Stats     Stats
}

// Stats count what the join saw.
type Stats struct {
	EESRows        int `json:"eesRows"`
	MPANs          int `json:"mpans"`
	Units          int `json:"units"`
	LinkedUnits    int `json:"linkedUnits"`
	ExtraMeterRows int `json:"extraMeterRows"` // EES rows of an MPAN already seen (one per meter)
	Registered     int `json:"registered"`
	WithMTD        int `json:"withMtd"`
	LinksOutside   int `json:"linksOutside"` // related MPANs not in the EES cuts
}

// NumUnits is the number of units.
func (u *Universe) NumUnits() int { return len(u.UnitStart) - 1 }

// UnitMembers are unit i's MPAN indices.
func (u *Universe) UnitMembers(i int) []int32 { return u.Members[u.UnitStart[i]:u.UnitStart[i+1]] }

// CoreString renders MPAN i's core.
func (u *Universe) CoreString(i int32) string { return FormatCore(u.Cores[i]) }

// FormatCore renders a 13-digit core.
func FormatCore(c uint64) string {
	s := strconv.FormatUint(c, 10)
	for len(s) < 13 {
		s = "0" + s
	}
	return s
}

// ParseCore parses a 13-digit core; ok is false for anything else.
func ParseCore(s string) (uint64, bool) {
	if len(s) != 13 {
		return 0, false
	}
	var n uint64
	for i := 0; i < 13; i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + uint64(c)
	}
	return n, true
}

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

// Build reads the sources into a universe.
func Build(ctx context.Context, st store.Store, sources []Source, key string, mem memory.Allocator) (*Universe, error) {
	b := &builder{u: &Universe{Sources: sources, KeyFingerprint: key}, syms: map[string]uint16{}, profiles: map[[NumAttrs]uint16]uint32{}}
	var rows int64
	for _, s := range sources {
		if s.Cut == "ees" {
			for _, t := range s.Manifest.Tables {
				rows += t.Rows
			}
		}
	}
	b.index = make(map[uint64]int32, rows)
	b.u.Cores = make([]uint64, 0, rows)
	b.u.Profile = make([]uint32, 0, rows)
	for _, s := range sources {
		if s.Cut != "ees" {
			continue
		}
		if k := s.TableKey("ees_portfolio"); k != "" {
			if err := b.readEES(ctx, st, k, mem); err != nil {
				return nil, err
			}
		}
	}
	b.u.Flags = make([]uint8, len(b.u.Cores))
	parent := make([]int32, len(b.u.Cores))
	for i := range parent {
		parent[i] = int32(i)
	}
	b.parent = parent
	for _, s := range sources {
		var err error
		switch s.Cut {
		case "registration":
			if k := s.TableKey("d0204_48m"); k != "" {
				err = b.readLinks(ctx, st, k, mem)
			}
		case "mop-mtd":
			err = b.readMTD(ctx, st, s, mem)
		}
		if err != nil {
			return nil, err
		}
	}
	b.finish()
	return b.u, nil
}

type builder struct {
	u        *Universe
	index    map[uint64]int32
	syms     map[string]uint16
	symVals  []string
	profiles map[[NumAttrs]uint16]uint32
	parent   []int32 // union-find over MPANs for links
}

func (b *builder) sym(s string) uint16 {
	if id, ok := b.syms[s]; ok {
		return id
	}
	id := uint16(len(b.symVals))
	b.syms[s] = id
	b.symVals = append(b.symVals, s)
	return id
}

// symbols returns each row's symbol for a column chunk: dictionary chunks
// intern their dictionary once, others intern row by row.
func (b *builder) symbols(col arrow.Array, attr int) ([]uint16, error) {
	out := make([]uint16, col.Len())
	norm := func(s string) string {
		switch attr {
		case Energised:
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
		ids := make([]uint16, dict.Len())
		for i := range ids {
			ids[i] = b.sym(norm(dict.Value(i)))
		}
		empty := b.sym("")
		for i := range out {
			if c.IsNull(i) {
				out[i] = empty
			} else {
				out[i] = ids[c.GetValueIndex(i)]
			}
		}
	case *array.String:
		for i := range out {
			out[i] = b.sym(norm(c.Value(i)))
		}
	case *array.Boolean:
		t, f, empty := b.sym("true"), b.sym("false"), b.sym("")
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

func (b *builder) readEES(ctx context.Context, st store.Store, key string, mem memory.Allocator) error {
	props := pqarrow.ArrowReadProperties{BatchSize: 64 * 1024}
	r, err := table.Open(ctx, st, key, mem, props)
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
	for _, c := range cols[1:] {
		r.File.Props.SetReadDict(c, true)
	}
	for rg := 0; rg < r.PF.NumRowGroups(); rg++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		tbl, err := r.File.ReadRowGroups(ctx, cols, []int{rg})
		if err != nil {
			return fmt.Errorf("reading %s: %w", key, err)
		}
		err = b.addEES(key, tbl)
		tbl.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) addEES(key string, tbl arrow.Table) error {
	n := int(tbl.NumRows())
	if n == 0 {
		return nil
	}
	cores := make([]uint64, 0, n)
	for _, ch := range tbl.Column(0).Data().Chunks() {
		s := ch.(*array.String)
		for i := 0; i < s.Len(); i++ {
			c, ok := ParseCore(s.Value(i))
			if !ok {
				return fmt.Errorf("%s: row %d has no valid MPAN core: the table is not a datacut EES cut", key, len(cores)+1)
			}
			cores = append(cores, c)
		}
	}
	syms := make([][]uint16, len(eesColumns))
	for j, c := range eesColumns {
		syms[j] = make([]uint16, 0, n)
		for _, ch := range tbl.Column(j + 1).Data().Chunks() {
			s, err := b.symbols(ch, c.attr)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			syms[j] = append(syms[j], s...)
		}
	}
	if len(b.symVals) > 60000 {
		return fmt.Errorf("%s: more than 60,000 distinct attribute values: the table is not an EES portfolio cut", key)
	}
	var k [NumAttrs]uint16
	for i, core := range cores {
		b.u.Stats.EESRows++
		if _, dup := b.index[core]; dup {
			b.u.Stats.ExtraMeterRows++
			continue
		}
		for j, c := range eesColumns {
			k[c.attr] = syms[j][i]
		}
		k[Distributor] = uint16(core / 100_000_000_000) // the first two digits; mapped to an MPID in finish
		k[SMETS] = 0
		pid, ok := b.profiles[k]
		if !ok {
			pid = uint32(len(b.profiles))
			b.profiles[k] = pid
		}
		b.index[core] = int32(len(b.u.Cores))
		b.u.Cores = append(b.u.Cores, core)
		b.u.Profile = append(b.u.Profile, pid)
	}
	return nil
}

func (b *builder) find(i int32) int32 {
	for b.parent[i] != i {
		b.parent[i] = b.parent[b.parent[i]]
		i = b.parent[i]
	}
	return i
}

// readLinks joins registration's related MPANs (D0204 group 48M): an MPAN
// listed with another one forms a unit with it. Its rows also mark the
// MPANs the registration service holds.
func (b *builder) readLinks(ctx context.Context, st store.Store, key string, mem memory.Allocator) error {
	r, err := openScan(ctx, st, key, mem)
	if err != nil {
		return err
	}
	defer r.Close()
	return scanStrings(ctx, r, []string{"instance_mpan_core", "primary_mpan", "secondary_mpan"}, func(v []string) {
		if c, ok := ParseCore(v[0]); ok {
			if i, ok := b.index[c]; ok {
				b.u.Flags[i] |= InRegistration
			}
		}
		p, ok1 := ParseCore(v[1])
		s, ok2 := ParseCore(v[2])
		if !ok1 || !ok2 || p == s {
			return
		}
		pi, in1 := b.index[p]
		si, in2 := b.index[s]
		if !in1 || !in2 {
			b.u.Stats.LinksOutside++
			return
		}
		if a, c := b.find(pi), b.find(si); a != c {
			b.parent[a] = c
		}
	})
}

// readMTD marks the MPANs whose MOp cut holds meter technical details: the
// MPANs of each flow's unit group (D0150 288, D0268 01A, ...), as the
// catalogue names it in the table's metadata.
func (b *builder) readMTD(ctx context.Context, st store.Store, s Source, mem memory.Allocator) error {
	for _, t := range s.Manifest.Tables {
		r, err := openScan(ctx, st, t.Key, mem)
		if err != nil {
			return err
		}
		schema, err := r.File.Schema()
		if err == nil {
			if g := dflow.DefaultCatalog().TableGroup(schema); g != nil && g.Unit() {
				err = scanStrings(ctx, r, []string{dflow.ColInstanceMPAN}, func(v []string) {
					if c, ok := ParseCore(v[0]); ok {
						if i, ok := b.index[c]; ok {
							b.u.Flags[i] |= InMTD
						}
					}
				})
			}
		}
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func openScan(ctx context.Context, st store.Store, key string, mem memory.Allocator) (*table.Reader, error) {
	return table.Open(ctx, st, key, mem, pqarrow.ArrowReadProperties{BatchSize: 64 * 1024})
}

// scanStrings calls fn with the named string columns of every row.
func scanStrings(ctx context.Context, r *table.Reader, names []string, fn func([]string)) error {
	key := r.Key
	cols, err := r.Columns(names...)
	if err != nil {
		return err
	}
	v := make([]string, len(cols))
	for rg := 0; rg < r.PF.NumRowGroups(); rg++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		tbl, err := r.File.ReadRowGroups(ctx, cols, []int{rg})
		if err != nil {
			return fmt.Errorf("reading %s: %w", key, err)
		}
		tr := array.NewTableReader(tbl, 64*1024)
		for tr.Next() {
			rec := tr.Record()
			strs := make([]*array.String, len(cols))
			for j := range cols {
				s, ok := rec.Column(j).(*array.String)
				if !ok {
					tr.Release()
					tbl.Release()
					return fmt.Errorf("%s: column %s is %s, want text", key, names[j], rec.Column(j).DataType())
				}
				strs[j] = s
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				for j, s := range strs {
					v[j] = s.Value(i)
				}
				fn(v)
			}
		}
		tr.Release()
		tbl.Release()
	}
	return nil
}

// finish resolves profiles to strings and forms the units.
func (b *builder) finish() {
	u := b.u
	u.Profiles = make([]Profile, len(b.profiles))
	for k, id := range b.profiles {
		var p Profile
		for a := range k {
			switch a {
			case Distributor:
				d, _ := mpan.DistributorOf(fmt.Sprintf("%02d", k[a]))
				p[a] = d.MPID
			case SMETS:
			default:
				p[a] = b.symVals[k[a]]
			}
		}
		p[SMETS] = smetsOf(p[MeterType])
		u.Profiles[id] = p
	}
	u.Stats.MPANs = len(u.Cores)
	for _, f := range u.Flags {
		if f&InRegistration != 0 {
			u.Stats.Registered++
		}
		if f&InMTD != 0 {
			u.Stats.WithMTD++
		}
	}
	// Units: roots of the union-find, numbered by first appearance.
	u.UnitOf = make([]int32, len(u.Cores))
	rootUnit := make([]int32, len(u.Cores))
	for i := range rootUnit {
		rootUnit[i] = -1
	}
	var sizes []int32
	for i := range u.Cores {
		r := b.find(int32(i))
		if rootUnit[r] < 0 {
			rootUnit[r] = int32(len(sizes))
			sizes = append(sizes, 0)
		}
		u.UnitOf[i] = rootUnit[r]
		sizes[rootUnit[r]]++
	}
	u.UnitStart = make([]int32, len(sizes)+1)
	for i, s := range sizes {
		u.UnitStart[i+1] = u.UnitStart[i] + s
	}
	fill := append([]int32(nil), u.UnitStart[:len(sizes)]...)
	u.Members = make([]int32, len(u.Cores))
	for i, id := range u.UnitOf {
		u.Members[fill[id]] = int32(i)
		fill[id]++
	}
	for id, s := range sizes {
		if s > 1 {
			u.Stats.LinkedUnits++
			m := u.UnitMembers(id)
			sort.Slice(m, func(a, c int) bool { return u.Cores[m[a]] < u.Cores[m[c]] })
		}
	}
	u.Stats.Units = len(sizes)
	b.index = nil
	b.parent = nil
}

// smetsOf derives the SMETS generation from the DTC meter type (S1…, S2…).
func smetsOf(meterType string) string {
	switch {
	case len(meterType) >= 2 && meterType[:2] == "S1":
		return "1"
	case len(meterType) >= 2 && meterType[:2] == "S2":
		return "2"
	}
	return "none"
}
