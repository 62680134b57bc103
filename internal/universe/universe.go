// Package universe builds the allocator's MPAN universe from published
// cuts: one row per MPAN joined across the EES, registration and MTD cuts on
// masked MPAN cores, with the attributes demands filter on, the appointed
// participants, and the units (linked MPANs move together).
package universe

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"sync"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
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
	InCustomer
)

// DataSet is one flow of one cut type (Flow "" for an EES cut's rows): the
// data a load pack may carry of an MPAN.
type DataSet struct {
	Cut      string `json:"cut"`
	Flow     string `json:"flow,omitempty"`
	Universe string `json:"universe,omitempty"` // the cut type's universe: mtd, customer, ...
}

// MaxDataSets bounds the data sets a universe records (Data's bits).
const MaxDataSets = 16

// Universe is every MPAN of the source cuts, columnar.
type Universe struct {
	Sources        []Source
	KeyFingerprint string
	Cores          []uint64 // masked MPAN cores, ascending
	Profile        []uint32 // index into Profiles
	Flags          []uint8
	// Data says which data sets hold each MPAN: bit i is DataSets[i]. Every
	// MPAN is in its EES cut's; D-flow cuts hold the MPANs of their flows'
	// unit groups (D0150 288, D0302 ..., D0204's related MPANs).
	Data     []uint16
	DataSets []DataSet
	Profiles []Profile
	// units: see NumUnits, Lead, UnitMembers and UnitOf.
	units
	Stats Stats
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
	WithCustomer   int `json:"withCustomer"`
	LinksOutside   int `json:"linksOutside"` // related MPANs not in the EES cuts
}

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
func ParseCore(s string) (uint64, bool) { return parseCore(s) }

// ParseCoreBytes is ParseCore of Parquet's value bytes, without a string.
func ParseCoreBytes(b []byte) (uint64, bool) { return parseCoreBytes(b) }

// parseCoreBytes is parseCore of bytes, eight digits at a time (the scans
// of every table's MPAN column parse a core per row): bytes 0-7 and 5-12
// are each checked to be digits and converted as one word.
func parseCoreBytes(b []byte) (uint64, bool) {
	if len(b) != 13 {
		return 0, false
	}
	hi, ok1 := eightDigits(binary.LittleEndian.Uint64(b[0:8]))
	lo, ok2 := eightDigits(binary.LittleEndian.Uint64(b[5:13]))
	if !ok1 || !ok2 {
		return 0, false
	}
	return hi/1000*100_000_000 + lo, true // hi/1000: digits 0-4
}

// eightDigits is the number eight ASCII digits spell, the first byte (the
// word's lowest) the most significant; false unless every byte is a digit.
func eightDigits(x uint64) (uint64, bool) {
	const zeros, high = 0x3030303030303030, 0x8080808080808080
	if ((x-zeros)|(x+0x4646464646464646))&high != 0 {
		return 0, false // a byte below '0' borrows into its high bit; above '9', adding 0x46 carries into it
	}
	d := x - zeros
	d = d*10 + d>>8 // each even byte: the two-digit number of its pair
	d = ((d&0x000000FF000000FF)*(100+(1000000<<32)) + (d>>16&0x000000FF000000FF)*(1+(10000<<32))) >> 32
	return d, true
}

func parseCore[T ~string | ~[]byte](s T) (uint64, bool) {
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

// Build reads the sources into a universe. The EES tables are read first,
// in parallel, one per worker, and merged in source order; then the other
// tables, each applied to the universe as it is read, so no more than a
// table a worker is held besides the universe. The result does not depend
// on scheduling: Cores ascend, each MPAN's first EES row (in source order)
// gives its profile, profiles and units are numbered by their first MPAN,
// and data sets by the first table (in source order) holding some MPAN of
// theirs.
func Build(ctx context.Context, st store.Store, sources []Source, key string, mem memory.Allocator) (*Universe, error) {
	var ees, others []read
	add := func(list *[]read, fn func(context.Context) (*part, error)) {
		*list = append(*list, read{order: len(ees) + len(others), fn: fn})
	}
	for _, s := range sources {
		switch s.Universe {
		case cut.UniverseAttributes:
			if k := s.TableKey("ees_portfolio"); k != "" {
				add(&ees, func(ctx context.Context) (*part, error) {
					p, err := readEES(ctx, st, k, mem)
					if p != nil {
						p.set = DataSet{Cut: s.Cut, Universe: s.Universe}
					}
					return p, err
				})
			}
			continue
		case cut.UniverseLinks:
			if k := s.TableKey("d0204_48m"); k != "" {
				add(&others, func(ctx context.Context) (*part, error) {
					p, err := readLinks(ctx, st, k, mem)
					if p != nil {
						p.set = DataSet{Cut: s.Cut, Flow: "D0204", Universe: s.Universe}
					}
					return p, err
				})
			}
		}
		// Every D-flow table of the cut: the MPANs of its unit group.
		flag := map[string]uint8{cut.UniverseMTD: InMTD, cut.UniverseCustomer: InCustomer}[s.Universe]
		for _, t := range s.Manifest.Tables {
			if t.Name == "d0204_48m" && s.Universe == cut.UniverseLinks {
				continue // read above
			}
			add(&others, func(ctx context.Context) (*part, error) {
				p, err := readHeld(ctx, st, t.Key, mem, flag)
				if p != nil {
					p.set.Cut, p.set.Universe = s.Cut, s.Universe
				}
				return p, err
			})
		}
	}
	parts := make([]*part, len(ees))
	if err := readAll(ctx, ees, func(i int, p *part) { parts[i] = p }); err != nil {
		return nil, err
	}
	u := &Universe{Sources: sources, KeyFingerprint: key}
	u.mergeEES(parts)
	u.Flags = make([]uint8, len(u.Cores))
	u.Data = make([]uint16, len(u.Cores))
	var sets dataSets
	for i, p := range parts {
		if p.set.Cut == "" {
			continue
		}
		bit := sets.bit(p.set, ees[i].order)
		for i := range u.Data {
			u.Data[i] |= bit
		}
	}
	parts = nil
	idx := newCoreIndex(u.Cores)
	var pairs [][2]int32 // related MPANs, by index
	var mu sync.Mutex
	err := readAll(ctx, others, func(i int, p *part) {
		mu.Lock()
		defer mu.Unlock()
		var bit uint16
		if p.set.Cut != "" && len(p.held) > 0 {
			bit = sets.bit(p.set, others[i].order)
		}
		for _, c := range p.held {
			if i, ok := idx.find(c); ok {
				u.Flags[i] |= p.flag
				u.Data[i] |= bit
			}
		}
		for _, l := range p.links {
			pi, in1 := idx.find(l[0])
			si, in2 := idx.find(l[1])
			if !in1 || !in2 {
				u.Stats.LinksOutside++
				continue
			}
			pairs = append(pairs, [2]int32{pi, si})
		}
	})
	if err != nil {
		return nil, err
	}
	if err := sets.order(u); err != nil {
		return nil, err
	}
	u.formUnits(len(u.Cores), pairs)
	return u, nil
}

// read is one table's read; order is its place in source order.
type read struct {
	order int
	fn    func(context.Context) (*part, error)
}

// readAll runs the reads in parallel, one per worker, and hands each part
// to use (which may be called from several goroutines at once) as it is
// read; the part is not kept.
func readAll(ctx context.Context, reads []read, use func(i int, p *part)) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, r := range reads {
		g.Go(func() error {
			p, err := r.fn(gctx)
			if err != nil {
				return err
			}
			use(i, p)
			return nil
		})
	}
	return g.Wait()
}

// dataSets numbers the data sets in the order tables are applied (which
// scheduling decides), each with the first place in source order of a
// table holding some MPAN of it; order renumbers them by that place.
type dataSets struct {
	sets  []DataSet
	first []int
	over  bool // more than MaxDataSets
}

// bit is the provisional bit of data set d, of the table at place order.
func (x *dataSets) bit(d DataSet, order int) uint16 {
	for i, s := range x.sets {
		if s == d {
			x.first[i] = min(x.first[i], order)
			return 1 << i
		}
	}
	if len(x.sets) == MaxDataSets {
		x.over = true
		return 0
	}
	x.sets, x.first = append(x.sets, d), append(x.first, order)
	return 1 << (len(x.sets) - 1)
}

// order sets u.DataSets in source order and renumbers u.Data's bits.
func (x *dataSets) order(u *Universe) error {
	if x.over {
		return fmt.Errorf("the sources hold more than %d flows (cut type and flow): the universe records at most %d; use fewer source cut types", MaxDataSets, MaxDataSets)
	}
	rank := make([]int, len(x.sets))
	for i := range rank {
		rank[i] = i
	}
	sort.Slice(rank, func(a, b int) bool { return x.first[rank[a]] < x.first[rank[b]] })
	var lo, hi [256]uint16 // new bits of each provisional byte's bits
	same := true
	for n, old := range rank {
		u.DataSets = append(u.DataSets, x.sets[old])
		if old < 8 {
			for v := range lo {
				if v&(1<<old) != 0 {
					lo[v] |= 1 << n
				}
			}
		} else {
			for v := range hi {
				if v&(1<<(old-8)) != 0 {
					hi[v] |= 1 << n
				}
			}
		}
		same = same && n == old
	}
	if !same {
		for i, d := range u.Data {
			u.Data[i] = lo[d&0xff] | hi[d>>8]
		}
	}
	return nil
}

// DataMask is the bits of the data sets ok accepts.
func (u *Universe) DataMask(ok func(DataSet) bool) uint16 {
	var m uint16
	for i, d := range u.DataSets {
		if ok(d) {
			m |= 1 << i
		}
	}
	return m
}

// mergeEES concatenates the EES parts in source order, sorts them by core
// (stably) and keeps each MPAN's first row; later rows of the same MPAN are
// its other meters.
func (u *Universe) mergeEES(parts []*part) { u.mergeEESPacked(parts, pidBits) }

// pidBits is the profile id's share of a packed row (core<<pidBits | id):
// a core takes 44 bits.
const pidBits = 64 - coreBits

// mergeEESPacked is mergeEES. While the market's profiles number at most
// 2^bits, each row is one word, its core above its profile id, so the
// merge holds 8 bytes a row and the sort's copy 8 more (a core and a
// profile id apart: 12 and 12); with more, they are kept apart.
func (u *Universe) mergeEESPacked(parts []*part, bits uint) {
	n := 0
	for _, p := range parts {
		n += len(p.rows)
	}
	ids := map[Profile]uint32{}
	var profiles []Profile
	locals := make([][]uint32, len(parts))
	for k, p := range parts {
		locals[k] = make([]uint32, len(p.profiles))
		for i, pr := range p.profiles {
			id, ok := ids[pr]
			if !ok {
				id = uint32(len(profiles))
				ids[pr] = id
				profiles = append(profiles, pr)
			}
			locals[k][i] = id
		}
	}
	var cores []uint64
	var pids []uint32
	if len(profiles) <= 1<<bits {
		cores = make([]uint64, 0, n)
		for k, p := range parts {
			for i, c := range p.rows {
				cores = append(cores, c<<bits|uint64(locals[k][p.pids[i]]))
			}
			p.rows, p.pids = nil, nil
		}
		sortBits(cores, nil, bits, 64) // by core only: a core's rows stay in source order
		w := 0
		for i, k := range cores {
			if i == 0 || k>>bits != cores[i-1]>>bits {
				w++
			}
		}
		pids = make([]uint32, 0, w)
		w = 0
		for _, k := range cores { // cores[:w] become cores, each MPAN's first row's
			c := k >> bits
			if w > 0 && cores[w-1] == c {
				continue
			}
			cores[w] = c
			pids = append(pids, uint32(k&(1<<bits-1)))
			w++
		}
		cores = cores[:w]
	} else {
		cores, pids = make([]uint64, 0, n), make([]uint32, 0, n)
		for k, p := range parts {
			cores = append(cores, p.rows...)
			for _, l := range p.pids {
				pids = append(pids, locals[k][l])
			}
			p.rows, p.pids = nil, nil
		}
		sortCores(cores, pids)
		w := 0
		for i, c := range cores {
			if w > 0 && cores[w-1] == c {
				continue
			}
			cores[w], pids[w] = c, pids[i]
			w++
		}
		cores, pids = cores[:w], pids[:w]
	}
	// Profiles are numbered by their first MPAN.
	renumber := make([]uint32, len(profiles))
	u.Profiles = make([]Profile, 0, len(profiles)) // at most: appends would leave up to as much again spare
	for i := range renumber {
		renumber[i] = ^uint32(0)
	}
	for i, pid := range pids {
		if renumber[pid] == ^uint32(0) {
			renumber[pid] = uint32(len(u.Profiles))
			u.Profiles = append(u.Profiles, profiles[pid])
		}
		pids[i] = renumber[pid]
	}
	w := len(cores)
	u.Cores, u.Profile = cores[:w:w], pids[:w:w]
	u.Stats.EESRows = n
	u.Stats.ExtraMeterRows = n - w
	u.Stats.MPANs = w
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
