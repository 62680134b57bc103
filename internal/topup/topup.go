// Package topup creates synthetic units for what the universe cannot give:
// after the allocation, each short ask of a plan whose policy.top_up is on
// gets new single metering points that satisfy its filter, whose every
// loading role is onboarded (its target participant, for a per-role ask),
// with MPAN cores that are valid (check digit, distributor, GSP group) and
// in use nowhere else. A unit derives from the plan's name and seed, the
// ask's key and its number among the ask's synthetic units alone, so the
// same plan, seed and inputs give the same units, and an ask keeps its
// first units when it needs fewer. It touches no store.
package topup

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mhhs-sit/datacut/internal/mpan"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// Unit is one synthetic unit: a single metering point given to an ask.
type Unit struct {
	Ask     int32 // index into the result's asks
	Index   int   // its number among the ask's synthetic units, from 0
	Kept    bool  // the plan's earlier run held it (the ledger)
	Point   *synth.Point
	Profile universe.Profile
	// Import is, for a linked unit, the real MPAN (universe index) the new
	// export MPAN (Point) is linked to; -1 for a single synthetic MPAN.
	Import int32
}

// Core is the unit's MPAN core.
func (u *Unit) Core() string { return u.Point.Core }

// Limits bound the synthetic units: of the whole plan and of one demand
// (over its asks); 0 does not bound.
type Limits struct{ Units, PerDemand int }

// LimitsOf are the plan's policy.top_up limits; ok is false when the plan
// creates no synthetic units.
func LimitsOf(p *plan.Plan) (l Limits, ok bool) {
	on, units, per := p.TopUpLimits()
	return Limits{Units: units, PerDemand: per}, on
}

// MaxTries bounds the candidate points examined for one unit: a filter no
// point of the generator matches within it cannot be topped up.
const MaxTries = 20000

// Fill tops up the short asks of res, in plan order, within the limits.
// The asks' Synthetic counts on entry are the ledger's kept units (see
// solver.AllocateWith); on return they count every synthetic unit the
// ask holds, and an ask still short says why in Why. taken reports a core
// that is in use (the universe, other plans' units): no unit gets one.
// The units come ask by ask, each ask's by number.
//
// A linked ask is topped up with new export MPANs, each linked to a real
// import MPAN of the universe that has none and that importOK accepts for
// the ask (nil: linked asks are not topped up).
func Fill(res *solver.Result, l Limits, taken func(core uint64) bool, importOK func(a *solver.Ask, m int32) bool) []Unit {
	p := res.Plan
	f := &filler{p: p, res: res, taken: taken, importOK: importOK, used: map[uint64]bool{}, imported: map[int32]bool{}, fails: map[string]string{},
		sampler: synth.NewSampler(mix(p.Seed, "top-up", p.Name))}
	planLeft := l.Units
	demandLeft := map[*plan.Demand]int{}
	budget := func(a *solver.Ask) int {
		n := a.Count
		if l.Units > 0 {
			n = min(n, planLeft)
		}
		if l.PerDemand > 0 {
			left, ok := demandLeft[a.Demand]
			if !ok {
				left = l.PerDemand
			}
			n = min(n, left)
		}
		return max(n, 0)
	}
	spend := func(a *solver.Ask, n int) {
		planLeft -= n
		if _, ok := demandLeft[a.Demand]; !ok {
			demandLeft[a.Demand] = l.PerDemand
		}
		demandLeft[a.Demand] -= n
	}
	// The ledger's units first, within the limits as they are now.
	kept := make([]int, len(res.Asks))
	for i, a := range res.Asks {
		a.Synthetic = min(a.Synthetic, budget(a))
		kept[i] = a.Synthetic
		spend(a, a.Synthetic)
	}
	var out []Unit
	for i, a := range res.Asks {
		short := a.Count - a.Got()
		want := a.Synthetic + min(short, budget(a))
		var units []Unit
		why := ""
		linked := a.Linked() != nil && *a.Linked()
		if linked && importOK == nil {
			want, why = a.Synthetic, "top-up: linked units are not created here"
		}
		cur := &cursor{}
		for n := 0; n < want; n++ {
			next := f.unit
			if linked {
				next = f.linkedUnit
			}
			u, reason := next(a, int32(i), n, cur)
			if reason != "" {
				why = reason
				break
			}
			u.Kept = n < kept[i]
			units = append(units, u)
		}
		spend(a, len(units)-a.Synthetic)
		a.Synthetic = len(units)
		out = append(out, units...)
		if a.Got() >= a.Count {
			a.Why = ""
			continue
		}
		if why == "" {
			why = "top-up: policy.top_up's limit is reached"
		}
		if a.Why != "" {
			a.Why += "; "
		}
		a.Why += why
	}
	return out
}

// filler makes units for one plan.
type filler struct {
	p     *plan.Plan
	res   *solver.Result
	taken func(core uint64) bool
	used  map[uint64]bool // cores given in this run
	// importOK and imported: the real MPANs a linked ask may link a new
	// export to, and those linked in this run.
	importOK func(a *solver.Ask, m int32) bool
	imported map[int32]bool
	sampler  *synth.Sampler
	// fails: why a filter (in an environment) cannot be topped up, once
	// found, so asks alike do not search again.
	fails map[string]string
	// seen: per attribute, the values the universe's MPANs have (sorted),
	// for the distributor and appointees a unit's environment leaves open.
	seen map[int][]string
}

// seenValues lists the values the universe's MPANs have for attribute
// attr, sorted; none for an empty universe.
func (f *filler) seenValues(attr int) []string {
	if f.seen == nil {
		f.seen = map[int][]string{}
		sets := map[int]map[string]bool{}
		for _, attr := range []int{universe.Distributor, universe.Supplier, universe.MOp, universe.DC, universe.DA} {
			sets[attr] = map[string]bool{}
		}
		for pid := range f.res.Universe.Profiles.Len() {
			pr := f.res.Universe.Profiles.At(uint32(pid))
			for attr, set := range sets {
				if v := pr[attr]; v != "" {
					set[v] = true
				}
			}
		}
		for attr, set := range sets {
			f.seen[attr] = slices.Sorted(maps.Keys(set))
		}
	}
	return f.seen[attr]
}

// cursor walks an ask's candidate points: unit n takes the next one its
// filter accepts, so an ask's units are a fixed sequence.
type cursor struct {
	next    int
	imports int    // linked asks: the universe units looked at so far
	matched int    // candidates that match the filter but cannot serve the ask
	why     string // why the last of them cannot
	sites   []site // the ask's distributors and GSP groups, once found
}

// unit makes the ask's unit number n, or says why it cannot.
func (f *filler) unit(a *solver.Ask, ai int32, n int, cur *cursor) (Unit, string) {
	// Whether any point of the generator serves a filter depends on the
	// point's own attributes and the data the environment's roles need.
	memo := a.Env.Name + "|" + ownFilter(a)
	if why, failed := f.fails[memo]; failed {
		return Unit{}, strings.Replace(why, "%FILTER%", a.FilterText(), 1)
	}
	u, why := f.search(a, ai, n, cur)
	if why != "" && strings.Contains(why, "%FILTER%") {
		f.fails[memo] = why
	}
	return u, strings.Replace(why, "%FILTER%", a.FilterText(), 1)
}

// ownFilter is the part of the ask's filter on a point's own attributes
// (not the distributor, GSP group or appointees).
func ownFilter(a *solver.Ask) string {
	var parts []string
	for _, part := range strings.Split(a.FilterText(), ", ") {
		name, _, _ := strings.Cut(part, "=")
		switch name {
		case "segment", "measurement_class", "profile_class", "energised", "domestic", "meter_type", "smets", "has":
			parts = append(parts, part)
		}
	}
	return strings.Join(parts, ", ")
}

// search finds the ask's unit number n among the generator's points.
func (f *filler) search(a *solver.Ask, ai int32, n int, cur *cursor) (Unit, string) {
	var pt *synth.Point
	var own synth.Point
	candidate := seeded(f.p.Seed).add("candidate", f.p.Name, a.Key)
	for ; cur.next < MaxTries*(n+1); cur.next++ {
		idx := int(candidate.addInt(cur.next).sum() >> 2)
		// As accepts would say, without building the point: its segment
		// first, then its other own attributes.
		if !a.Accepts(universe.Segment, f.sampler.Segment(idx)) {
			continue
		}
		if f.sampler.Own(idx, &own); !ownMatches(a, &own) {
			continue
		}
		c := f.sampler.Point(idx)
		match, why := accepts(f.res, a, c)
		if match && why == "" {
			pt = c
			cur.next++
			break
		}
		if match {
			cur.matched++
			cur.why = why
		}
	}
	if pt == nil && cur.matched > 0 {
		return Unit{}, "top-up: the synthetic metering points that match the filter (%FILTER%) cannot serve it: " + cur.why
	}
	if pt == nil {
		return Unit{}, fmt.Sprintf("top-up: no synthetic metering point matches the filter (%%FILTER%%) within %d candidates", MaxTries)
	}
	unitKey := seeded(f.p.Seed).add(f.p.Name, a.Key).addInt(n)
	key := func(parts ...string) uint64 { return unitKey.add(parts...).sum() }
	// Distributor and GSP group: onboarded and accepted.
	if cur.sites == nil {
		cur.sites = f.sites(a)
	}
	sites := cur.sites
	if len(sites) == 0 {
		return Unit{}, "top-up: no distributor " + onboardedText(a, "distributor") + "serves the filter's GSP groups (" + a.FilterText() + ")"
	}
	// Rendezvous hashing: onboarding another distributor moves only the
	// units that now prefer it.
	siteKey := unitKey.add("site")
	s := sites[best(len(sites), func(i int) uint64 { return siteKey.add(sites[i].d.ID, sites[i].gsp).sum() })]
	pt.Distributor, pt.GSP = s.d.MPID, s.gsp
	// Appointees: the ask's target, else an onboarded participant (by
	// rendezvous hashing, as the allocator's stand-ins), else one the
	// universe's MPANs have, else the generator's.
	for _, role := range []string{"supplier", "mop", "dc", "da"} {
		if noAppointee(pt, role) {
			continue
		}
		mpid := a.Target[role]
		list := a.Env.Participants[role]
		if len(list) == 0 {
			list = f.seenValues(universe.AttrIndex(role))
		}
		if mpid == "" && len(list) > 0 {
			mpid = list[best(len(list), func(i int) uint64 { return key("appoint", role, list[i]) })]
		}
		if mpid == "" {
			continue
		}
		part := &synth.Participant{MPID: mpid, Role: plan.RoleCodes[role]}
		switch role {
		case "supplier":
			pt.Supplier = part
		case "mop":
			pt.MOp = part
		case "dc":
			pt.DC = part
		case "da":
			pt.DA = part
		}
	}
	id, _ := strconv.Atoi(s.d.ID)
	f.newCore(pt, id, key)
	pt.Index = int(key("index") % 1_000_000_000) // numbers its records
	return Unit{Ask: ai, Index: n, Point: pt, Profile: ProfileOf(pt), Import: -1}, ""
}

// site is a distributor and GSP group a unit may have.
type site struct {
	d   mpan.Distributor
	gsp string
}

// sites are the distributors and GSP groups the ask's units may have:
// onboarded and accepted (never nil).
func (f *filler) sites(a *solver.Ask) []site {
	sites := []site{}
	_, required := a.Env.Participants["distributor"]
	seen := f.seenValues(universe.Distributor)
	for _, d := range mpan.Distributors() {
		if !a.Accepts(universe.Distributor, d.MPID) || !a.Loads("distributor", d.MPID) {
			continue
		}
		if !required && len(seen) > 0 && !slices.Contains(seen, d.MPID) {
			continue // one the universe's MPANs have, to look like them
		}
		for _, g := range mpan.GSPGroups {
			if (d.IDNO || g == d.GSPGroup) && a.Accepts(universe.GSP, g) {
				sites = append(sites, site{d, g})
			}
		}
	}
	return sites
}

// newCore gives the point a core of distributor id that is in use
// nowhere.
func (f *filler) newCore(pt *synth.Point, id int, key func(parts ...string) uint64) {
	for attempt := 0; ; attempt++ {
		core := mpan.Format(id, key("core", strconv.Itoa(attempt)))
		c, _ := universe.ParseCore(core)
		if f.used[c] || f.taken(c) {
			continue
		}
		f.used[c] = true
		pt.Core = core
		return
	}
}

// linkedUnit makes the linked ask's unit number n: a new export MPAN
// linked to a real import MPAN that has none. The import is the first,
// from a point the ask's key chooses, of the universe's single MPANs that
// importOK accepts and this run has not linked yet; the unit matches the
// filter through either MPAN. The export is an advanced (half-hourly)
// metering point of the import's distributor, GSP group and appointees.
func (f *filler) linkedUnit(a *solver.Ask, ai int32, n int, cur *cursor) (Unit, string) {
	u := f.res.Universe
	units := u.NumUnits()
	if units == 0 {
		return Unit{}, "top-up: no real MPAN to link a new export MPAN to"
	}
	unitKey := seeded(f.p.Seed).add(f.p.Name, a.Key).addInt(n)
	key := func(parts ...string) uint64 { return unitKey.add(parts...).sum() }
	// The export: an advanced point of the generator.
	var pt *synth.Point
	var own synth.Point
	export := seeded(f.p.Seed).add("export", f.p.Name, a.Key)
	for ; pt == nil && cur.next < MaxTries*(n+1); cur.next++ {
		idx := int(export.addInt(cur.next).sum() >> 2)
		if f.sampler.Own(idx, &own); own.Segment == "A" && own.Meter == synth.Advanced {
			pt = f.sampler.Point(idx)
		}
	}
	if pt == nil {
		return Unit{}, "top-up: the generator made no advanced metering point for an export MPAN"
	}
	start := int(mix(f.p.Seed, "import", f.p.Name, a.Key) % uint64(units))
	for k := cur.imports; k < units; k++ {
		unit := (start + k) % units
		members := u.UnitMembers(unit)
		if len(members) != 1 || f.imported[members[0]] || !f.importOK(a, members[0]) {
			continue
		}
		m := members[0]
		mp := u.At(m)
		imp := u.Profiles.At(mp.Profile)
		if imp[universe.MOp] == "" {
			continue // an unmetered supply: no meter to export through, no MOp for the export
		}
		exp := *pt
		exp.Export, exp.Partner, exp.PartnerCore = true, 0, u.CoreString(m)
		exp.Distributor, exp.GSP = imp[universe.Distributor], imp[universe.GSP]
		exp.Supplier = &synth.Participant{MPID: imp[universe.Supplier], Role: "X"}
		exp.MOp = &synth.Participant{MPID: imp[universe.MOp], Role: "M"}
		exp.DC = &synth.Participant{MPID: imp[universe.DC], Role: "C"}
		exp.DA = &synth.Participant{MPID: imp[universe.DA], Role: "A"}
		if !matches(a, imp) && !matches(a, ProfileOf(&exp)) {
			continue
		}
		cur.imports = k + 1
		f.imported[m] = true
		f.newCore(&exp, int(mp.Core/100_000_000_000), key)
		exp.Index = int(key("index") % 1_000_000_000)
		return Unit{Ask: ai, Index: n, Point: &exp, Profile: ProfileOf(&exp), Import: m}, ""
	}
	cur.imports = units
	return Unit{}, fmt.Sprintf("top-up: no real single MPAN matching the filter (%s) is free, with every party onboarded and its data in their packs, to link a new export MPAN to", a.FilterText())
}

// matches reports whether the ask's filter takes a profile's attributes
// (the roles are checked apart).
func matches(a *solver.Ask, pr universe.Profile) bool {
	for _, attr := range []int{universe.Segment, universe.GSP, universe.Distributor, universe.MC, universe.PC, universe.Energised, universe.Domestic, universe.MeterType, universe.SMETS} {
		if !a.Accepts(attr, pr[attr]) {
			return false
		}
	}
	return true
}

// onboardedText names the environment's onboarded participants of role,
// for a reason ("onboarded in SIT-A (EELC, LOND) "), or "".
func onboardedText(a *solver.Ask, role string) string {
	list := a.Env.Participants[role]
	if len(list) == 0 {
		return ""
	}
	return "onboarded in " + a.Env.Name + " (" + strings.Join(list, ", ") + ") "
}

// accepts reports whether the ask's filter takes the point's own
// attributes (the distributor, GSP group and appointees are chosen after)
// and, if so, what else keeps it from the ask ("" if nothing: it has the
// data the ask needs and every role can load it).
func accepts(res *solver.Result, a *solver.Ask, p *synth.Point) (match bool, why string) {
	if !ownMatches(a, p) {
		return false, ""
	}
	return true, packsHold(res.Plan, a.Env, a.Has(), DataSets(res.Plan, p), func(role string) bool { return noAppointee(p, role) })
}

// ownMatches reports whether the ask's filter takes the point's own
// attributes (synth.Sampler.Own fills no more).
func ownMatches(a *solver.Ask, p *synth.Point) bool {
	pr := ownProfile(p)
	for _, attr := range []int{universe.Segment, universe.MC, universe.PC, universe.Energised, universe.Domestic, universe.MeterType, universe.SMETS} {
		if !a.Accepts(attr, pr[attr]) {
			return false
		}
	}
	return true
}

// noAppointee reports whether a point has no appointee of role: an
// unmetered supply has no MOp, as in the synthetic market, so no MOp is
// asked to load it (as the allocator does not ask one for a real one).
func noAppointee(p *synth.Point, role string) bool {
	return role == "mop" && p.Meter == synth.Unmetered
}

// ProfileOf is the universe's profile of a point: its attributes as the
// EES cut gives them, the distributor from its core.
func ProfileOf(p *synth.Point) universe.Profile {
	pr := ownProfile(p)
	pr[universe.GSP], pr[universe.Distributor] = p.GSP, p.Distributor
	pr[universe.Supplier], pr[universe.DC], pr[universe.DA] = p.Supplier.MPID, p.DC.MPID, p.DA.MPID
	if p.MOp != nil {
		pr[universe.MOp] = p.MOp.MPID
	}
	return pr
}

// ownProfile is the part of ProfileOf on the point's own attributes.
func ownProfile(p *synth.Point) universe.Profile {
	var pr universe.Profile
	pr[universe.Segment], pr[universe.MC], pr[universe.PC] = p.Segment, p.MC, p.PC
	pr[universe.Energised], pr[universe.Domestic] = strconv.FormatBool(p.Energised), strconv.FormatBool(p.Domestic)
	pr[universe.MeterType] = p.MeterType()
	pr[universe.SMETS] = "none"
	if mt := pr[universe.MeterType]; len(mt) >= 2 && (mt[:2] == "S1" || mt[:2] == "S2") {
		pr[universe.SMETS] = mt[1:2]
	}
	return pr
}

// best is the index of the highest score of n.
func best(n int, score func(i int) uint64) int {
	b, bs := 0, score(0)
	for i := 1; i < n; i++ {
		if v := score(i); v > bs {
			b, bs = i, v
		}
	}
	return b
}
