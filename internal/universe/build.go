package universe

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Build reads the sources into a universe, in passes over ranges of cores
// so its memory does not grow with the market:
//
//  1. Every table is read once, in parallel, one per worker: each EES row
//     (core, profile) and each core another table holds goes to its core
//     range's partition, in memory for a market of one range, else in a
//     file; related MPAN pairs are kept (a few in a hundred MPANs).
//  2. Range by range, in order of core: the range's EES rows are sorted and
//     each MPAN's first (in source order) gives its profile; the other
//     tables' cores give flags and data sets; the MPANs are written out
//     (spilled to a file past spillAbove).
//  3. Related MPANs form units.
//
// The result does not depend on scheduling or ranges: cores ascend, each
// MPAN's first EES row (in source order) gives its profile, profiles are
// numbered by their first MPAN, units by their lowest core, and data sets
// by the first table (in source order) holding some MPAN of theirs.
func Build(ctx context.Context, st store.Store, sources []Source, key string, mem memory.Allocator) (*Universe, error) {
	tables := plan(sources)
	eesKeys := []string{}
	for _, t := range tables {
		if t.kind == tableEES {
			eesKeys = append(eesKeys, t.key)
		}
	}
	if len(tables) >= 1<<orderBits {
		return nil, fmt.Errorf("the sources hold %d tables: the universe reads at most %d", len(tables), 1<<orderBits-1)
	}
	dir := store.TempDir(st)
	parts, err := newPartitions(ctx, st, eesKeys, dir, mem, len(tables))
	if err != nil {
		return nil, err
	}
	defer parts.close()
	b := &builder{tables: tables, parts: parts, syms: symbols{ids: map[string]uint32{}}, profileIDs: map[profileKey]uint32{}}
	if err := b.readAll(ctx, st, mem); err != nil {
		return nil, err
	}
	b.syms.ids, b.profileIDs = nil, nil // interning is done: the profiles are numbered
	u := &Universe{Sources: sources, KeyFingerprint: key}
	if err := b.dataSets(u); err != nil {
		return nil, err
	}
	w, err := newRowWriter(&u.rows, dir, parts.rows)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			u.Close()
		}
	}()
	if err := b.ranges(ctx, u, w); err != nil {
		return nil, err
	}
	u.Profiles.sym = b.syms
	pairs := b.linkPairs(u)
	b.linked = nil
	u.formUnits(u.Len(), pairs)
	u.keepLinkedRows()
	if err := u.Err(); err != nil {
		return nil, err
	}
	ok = true
	return u, nil
}

// rangeHook, if set (by tests), is told each range's EES rows.
var rangeHook func(eesRows int)

// The kinds of table Build reads.
const (
	tableEES   = iota // an EES portfolio: every row an MPAN's attributes
	tableLinks        // registration's D0204 group 48M: related MPANs, and the MPANs it holds
	tableHeld         // a D-flow table: the MPANs of its unit group
)

// orderBits bounds a table's place in source order, kept with each row.
const orderBits = 16

// sourceTable is one table Build reads; its place in tables is its order.
type sourceTable struct {
	key  string
	kind int
	set  DataSet // its data set (Flow set once read, for D-flow tables)
	flag uint8   // the flag its MPANs get
	// Once read: rows it gave (held MPANs for tableHeld and tableLinks)
	// and the bit of its data set (0 for none).
	rows int
	bit  uint16
}

// plan lists the tables of the sources, in source order.
func plan(sources []Source) []*sourceTable {
	var out []*sourceTable
	for _, s := range sources {
		switch s.Universe {
		case cut.UniverseAttributes:
			if k := s.TableKey("ees_portfolio"); k != "" {
				out = append(out, &sourceTable{key: k, kind: tableEES, set: DataSet{Cut: s.Cut, Universe: s.Universe}})
			}
			continue
		case cut.UniverseLinks:
			if k := s.TableKey("d0204_48m"); k != "" {
				out = append(out, &sourceTable{key: k, kind: tableLinks, flag: InRegistration,
					set: DataSet{Cut: s.Cut, Flow: "D0204", Universe: s.Universe}})
			}
		}
		// Every D-flow table of the cut: the MPANs of its unit group.
		flag := map[string]uint8{cut.UniverseMTD: InMTD, cut.UniverseCustomer: InCustomer}[s.Universe]
		for _, t := range s.Manifest.Tables {
			if t.Name == "d0204_48m" && s.Universe == cut.UniverseLinks {
				continue // read above
			}
			out = append(out, &sourceTable{key: t.Key, kind: tableHeld, flag: flag, set: DataSet{Cut: s.Cut, Universe: s.Universe}})
		}
	}
	return out
}

// builder is one Build's state.
type builder struct {
	tables []*sourceTable
	parts  *partitions

	// Profiles as their values' symbols (a quarter of a Profile's size),
	// numbered provisionally in order of reading.
	mu         sync.Mutex
	syms       symbols
	profiles   []profileKey
	profileIDs map[profileKey]uint32
	links      [][2]uint64 // related MPANs' cores, until the ranges
	eesBits    uint16      // the EES tables' data sets: every MPAN is in them

	// While the ranges are made, linked holds every related MPAN's core,
	// ascending, and pairs the related pairs as places in it (half the
	// size of two cores). As the ranges pass a core, it is replaced by its
	// MPAN's index (noMPAN when it is in no EES table): a second slice of
	// indices was a third more. passed is the first place not passed.
	linked []uint64
	pairs  [][2]int32
	passed int
}

// noMPAN marks a related core in no EES table in builder.linked.
const noMPAN = math.MaxUint64

// profileID interns a profile, giving its provisional id.
func (b *builder) profileID(p Profile) uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.syms.key(p)
	id, ok := b.profileIDs[k]
	if !ok {
		id = uint32(len(b.profiles))
		b.profileIDs[k] = id
		b.profiles = append(b.profiles, k)
	}
	return id
}

// readAll reads every table into the partitions, in parallel, one per
// worker.
func (b *builder) readAll(ctx context.Context, st store.Store, mem memory.Allocator) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for order, t := range b.tables {
		g.Go(func() error {
			switch t.kind {
			case tableEES:
				return readEES(gctx, st, t.key, mem, b.profileID, func(cores []uint64, pids []uint32) error {
					t.rows += len(cores)
					return b.parts.addEES(cores, pids, order)
				})
			case tableLinks:
				links, err := readLinks(gctx, st, t.key, mem, func(cores []uint64) error {
					t.rows += len(cores)
					return b.parts.addHeld(cores, order)
				})
				links = uniquePairs(links)
				b.mu.Lock()
				b.links = append(b.links, links...)
				b.mu.Unlock()
				return err
			default:
				flow, err := readHeld(gctx, st, t.key, mem, func(cores []uint64) error {
					t.rows += len(cores)
					return b.parts.addHeld(cores, order)
				})
				t.set.Flow = flow
				return err
			}
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	b.links = uniquePairs(b.links) // a pair is often in several tables
	return b.parts.flush()
}

// uniquePairs gives each related pair once, lower core first: a D-flow
// names a relation on each of its MPANs' instances.
func uniquePairs(p [][2]uint64) [][2]uint64 {
	for i, l := range p {
		if l[0] > l[1] {
			p[i] = [2]uint64{l[1], l[0]}
		}
	}
	slices.SortFunc(p, func(x, y [2]uint64) int {
		if c := cmp.Compare(x[0], y[0]); c != 0 {
			return c
		}
		return cmp.Compare(x[1], y[1])
	})
	if u := slices.Compact(p); len(u) < len(p) {
		return slices.Clone(u) // at its size: the pairs are kept to the units
	}
	return p
}

// dataSets numbers the data sets in source order of the first table holding
// some MPAN of theirs (every EES table; other tables when they hold some)
// and gives each table its set's bit.
func (b *builder) dataSets(u *Universe) error {
	distinct := 0
	for _, t := range b.tables {
		if t.set.Cut == "" || (t.kind != tableEES && t.rows == 0) {
			continue
		}
		i := slices.Index(u.DataSets, t.set)
		if i < 0 {
			distinct++
			if len(u.DataSets) == MaxDataSets {
				continue
			}
			i = len(u.DataSets)
			u.DataSets = append(u.DataSets, t.set)
		}
		t.bit = 1 << i
		if t.kind == tableEES {
			b.eesBits |= t.bit
		}
	}
	if distinct > MaxDataSets {
		return fmt.Errorf("the sources hold more than %d flows (cut type and flow): the universe records at most %d; use fewer source cut types", MaxDataSets, MaxDataSets)
	}
	return nil
}

// ranges makes the MPANs range by range, in order of core, and writes them.
func (b *builder) ranges(ctx context.Context, u *Universe, w *rowWriter) error {
	b.placeLinks()
	renumber := make([]uint32, len(b.profiles)) // provisional id → final + 1
	profiles := uint32(0)
	orders := b.parts.orders
	var keys, held []uint64
	var pids []uint32
	var out []MPAN
	for r := range b.parts.n() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		if keys, pids, err = b.parts.loadEES(r, keys[:0], pids[:0]); err != nil {
			return err
		}
		if rangeHook != nil {
			rangeHook(len(keys))
		}
		// By core, then source order; rows of one table keep their order.
		sortBits(keys, pids, 0, coreBits+orders)
		out = out[:0]
		for i, k := range keys {
			c := k >> orders
			if len(out) > 0 && out[len(out)-1].Core == c {
				continue // the MPAN's other meters
			}
			pid := pids[i]
			if renumber[pid] == 0 { // profiles are numbered by their first MPAN
				profiles++
				renumber[pid] = profiles
			}
			out = append(out, MPAN{Core: c, Profile: renumber[pid] - 1, Data: b.eesBits})
		}
		u.Stats.EESRows += len(keys)
		if held, err = b.parts.loadHeld(r, held[:0]); err != nil {
			return err
		}
		sortBits(held, nil, orderBits, orderBits+coreBits)
		b.apply(out, held)
		b.findLinks(out, w.r.n)
		for _, m := range out {
			if m.Flags&InRegistration != 0 {
				u.Stats.Registered++
			}
			if m.Flags&InMTD != 0 {
				u.Stats.WithMTD++
			}
			if m.Flags&InCustomer != 0 {
				u.Stats.WithCustomer++
			}
		}
		if err := w.add(out); err != nil {
			return err
		}
	}
	u.Stats.MPANs = w.r.n
	u.Stats.ExtraMeterRows = u.Stats.EESRows - w.r.n
	for j := b.passed; j < len(b.linked); j++ {
		b.linked[j] = noMPAN // above every MPAN
	}
	// The table in final order, made once the ranges' buffers are gone.
	u.Profiles.keys = make([]profileKey, profiles)
	for pid, n := range renumber {
		if n > 0 {
			u.Profiles.keys[n-1] = b.profiles[pid]
		}
	}
	b.profiles = nil
	return nil
}

// placeLinks sorts the related cores into linked and the pairs into places
// in it.
func (b *builder) placeLinks() {
	b.linked = make([]uint64, 0, 2*len(b.links))
	for _, l := range b.links {
		b.linked = append(b.linked, l[0], l[1])
	}
	slices.Sort(b.linked)
	b.linked = slices.Clone(slices.Compact(b.linked)) // at its size: a few in a hundred MPANs
	place := func(c uint64) int32 {
		j, _ := slices.BinarySearch(b.linked, c)
		return int32(j)
	}
	b.pairs = make([][2]int32, len(b.links))
	for i, l := range b.links {
		b.pairs[i] = [2]int32{place(l[0]), place(l[1])}
	}
	b.links = nil
}

// apply gives the MPANs (ascending) the flags and data sets of the held
// cores (core << orderBits | table, ascending by core) that are theirs.
func (b *builder) apply(out []MPAN, held []uint64) {
	j := 0
	for _, h := range held {
		c := h >> orderBits
		for j < len(out) && out[j].Core < c {
			j++
		}
		if j == len(out) {
			return
		}
		if out[j].Core == c {
			t := b.tables[h&(1<<orderBits-1)]
			out[j].Flags |= t.flag
			out[j].Data |= t.bit
		}
	}
}

// findLinks replaces the core of every related MPAN among out (the next
// range's, ascending), whose first has index base, by its index, and that
// of every related core below out's last by noMPAN.
func (b *builder) findLinks(out []MPAN, base int) {
	j := b.passed
	for i := 0; i < len(out) && j < len(b.linked); {
		switch c := b.linked[j]; {
		case out[i].Core < c:
			i++
		case out[i].Core > c:
			b.linked[j] = noMPAN // in no EES table
			j++
		default:
			b.linked[j] = uint64(base + i)
			i++
			j++
		}
	}
	b.passed = j
}

// linkPairs are the related MPANs by index (in the pairs' place); pairs
// with an MPAN in no EES table are counted, not kept.
func (b *builder) linkPairs(u *Universe) [][2]int32 {
	pairs := b.pairs[:0]
	for _, p := range b.pairs {
		x, y := b.linked[p[0]], b.linked[p[1]]
		if x == noMPAN || y == noMPAN {
			u.Stats.LinksOutside++
			continue
		}
		pairs = append(pairs, [2]int32{int32(x), int32(y)})
	}
	b.pairs = nil
	return pairs
}
