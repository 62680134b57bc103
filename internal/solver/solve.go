package solver

import (
	"container/heap"
	"encoding/binary"
	"slices"
	"sort"

	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// Result is an allocation.
type Result struct {
	Asks []*Ask
	// Given lists the units given, ask by ask, each ask's units by rank.
	Given []Given
	// Reappoint maps, per environment and role, a real appointee that is
	// not onboarded to the onboarded participant that stands in for it.
	Reappoint map[string]map[string]map[string]string
	Universe  *universe.Universe
	Plan      *plan.Plan
	// Unplaced counts units eligible for no ask at all.
	Unplaced int
}

// Given is one unit given to one ask.
type Given struct {
	Unit   int32
	Ask    int32
	Pinned bool // kept from the ledger
}

// Ledger holds earlier assignments: unit lead core → ask key.
type Ledger map[string]string

// Held are the units other plans' latest runs hold: unit lead core → plan.
// They are reserved for those plans (unless this plan may share).
type Held map[string]string

// Allocate solves the plan on the universe. Every step is deterministic in
// (plan, universe, ledger); file order and portfolio size never decide.
func Allocate(p *plan.Plan, u *universe.Universe, ledger Ledger, held Held) *Result {
	return AllocateWith(p, u, ledger, held, Extras{})
}

// Extras are what a run adds to Allocate's inputs.
type Extras struct {
	// Excluded are kept out of supply (see Excluded).
	Excluded Excluded
	// Synthetic maps an ask key to the number of synthetic units
	// (policy.top_up) the plan's earlier run gave it. They count as held
	// after the ledger's real units, so the allocation fills only the rest.
	Synthetic map[string]int
}

// AllocateWith is Allocate with the run's extras: excluded units kept out
// of supply, and the ledger's synthetic units kept first.
func AllocateWith(p *plan.Plan, u *universe.Universe, ledger Ledger, held Held, x Extras) *Result {
	asks := Expand(p)
	s := &solver{p: p, u: u, asks: asks, words: (len(asks) + 63) / 64}
	s.linkBits()
	s.profileBits()
	s.classify()
	s.exclude(x.Excluded)
	s.reserve(held)
	s.pin(ledger)
	keepSynthetic(asks, x.Synthetic)
	s.fill()
	res := &Result{Asks: asks, Universe: u, Plan: p, Reappoint: reappointMaps(p, u)}
	res.Given = s.choose()
	s.explain()
	res.Unplaced = s.classes.unplacedUnits
	return res
}

type solver struct {
	p     *plan.Plan
	u     *universe.Universe
	asks  []*Ask
	words int

	match, party []uint32              // per profile: the set (bits) of asks whose filter / parties it passes
	bits         bitSets               // those sets, each once
	noAppointee  []uint32              // per profile: bit r set when it has no appointee of plan.Roles[r]
	loads        []map[string][]uint64 // per role: appointee → asks whose role can load it

	// Data: per role, the data sets its pack holds; the distinct
	// signatures (data sets of an MPAN, relevant bits only) with, per
	// signature, the asks whose has filter it passes, whose roles' packs
	// hold its data, and that per role.
	roleData           []uint16
	relevant           uint16
	sigIdx             []int32 // signature value → index
	sigs               []uint16
	sigHas, sigData    [][]uint64
	sigRoleOK          [][][]uint64
	single, linkedAsks []uint64 // asks a single / linked unit may serve
	// Per kind, computed on demand: the numbers in bits of the sets of
	// asks it matches and whose parties can load it, plus one (0: not
	// yet). A set of its own per kind took 64 MB at 3·10^7 MPANs.
	kindM, kindP []uint32
	kindScratch  [3][]uint64 // kindBits' sets being made, made with kindM

	classes   unitClasses // per unit (classOf); -1: no ask can take it
	classBits [][]uint64  // per class: the asks its units can serve
	classSize []int       // units per class, pinned ones excluded
	supply    []int       // units per class not yet given
	classAsks [][]int32   // per class: asks it can serve
	askClass  [][]int32   // per ask: classes that can serve it
	flow      []map[int32]int
	direct    []int            // per ask: first class in askClass that may have supply
	pinned    map[int32]int32  // unit → ask
	pinRank   map[int32]uint64 // pinned unit → its rank
}

// ranked is a unit and its rank.
type ranked struct {
	unit int32
	rank uint64
}

// linkBits sets the asks a single unit and a linked unit may serve.
func (s *solver) linkBits() {
	s.single, s.linkedAsks = make([]uint64, s.words), make([]uint64, s.words)
	for i, a := range s.asks {
		if a.linked == nil || !*a.linked {
			s.single[i/64] |= 1 << (i % 64)
		}
		if a.linked == nil || *a.linked {
			s.linkedAsks[i/64] |= 1 << (i % 64)
		}
	}
}

// profileBits computes, per profile, the asks whose filter it passes and
// those whose parties can load it. Both are per attribute value: the asks
// accepting a value are worked out once per distinct value and profiles
// AND them together, so the cost grows with profiles × attributes, not
// profiles × asks. What an MPAN has besides its profile (the data sets
// holding it, whether its unit is linked) makes its kind; kinds refine the
// profiles' bits (see kindBits).
func (s *solver) profileBits() {
	np := s.u.Profiles.Len()
	s.match = make([]uint32, np)
	s.party = make([]uint32, np)
	s.bits = bitSets{ids: map[string]uint32{}}
	for _, a := range s.asks {
		a.Stats.BlockedMPANs = map[string]int{}
		a.Stats.NoDataMPANs = map[string]int{}
	}
	var accept [universe.NumAttrs]map[string][]uint64      // asks whose filter takes the value
	s.loads = make([]map[string][]uint64, len(plan.Roles)) // asks whose role can load the appointee
	for i := range accept {
		accept[i] = map[string][]uint64{}
	}
	for r := range s.loads {
		s.loads[r] = map[string][]uint64{}
	}
	s.noAppointee = make([]uint32, np)
	m, pa := make([]uint64, s.words), make([]uint64, s.words)
	for pid := range np {
		pr := s.u.Profiles.At(uint32(pid))
		for w := range m {
			m[w], pa[w] = ^uint64(0), ^uint64(0)
		}
		for attr, v := range pr {
			b := s.bitsFor(accept[attr], v, func(a *Ask) bool { return a.accepts(attr, v) })
			for w := range m {
				m[w] &= b[w]
			}
		}
		for r, role := range plan.Roles {
			real := pr[roleAttr[role]]
			if real == "" {
				s.noAppointee[pid] |= 1 << r
			}
			b := s.bitsFor(s.loads[r], real, func(a *Ask) bool { return a.loads(s.p, role, real) })
			for w := range pa {
				pa[w] &= b[w]
			}
		}
		s.match[pid], s.party[pid] = s.bits.id(m), s.bits.id(pa)
	}
	s.dataBits()
	s.countKinds()
}

// bitSets numbers distinct sets of asks: the profiles and kinds share a
// few hundred (346 for the national plan's 186,000 profiles at 3·10^7
// MPANs), where each held two of its own.
type bitSets struct {
	sets [][]uint64
	ids  map[string]uint32 // a set's bytes → its number
	key  []byte
}

// id is set's number; set may be reused once it returns.
func (b *bitSets) id(set []uint64) uint32 {
	b.key = b.key[:0]
	for _, w := range set {
		b.key = binary.LittleEndian.AppendUint64(b.key, w)
	}
	if id, ok := b.ids[string(b.key)]; ok {
		return id
	}
	id := uint32(len(b.sets))
	b.sets = append(b.sets, slices.Clone(set))
	b.ids[string(b.key)] = id
	return id
}

func (s *solver) ones() []uint64 {
	b := make([]uint64, s.words)
	for w := range b {
		b[w] = ^uint64(0)
	}
	return b
}

// bitsFor memoises, by value, the asks ok accepts.
func (s *solver) bitsFor(memo map[string][]uint64, v string, ok func(a *Ask) bool) []uint64 {
	if b, found := memo[v]; found {
		return b
	}
	b := make([]uint64, s.words)
	for i, a := range s.asks {
		if ok(a) {
			b[i/64] |= 1 << (i % 64)
		}
	}
	memo[v] = b
	return b
}

// dataBits works out, per distinct combination of data sets an MPAN is in
// (its signature), the asks whose has filter it passes and those whose
// roles' packs would hold some of its data. A role whose pack holds no
// source data at all (the plan gives it none) is not asked; nor is any
// role when the policy allows missing data.
func (s *solver) dataBits() {
	s.roleData = make([]uint16, len(plan.Roles))
	var relevant uint16
	for r, role := range plan.Roles {
		s.roleData[r] = s.u.DataMask(func(d universe.DataSet) bool { return s.p.Receives(role, plan.DataSet{Cut: d.Cut, Flow: d.Flow}) })
		relevant |= s.roleData[r]
	}
	hasMask := map[string]uint16{}
	for h, kind := range plan.HasData {
		hasMask[h] = s.u.DataMask(func(d universe.DataSet) bool { return d.Universe == kind })
		relevant |= hasMask[h]
	}
	s.sigIdx = make([]int32, 1<<16)
	for i := range s.sigIdx {
		s.sigIdx[i] = -1
	}
	s.relevant = relevant
	add := func(v uint16) {
		if s.sigIdx[v] >= 0 {
			return
		}
		s.sigIdx[v] = int32(len(s.sigs))
		s.sigs = append(s.sigs, v)
	}
	add(0)
	for _, m := range s.u.All() {
		add(m.Data & relevant)
	}
	for _, v := range s.sigs {
		has, data := s.ones(), s.ones()
		roleOK := make([][]uint64, len(plan.Roles))
		for i, a := range s.asks {
			for _, h := range a.has {
				if v&hasMask[h] == 0 {
					has[i/64] &^= 1 << (i % 64)
				}
			}
		}
		for r, role := range plan.Roles {
			ok := s.ones()
			for i, a := range s.asks {
				if s.p.Policy.AllowMissingData || s.roleData[r] == 0 || v&s.roleData[r] != 0 {
					continue
				}
				if _, required := a.Env.Participants[role]; required {
					ok[i/64] &^= 1 << (i % 64)
				}
			}
			roleOK[r] = ok
			for w := range data {
				data[w] &= ok[w]
			}
		}
		s.sigHas, s.sigData, s.sigRoleOK = append(s.sigHas, has), append(s.sigData, data), append(s.sigRoleOK, roleOK)
	}
}

// sigOf is the data signature of an MPAN in data sets d.
func (s *solver) sigOf(d uint16) int { return int(s.sigIdx[d&s.relevant]) }

// kindOfMPAN is kindOf an MPAN.
func (s *solver) kindOfMPAN(m universe.MPAN, linked bool) int {
	return s.kindOf(m.Profile, s.sigOf(m.Data), linked)
}

// kindOf numbers an MPAN's kind: its profile, data signature and whether
// its unit is linked.
func (s *solver) kindOf(pid uint32, sig int, linked bool) int {
	k := (int(pid)*len(s.sigs) + sig) * 2
	if linked {
		k++
	}
	return k
}

// countKinds counts the MPANs of each kind and, ask by ask, those that
// match, and of them those that cannot be loaded, by the first role that
// cannot (its appointee first, then its pack's data).
func (s *solver) countKinds() {
	count := make([]int32, s.u.Profiles.Len()*len(s.sigs)*2)
	for unit, lead := range s.u.Units() {
		if !s.u.Linked(int(unit)) {
			count[s.kindOfMPAN(lead, false)]++
			continue
		}
		for _, m := range s.u.LinkedRows(int(unit)) {
			count[s.kindOfMPAN(m, true)]++
		}
	}
	s.kindM = make([]uint32, len(count))
	s.kindP = make([]uint32, len(count))
	for i := range s.kindScratch {
		s.kindScratch[i] = make([]uint64, s.words)
	}
	for k, n := range count {
		if n == 0 {
			continue
		}
		m, pa := s.kindBits(k)
		pid := k / 2 / len(s.sigs)
		pr := s.u.Profiles.At(uint32(pid))
		for i, a := range s.asks {
			if m[i/64]&(1<<(i%64)) == 0 {
				continue
			}
			a.Stats.MatchingMPANs += int(n)
			if pa[i/64]&(1<<(i%64)) != 0 {
				continue
			}
			if role := s.blockedBy(i, &pr); role != "" {
				a.Stats.BlockedMPANs[role] += int(n)
				continue
			}
			for r, role := range plan.Roles {
				if s.noAppointee[pid]&(1<<r) != 0 {
					continue // nobody of the role loads it: its pack's data is not asked
				}
				if s.sigRoleOK[k/2%len(s.sigs)][r][i/64]&(1<<(i%64)) == 0 {
					a.Stats.NoDataMPANs[role] += int(n)
					break
				}
			}
		}
	}
}

// kindBits are the asks kind k matches and those whose parties can load
// it: its profile's, narrowed by its data and its unit's linking. A role
// the profile has no appointee of loads nothing of it, so its pack's data
// is not asked.
func (s *solver) kindBits(k int) (m, pa []uint64) {
	if s.kindM[k] != 0 {
		return s.bits.sets[s.kindM[k]-1], s.bits.sets[s.kindP[k]-1]
	}
	sig := k / 2 % len(s.sigs)
	pid := k / 2 / len(s.sigs)
	link := s.single
	if k%2 == 1 {
		link = s.linkedAsks
	}
	m, pa = s.kindScratch[0], s.kindScratch[1]
	data := s.sigData[sig]
	if s.noAppointee[pid] != 0 {
		data = s.kindScratch[2]
		for w := range data {
			data[w] = ^uint64(0)
		}
		for r := range plan.Roles {
			if s.noAppointee[pid]&(1<<r) != 0 {
				continue
			}
			for w := range data {
				data[w] &= s.sigRoleOK[sig][r][w]
			}
		}
	}
	match, party := s.bits.sets[s.match[pid]], s.bits.sets[s.party[pid]]
	for w := range m {
		m[w] = match[w] & s.sigHas[sig][w] & link[w]
		pa[w] = party[w] & data[w]
	}
	s.kindM[k], s.kindP[k] = s.bits.id(m)+1, s.bits.id(pa)+1
	return s.bits.sets[s.kindM[k]-1], s.bits.sets[s.kindP[k]-1]
}

// blockedBy names the first role whose appointee cannot load profile pr
// for ask i, "" if every one can.
func (s *solver) blockedBy(i int, pr *universe.Profile) string {
	for r, role := range plan.Roles {
		if s.loads[r][pr[roleAttr[role]]][i/64]&(1<<(i%64)) == 0 {
			return role
		}
	}
	return ""
}

// classify gives each unit the set of asks it can serve, interned as a
// class: units of one class are interchangeable, so the flow problem is
// solved on classes, not on millions of units.
func (s *solver) classify() {
	ids := map[string]int32{}
	var key []byte
	intern := func(bits []uint64) int32 {
		empty := true
		for _, w := range bits {
			if w != 0 {
				empty = false
				break
			}
		}
		if empty {
			return -1
		}
		key = appendBitsKey(key[:0], bits)
		if id, ok := ids[string(key)]; ok { // a lookup by string(bytes) allocates nothing
			return id
		}
		id := int32(len(s.classBits))
		ids[string(key)] = id
		s.classBits = append(s.classBits, append([]uint64(nil), bits...))
		return id
	}
	uc := &s.classes
	uc.byKind = make([]int32, s.u.Profiles.Len()*len(s.sigs))
	for k := range uc.byKind {
		uc.byKind[k] = unmet
	}
	uc.kindUnits = make([]int32, len(uc.byKind))
	n := s.u.NumUnits()
	uc.moved = make([]uint64, (n+63)/64)
	uc.linked, uc.linkedClass = make([]int32, 0, s.u.NumLinked()), make([]int32, 0, s.u.NumLinked())
	orM, andP := make([]uint64, s.words), make([]uint64, s.words)
	for unit, lead := range s.u.Units() {
		if !s.u.Linked(int(unit)) {
			sk := s.singleKind(lead)
			if uc.byKind[sk] == unmet {
				km, kp := s.kindBits(s.kindOfMPAN(lead, false))
				for w := range orM {
					orM[w] = km[w] & kp[w]
				}
				uc.byKind[sk] = intern(orM)
			}
			uc.kindUnits[sk]++
			continue
		}
		for w := range orM {
			orM[w], andP[w] = 0, ^uint64(0)
		}
		for _, m := range s.u.LinkedRows(int(unit)) {
			km, kp := s.kindBits(s.kindOfMPAN(m, true))
			for w := range orM {
				orM[w] |= km[w]
				andP[w] &= kp[w]
			}
		}
		for w := range orM {
			orM[w] &= andP[w]
		}
		uc.linked = append(uc.linked, unit)
		uc.linkedClass = append(uc.linkedClass, intern(orM))
	}
	s.kindM, s.kindP = nil, nil
	s.canonicalClasses()
	nc := len(s.classBits)
	s.classSize = make([]int, nc)
	count := func(c int32, units int) {
		if c >= 0 {
			s.classSize[c] += units
		} else if c == -1 {
			uc.unplacedUnits += units
		}
	}
	for k, c := range uc.byKind {
		count(c, int(uc.kindUnits[k]))
	}
	for _, c := range uc.linkedClass {
		count(c, 1)
	}
	s.classAsks = make([][]int32, nc)
	s.askClass = make([][]int32, len(s.asks))
	for c, bits := range s.classBits {
		for i := range s.asks {
			if bits[i/64]&(1<<(i%64)) != 0 {
				s.classAsks[c] = append(s.classAsks[c], int32(i))
				s.askClass[i] = append(s.askClass[i], int32(c))
				s.asks[i].Stats.EligibleUnits += s.classSize[c]
			}
		}
	}
}

// rank is a unit's rank, from its lead's core: a seeded hash, so neither
// file order nor portfolio size decides which units are given.
func (s *solver) rank(leadCore uint64) uint64 { return mix(leadCore ^ s.p.Seed) }

// unitLedBy is the unit whose lead has core lead (as FormatCore renders it).
func (s *solver) unitLedBy(lead string) (unit int32, core uint64, ok bool) {
	core, ok = universe.ParseCore(lead)
	if !ok {
		return 0, 0, false
	}
	i, ok := s.u.Find(core)
	if !ok {
		return 0, 0, false
	}
	unit = s.u.UnitOf(i)
	return unit, core, s.u.Lead(int(unit)) == i
}

// canonicalClasses numbers classes by their ask sets, not by which unit
// came first, so input order cannot change the result.
func (s *solver) canonicalClasses() {
	order := make([]int32, len(s.classBits))
	for i := range order {
		order[i] = int32(i)
	}
	sort.Slice(order, func(i, j int) bool { return bitsKey(s.classBits[order[i]]) < bitsKey(s.classBits[order[j]]) })
	newID := make([]int32, len(order))
	bits := make([][]uint64, len(order))
	for n, old := range order {
		newID[old] = int32(n)
		bits[n] = s.classBits[old]
	}
	s.classBits = bits
	for _, cs := range [][]int32{s.classes.byKind, s.classes.linkedClass} {
		for i, c := range cs {
			if c >= 0 {
				cs[i] = newID[c]
			}
		}
	}
}

// unmet marks a kind no single unit has (byKind).
const unmet = -1 << 31

func bitsKey(bits []uint64) string { return string(appendBitsKey(nil, bits)) }

func appendBitsKey(b []byte, bits []uint64) []byte {
	for _, w := range bits {
		for j := 0; j < 8; j++ {
			b = append(b, byte(w>>(8*j)))
		}
	}
	return b
}

// mix is splitmix64's finaliser: a fixed, well-spread rank for a core.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// reserve takes the units other plans hold out of supply: they still count
// as eligible, and an ask short of them says which plans hold how many.
func (s *solver) reserve(held Held) {
	if len(held) == 0 {
		return
	}
	for lead, other := range held { // the order does not matter: counts only
		unit, _, ok := s.unitLedBy(lead)
		if !ok {
			continue
		}
		c := s.classOf(unit)
		if c < 0 {
			continue
		}
		s.classSize[c]--
		s.setClass(unit, reserved)
		for _, ai := range s.classAsks[c] {
			st := &s.asks[ai].Stats
			if st.HeldUnits == nil {
				st.HeldUnits = map[string]int{}
			}
			st.HeldUnits[other]++
		}
	}
}

// reserved is the class of a unit another plan holds (classes below 0
// serve no ask; -1 is a unit no ask could take).
const reserved = -2

// pin keeps the ledger's earlier assignments that are still valid: the unit
// exists, the ask still exists and the unit can still serve it. If an ask
// now asks for fewer, the best-ranked ones stay.
func (s *solver) pin(ledger Ledger) {
	s.pinned = map[int32]int32{}
	if len(ledger) == 0 {
		return
	}
	askIdx := map[string]int32{}
	for i, a := range s.asks {
		askIdx[a.Key] = int32(i)
	}
	byAsk := map[int32][]ranked{}
	for lead, key := range ledger { // in any order: each ask's units are sorted by rank
		unit, core, ok := s.unitLedBy(lead)
		if !ok {
			continue
		}
		c := s.classOf(unit)
		if c < 0 {
			continue
		}
		ai, ok := askIdx[key]
		if !ok || s.classBits[c][ai/64]&(1<<(ai%64)) == 0 {
			continue
		}
		byAsk[ai] = append(byAsk[ai], ranked{unit, s.rank(core)})
	}
	s.pinRank = map[int32]uint64{}
	for ai, units := range byAsk {
		sort.Slice(units, func(i, j int) bool { return units[i].rank < units[j].rank })
		if n := s.asks[ai].Count; len(units) > n {
			units = units[:n]
		}
		for _, x := range units {
			s.pinned[x.unit] = ai
			s.pinRank[x.unit] = x.rank
			s.classSize[s.classOf(x.unit)]--
		}
		s.asks[ai].Pinned = len(units)
	}
}

// fill runs max-min fair progressive filling: the ask with the lowest fill
// rate (held ÷ asked) gets the next units, ties broken by a seeded order of
// ask keys; an ask that can get no more through any augmenting path is
// frozen, and stays so (the set of classes reachable in the residual graph
// only shrinks). When every ask is full or frozen no augmenting path is
// left: the number of units given is the maximum possible.
func (s *solver) fill() {
	s.supply = append([]int(nil), s.classSize...)
	s.direct = make([]int, len(s.asks))
	s.flow = make([]map[int32]int, len(s.classBits))
	for c := range s.flow {
		s.flow[c] = map[int32]int{}
	}
	h := &askHeap{asks: s.asks}
	for i, a := range s.asks {
		if a.Got() < a.Count {
			h.items = append(h.items, heapItem{ask: int32(i), tie: hash64(uintStr(s.p.Seed), a.Key)})
		}
	}
	heap.Init(h)
	g := newSearch(len(s.classBits), len(s.asks))
	for h.Len() > 0 {
		it := heap.Pop(h).(heapItem)
		a := s.asks[it.ask]
		want := a.Count - a.Got()
		if h.Len() > 0 {
			// Catch up with the next lowest fill rate in one go.
			nx := s.asks[h.items[0].ask]
			target := (nx.Got()*a.Count + nx.Count - 1) / nx.Count // ceil(rate(nx) × Count(a))
			want = min(want, max(1, target-a.Got()))
		}
		got := s.augment(g, it.ask, want)
		a.Filled += got
		if got == want && a.Got() < a.Count {
			heap.Push(h, it)
		}
	}
}

// augment pushes up to want more units to ask ai along augmenting paths,
// and returns how many it pushed.
func (s *solver) augment(g *search, ai int32, want int) int {
	pushed := 0
	// Direct supply first: the common case needs no search. Supply never
	// grows, so classes found empty are skipped for good.
	cs := s.askClass[ai]
	for s.direct[ai] < len(cs) && pushed < want {
		c := cs[s.direct[ai]]
		if n := min(s.supply[c], want-pushed); n > 0 {
			s.supply[c] -= n
			s.flow[c][ai] += n
			pushed += n
		}
		if s.supply[c] == 0 {
			s.direct[ai]++
		}
	}
	if pushed == want {
		return pushed
	}
	for pushed < want {
		end, ok := g.find(s, ai)
		if !ok {
			break
		}
		// Bottleneck along the path: the end class's supply and every
		// rerouted flow.
		b := min(s.supply[end], want-pushed)
		for c := end; ; {
			x := g.parentOfClass[c]
			if x == ai {
				break
			}
			c2 := g.parentOfAsk[x]
			b = min(b, s.flow[c2][x])
			c = c2
		}
		s.supply[end] -= b
		for c := end; ; {
			x := g.parentOfClass[c]
			s.flow[c][x] += b
			if x == ai {
				break
			}
			c2 := g.parentOfAsk[x]
			if s.flow[c2][x] -= b; s.flow[c2][x] == 0 {
				delete(s.flow[c2], x)
			}
			c = c2
		}
		pushed += b
	}
	return pushed
}

// search is a breadth-first search backwards from an ask through the
// residual graph: ask ← class (the class can serve it) ← ask (the class's
// units currently serve that ask and could move) ..., until a class with
// units left.
type search struct {
	parentOfClass []int32 // the ask a class would serve next
	parentOfAsk   []int32 // the class an ask would give up units of
	seenClass     []uint32
	seenAsk       []uint32
	stamp         uint32
	queue         []int32
	asks          []int32 // a class's asks, sorted
}

func newSearch(classes, asks int) *search {
	return &search{parentOfClass: make([]int32, classes), parentOfAsk: make([]int32, asks),
		seenClass: make([]uint32, classes), seenAsk: make([]uint32, asks)}
}

func (g *search) find(s *solver, ai int32) (int32, bool) {
	g.stamp++
	g.queue = append(g.queue[:0], ai)
	g.seenAsk[ai] = g.stamp
	for len(g.queue) > 0 {
		x := g.queue[0]
		g.queue = g.queue[1:]
		for _, c := range s.askClass[x] {
			if g.seenClass[c] == g.stamp {
				continue
			}
			g.seenClass[c] = g.stamp
			g.parentOfClass[c] = x
			if s.supply[c] > 0 {
				return c, true
			}
			// Asks in order, not map order: of the paths that tie, the
			// search must take the same one every run.
			g.asks = g.asks[:0]
			for y := range s.flow[c] {
				g.asks = append(g.asks, y)
			}
			slices.Sort(g.asks)
			for _, y := range g.asks {
				if g.seenAsk[y] == g.stamp {
					continue
				}
				g.seenAsk[y] = g.stamp
				g.parentOfAsk[y] = c
				g.queue = append(g.queue, y)
			}
		}
	}
	return 0, false
}

type heapItem struct {
	ask int32
	tie uint64
}

type askHeap struct {
	asks  []*Ask
	items []heapItem
}

func (h *askHeap) Len() int { return len(h.items) }
func (h *askHeap) Less(i, j int) bool {
	a, b := h.asks[h.items[i].ask], h.asks[h.items[j].ask]
	// Compare Got/Count exactly.
	l, r := a.Got()*b.Count, b.Got()*a.Count
	if l != r {
		return l < r
	}
	return h.items[i].tie < h.items[j].tie
}
func (h *askHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *askHeap) Push(x any)    { h.items = append(h.items, x.(heapItem)) }
func (h *askHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}

// choose picks the units of each class its flow gives out: the best-ranked
// units not pinned, ask by ask in ask order. Ranks are a seeded hash of the
// unit's lead core, so neither file order nor portfolio size decides.
func (s *solver) choose() []Given {
	need := make([]int, len(s.classBits))
	for c, f := range s.flow {
		for _, n := range f {
			need[c] += n
		}
	}
	best := make([]*rankHeap, len(s.classBits))
	for unit, lead := range s.u.Units() {
		c := s.classOfLead(unit, lead)
		if c < 0 || need[c] == 0 {
			continue
		}
		if _, ok := s.pinned[unit]; ok {
			continue
		}
		if best[c] == nil {
			best[c] = &rankHeap{}
		}
		best[c].offer(unit, s.rank(lead.Core), need[c])
	}
	var out []Given
	rank := map[int32]uint64{}
	for unit, ai := range s.pinned {
		out = append(out, Given{Unit: unit, Ask: ai, Pinned: true})
		rank[unit] = s.pinRank[unit]
	}
	for c, f := range s.flow {
		if need[c] == 0 {
			continue
		}
		for i, unit := range best[c].units {
			rank[unit] = best[c].ranks[i]
		}
		units := best[c].sorted()
		asks := make([]int32, 0, len(f))
		for ai := range f {
			asks = append(asks, ai)
		}
		sort.Slice(asks, func(i, j int) bool { return asks[i] < asks[j] })
		for _, ai := range asks {
			for _, unit := range units[:f[ai]] {
				out = append(out, Given{Unit: unit, Ask: ai})
			}
			units = units[f[ai]:]
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Ask != out[j].Ask {
			return out[i].Ask < out[j].Ask
		}
		return rank[out[i].Unit] < rank[out[j].Unit]
	})
	return out
}

// rankHeap keeps the k best-ranked (lowest) units offered.
type rankHeap struct {
	units []int32
	ranks []uint64
}

func (h *rankHeap) Len() int           { return len(h.units) }
func (h *rankHeap) Less(i, j int) bool { return h.ranks[i] > h.ranks[j] } // max-heap
func (h *rankHeap) Swap(i, j int) {
	h.units[i], h.units[j] = h.units[j], h.units[i]
	h.ranks[i], h.ranks[j] = h.ranks[j], h.ranks[i]
}
func (h *rankHeap) Push(x any) {}
func (h *rankHeap) Pop() any {
	h.units, h.ranks = h.units[:len(h.units)-1], h.ranks[:len(h.ranks)-1]
	return nil
}

func (h *rankHeap) offer(unit int32, rank uint64, k int) {
	if len(h.units) < k {
		h.units, h.ranks = append(h.units, unit), append(h.ranks, rank)
		heap.Fix(h, len(h.units)-1)
		return
	}
	if rank >= h.ranks[0] {
		return
	}
	h.units[0], h.ranks[0] = unit, rank
	heap.Fix(h, 0)
}

func (h *rankHeap) sorted() []int32 {
	idx := make([]int, len(h.units))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return h.ranks[idx[a]] < h.ranks[idx[b]] })
	out := make([]int32, len(idx))
	for i, j := range idx {
		out[i] = h.units[j]
	}
	return out
}
