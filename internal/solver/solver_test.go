package solver

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// testMPAN is one MPAN of a hand-made universe.
type testMPAN struct {
	core    uint64
	profile universe.Profile
	unit    int // MPANs with the same unit move together
	data    uint16
}

// makeUniverse builds a universe the way universe.Build lays it out.
// MPANs are taken in order of core, as Build lays them out.
func makeUniverse(ms []testMPAN) *universe.Universe {
	ms = slices.Clone(ms)
	sort.SliceStable(ms, func(a, b int) bool { return ms[a].core < ms[b].core })
	u := &universe.Universe{}
	pids := map[universe.Profile]uint32{}
	units := map[int][]int32{}
	var order []int
	for i, m := range ms {
		pid, ok := pids[m.profile]
		if !ok {
			pid = u.Profiles.Append(m.profile)
			pids[m.profile] = pid
		}
		u.Append(universe.MPAN{Core: m.core, Profile: pid, Data: m.data})
		if _, ok := units[m.unit]; !ok {
			order = append(order, m.unit)
		}
		units[m.unit] = append(units[m.unit], int32(i))
	}
	var all [][]int32
	for _, k := range order {
		all = append(all, units[k]) // ascending: MPANs are met in order
	}
	u.SetUnits(all)
	return u
}

func prof(seg, gsp, supplier, mop string) universe.Profile {
	var p universe.Profile
	p[universe.Segment], p[universe.GSP], p[universe.Supplier], p[universe.MOp] = seg, gsp, supplier, mop
	p[universe.Distributor] = "LOND"
	return p
}

// eligibleRef is the plan's eligibility rule written out plainly, for the
// brute-force check: the unit matches the filter through any MPAN, and for
// every MPAN every role the environment requires can load it.
func eligibleRef(p *plan.Plan, a *Ask, u *universe.Universe, unit int) bool {
	m := u.UnitMembers(unit)
	if a.linked != nil && *a.linked != (len(m) > 1) {
		return false
	}
	any := false
	for _, mi := range m {
		pr := u.Profiles.At(u.At(mi).Profile)
		ok := true
		for attr, vals := range a.filter {
			if vals != nil && !vals[pr[attr]] {
				ok = false
			}
		}
		any = any || ok
		for role, list := range a.Env.Participants {
			real := pr[roleAttr[role]]
			on := false
			for _, x := range list {
				on = on || x == real
			}
			may := p.MayReappoint(role) && role != "distributor"
			if t := a.Target[role]; t != "" {
				if real != t && (on || !may) {
					return false
				}
			} else if !on && !may {
				return false
			}
		}
	}
	return any
}

// bruteMax is the largest number of units that can be given, by trying
// every assignment.
func bruteMax(p *plan.Plan, asks []*Ask, u *universe.Universe) int {
	n := u.NumUnits()
	elig := make([][]int, n)
	for unit := 0; unit < n; unit++ {
		for i, a := range asks {
			if eligibleRef(p, a, u, unit) {
				elig[unit] = append(elig[unit], i)
			}
		}
	}
	left := make([]int, len(asks))
	for i, a := range asks {
		left[i] = a.Count
	}
	var rec func(unit int) int
	rec = func(unit int) int {
		if unit == n {
			return 0
		}
		best := rec(unit + 1)
		for _, i := range elig[unit] {
			if left[i] > 0 {
				left[i]--
				best = max(best, 1+rec(unit+1))
				left[i]++
			}
		}
		return best
	}
	return rec(0)
}

func randomCase(r *rand.Rand) (*plan.Plan, *universe.Universe) {
	suppliers, mops := []string{"SUPA", "SUPB", "SUPC"}, []string{"MOPA", "MOPB"}
	var ms []testMPAN
	nUnits := 2 + r.IntN(6)
	core := uint64(1200000000000)
	for unit := 0; unit < nUnits; unit++ {
		size := 1
		if r.IntN(4) == 0 {
			size = 2
		}
		sup := suppliers[r.IntN(3)]
		for k := 0; k < size; k++ {
			core += uint64(1 + r.IntN(1000))
			ms = append(ms, testMPAN{core: core, unit: unit,
				profile: prof([]string{"S", "A"}[r.IntN(2)], []string{"_A", "_B"}[r.IntN(2)], sup, mops[r.IntN(2)])})
		}
	}
	p := &plan.Plan{Name: "t", Seed: r.Uint64(), SI: "MHSI"}
	if r.IntN(2) == 0 {
		p.Policy.Reappoint = append(p.Policy.Reappoint, "supplier")
	}
	if r.IntN(2) == 0 {
		p.Policy.Reappoint = append(p.Policy.Reappoint, "mop")
	}
	for e := 0; e < 1+r.IntN(2); e++ {
		env := &plan.Environment{Name: fmt.Sprintf("E%d", e), Participants: map[string][]string{
			"supplier": pickSome(r, suppliers), "mop": pickSome(r, mops)}}
		for d := 0; d < 1+r.IntN(2); d++ {
			dm := &plan.Demand{Name: fmt.Sprintf("d%d", d), Count: 1 + r.IntN(3), Filter: map[string]plan.Values{}}
			if r.IntN(2) == 0 {
				dm.Filter["segment"] = plan.Values{[]string{"S", "A"}[r.IntN(2)]}
			}
			if r.IntN(3) == 0 {
				dm.Filter["linked"] = plan.Values{[]string{"true", "false"}[r.IntN(2)]}
			}
			if r.IntN(3) == 0 {
				dm.Per = []string{"supplier"}
			}
			env.Demands = append(env.Demands, dm)
		}
		p.Environments = append(p.Environments, env)
	}
	return p, makeUniverse(ms)
}

func pickSome(r *rand.Rand, from []string) []string {
	var out []string
	for _, s := range from {
		if r.IntN(2) == 0 {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		out = from[:1]
	}
	return out
}

// TestMaximalAgainstBruteForce: on random small instances, the allocation
// gives exactly as many units as the best possible assignment, gives each
// unit at most once, only to asks it is eligible for, never over count.
func TestMaximalAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for iter := 0; iter < 3000; iter++ {
		p, u := randomCase(r)
		res := Allocate(p, u, nil, nil)
		want := bruteMax(p, res.Asks, u)
		if len(res.Given) != want {
			t.Fatalf("case %d: gave %d units, the best assignment gives %d", iter, len(res.Given), want)
		}
		seen := map[int32]bool{}
		per := map[int32]int{}
		for _, g := range res.Given {
			if seen[g.Unit] {
				t.Fatalf("case %d: unit %d given twice", iter, g.Unit)
			}
			seen[g.Unit] = true
			if !eligibleRef(p, res.Asks[g.Ask], u, int(g.Unit)) {
				t.Fatalf("case %d: unit %d given to %s it is not eligible for", iter, g.Unit, res.Asks[g.Ask].Key)
			}
			per[g.Ask]++
		}
		for i, a := range res.Asks {
			if per[int32(i)] != a.Got() || a.Got() > a.Count {
				t.Fatalf("case %d: ask %s holds %d, counted %d of %d", iter, a.Key, per[int32(i)], a.Got(), a.Count)
			}
			if a.Got() < a.Count && a.Why == "" {
				t.Fatalf("case %d: ask %s fell short without a reason", iter, a.Key)
			}
		}
	}
}

func scarcePlan() (*plan.Plan, *universe.Universe) {
	// 30 units, all of an absent supplier: every onboarded supplier's ask
	// can take any of them after re-appointment; they ask 20 each.
	var ms []testMPAN
	for i := 0; i < 30; i++ {
		ms = append(ms, testMPAN{core: 1200000000000 + uint64(i)*7919, unit: i, profile: prof("S", "_A", "SUPZ", "MOPA")})
	}
	p := &plan.Plan{Name: "t", Seed: 3, SI: "MHSI", Policy: plan.Policy{Reappoint: []string{"supplier"}}}
	p.Environments = []*plan.Environment{{Name: "SIT", Participants: map[string][]string{"supplier": {"SUPA", "SUPB", "SUPC", "SUPD"}},
		Demands: []*plan.Demand{{Name: "smart", Count: 20, Per: []string{"supplier"}}}}}
	return p, makeUniverse(ms)
}

// TestScarceSupplyIsShared: when supply is short, fill rates are balanced:
// no participant holds more than one unit more than another.
func TestScarceSupplyIsShared(t *testing.T) {
	p, u := scarcePlan()
	res := Allocate(p, u, nil, nil)
	lo, hi := 1<<30, 0
	for _, a := range res.Asks {
		lo, hi = min(lo, a.Got()), max(hi, a.Got())
		if a.Why == "" {
			t.Errorf("%s: short without a reason", a.Key)
		}
	}
	if len(res.Given) != 30 || hi-lo > 1 {
		t.Fatalf("gave %d (want 30), holdings from %d to %d (want within 1)", len(res.Given), lo, hi)
	}
	// Unequal asks: rates, not counts, are balanced.
	p.Environments[0].Demands = []*plan.Demand{{Name: "a", Count: 40, Filter: map[string]plan.Values{}}, {Name: "b", Count: 10}}
	p.Environments[0].Participants = map[string][]string{"supplier": {"SUPA"}}
	res = Allocate(p, u, nil, nil)
	if a, b := res.Asks[0].Got(), res.Asks[1].Got(); a+b != 30 || a != 24 || b != 6 {
		t.Fatalf("40/10 asks over 30 units: got %d and %d, want 24 and 6 (60%% each)", a, b)
	}
}

// TestDeterministicAndOrderFree: the same inputs give the same result, and
// reordering the MPANs (file order) changes nothing.
func TestDeterministicAndOrderFree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 200; iter++ {
		p, u := randomCase(r)
		res := Allocate(p, u, nil, nil)
		checkRankOrder(t, res)
		a := summary(res)
		if b := summary(Allocate(p, u, nil, nil)); a != b {
			t.Fatalf("case %d: two runs differ:\n%s\n%s", iter, a, b)
		}
		// Rebuild with units in reverse order.
		var ms []testMPAN
		for unit := u.NumUnits() - 1; unit >= 0; unit-- {
			for _, m := range u.UnitMembers(unit) {
				ms = append(ms, testMPAN{core: u.Core(m), profile: u.Profiles.At(u.At(m).Profile), unit: unit})
			}
		}
		if b := summary(Allocate(p, makeUniverse(ms), nil, nil)); a != b {
			t.Fatalf("case %d: reordered input changes the result:\n%s\n%s", iter, a, b)
		}
	}
}

// checkRankOrder checks that each ask's units are listed by rank, a seeded
// hash of the unit's lead core.
func checkRankOrder(t *testing.T, res *Result) {
	t.Helper()
	u := res.Universe
	for i := 1; i < len(res.Given); i++ {
		a, b := res.Given[i-1], res.Given[i]
		ra, rb := mix(u.Core(u.Lead(int(a.Unit)))^res.Plan.Seed), mix(u.Core(u.Lead(int(b.Unit)))^res.Plan.Seed)
		if a.Ask > b.Ask || (a.Ask == b.Ask && ra >= rb) {
			t.Fatalf("given %d (ask %d, rank %d) before %d (ask %d, rank %d): want asks in order, units by rank", a.Unit, a.Ask, ra, b.Unit, b.Ask, rb)
		}
	}
}

func summary(res *Result) string {
	var lines []string
	for _, g := range res.Given {
		lines = append(lines, fmt.Sprintf("%s=%s", universe.FormatCore(res.Universe.Core(res.Universe.Lead(int(g.Unit)))), res.Asks[g.Ask].Key))
	}
	sort.Strings(lines)
	return fmt.Sprint(lines)
}

// TestLedgerKeepsEarlierAssignments: adding a participant and a demand
// keeps every earlier assignment that is still valid.
func TestLedgerKeepsEarlierAssignments(t *testing.T) {
	var ms []testMPAN
	for i := 0; i < 200; i++ {
		seg := []string{"S", "A"}[i%2]
		ms = append(ms, testMPAN{core: 1200000000000 + uint64(i)*7919, unit: i,
			profile: prof(seg, []string{"_A", "_B"}[i%3%2], []string{"SUPA", "SUPB", "SUPC"}[i%3], "MOPA")})
	}
	u := makeUniverse(ms)
	p := &plan.Plan{Name: "t", Seed: 9, SI: "MHSI", Policy: plan.Policy{Reappoint: []string{"supplier"}}}
	p.Environments = []*plan.Environment{{Name: "SIT", Participants: map[string][]string{"supplier": {"SUPA", "SUPB"}},
		Demands: []*plan.Demand{{Name: "smart", Count: 15, Per: []string{"supplier"}, Filter: map[string]plan.Values{"segment": {"S"}}}}}}
	first := Allocate(p, u, nil, nil)
	ledger := Ledger{}
	for _, g := range first.Given {
		ledger[universe.FormatCore(u.Core(u.Lead(int(g.Unit))))] = first.Asks[g.Ask].Key
	}
	// SUPC joins; a new demand overlaps the old one.
	p.Environments[0].Participants["supplier"] = []string{"SUPA", "SUPB", "SUPC"}
	p.Environments[0].Demands = append(p.Environments[0].Demands, &plan.Demand{Name: "any", Count: 50})
	second := Allocate(p, u, ledger, nil)
	now := map[string]string{}
	pinned := 0
	for _, g := range second.Given {
		now[universe.FormatCore(u.Core(u.Lead(int(g.Unit))))] = second.Asks[g.Ask].Key
		if g.Pinned {
			pinned++
		}
	}
	kept := 0
	for unit, key := range ledger {
		// SUPC's MPANs re-appointed to SUPA/SUPB before are now SUPC's own:
		// those assignments are no longer valid; every other must stay.
		if now[unit] == key {
			kept++
		}
	}
	valid := 0
	for _, g := range first.Given {
		if u.Profiles.At(u.At(u.Lead(int(g.Unit))).Profile)[universe.Supplier] != "SUPC" {
			valid++
		}
	}
	if kept != valid || pinned != valid {
		t.Fatalf("kept %d and pinned %d of %d earlier assignments still valid", kept, pinned, valid)
	}
}

// TestDeterministicWhenScarce: on a plan where units are scarce and
// demands overlap, many augmenting paths tie; the search must pick the same
// one every run (it once followed Go map order, and a re-run on the same
// cuts picked other MPANs).
func TestDeterministicWhenScarce(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	suppliers, mops := []string{"SUPA", "SUPB", "SUPC", "SUPD"}, []string{"MOPA", "MOPB", "MOPC"}
	var ms []testMPAN
	core := uint64(1200000000000)
	for unit := 0; unit < 400; unit++ {
		core += uint64(1 + r.IntN(1000))
		ms = append(ms, testMPAN{core: core, unit: unit, profile: prof([]string{"S", "A", "U"}[r.IntN(3)],
			[]string{"_A", "_B", "_C"}[r.IntN(3)], suppliers[r.IntN(4)], mops[r.IntN(3)])})
	}
	u := makeUniverse(ms)
	p := &plan.Plan{Name: "t", Seed: 9, SI: "MHSI", Policy: plan.Policy{Reappoint: []string{"supplier", "mop"}}}
	for e := 0; e < 3; e++ {
		env := &plan.Environment{Name: fmt.Sprintf("E%d", e), Participants: map[string][]string{
			"supplier": suppliers[e : e+2], "mop": mops[e%3 : e%3+1]}}
		for d, seg := range []string{"S", "A", "U"} {
			env.Demands = append(env.Demands, &plan.Demand{Name: fmt.Sprintf("d%d", d), Count: 25 + 10*d, Per: []string{"supplier"},
				Filter: map[string]plan.Values{"segment": {seg}}})
		}
		env.Demands = append(env.Demands, &plan.Demand{Name: "any", Count: 60, Filter: map[string]plan.Values{}})
		p.Environments = append(p.Environments, env)
	}
	want := summary(Allocate(p, u, nil, nil))
	for run := 0; run < 20; run++ {
		if got := summary(Allocate(p, u, nil, nil)); got != want {
			t.Fatalf("run %d gave other units than the first", run)
		}
	}
}

// TestNoAppointeeIsNotAsked: an unmetered supply has no MOp; an
// environment with MOps onboarded (none re-appointable) can still take it,
// no MOp is given it, and a demand per MOp cannot take it.
func TestNoAppointeeIsNotAsked(t *testing.T) {
	u := makeUniverse([]testMPAN{
		{core: 1200000000001, unit: 0, profile: prof("U", "_C", "SUPA", "")},
		{core: 1200000000002, unit: 1, profile: prof("U", "_C", "SUPA", "")},
	})
	p := &plan.Plan{Name: "t", Seed: 3, SI: "MHSI"}
	p.Environments = []*plan.Environment{{Name: "MIG", Participants: map[string][]string{"supplier": {"SUPA"}, "mop": {"MOPA"}},
		Demands: []*plan.Demand{{Name: "per-mop", Count: 1, Per: []string{"mop"}, Filter: map[string]plan.Values{"segment": {"U"}}},
			{Name: "unmetered", Count: 2, Filter: map[string]plan.Values{"segment": {"U"}}}}}}
	res := Allocate(p, u, nil, nil)
	if got := res.Asks[0].Got(); got != 0 {
		t.Errorf("per-mop ask took %d units of MPANs without a MOp", got)
	}
	if got := res.Asks[1].Got(); got != 2 {
		t.Fatalf("unmetered ask got %d of 2: %s", got, res.Asks[1].Why)
	}
	for _, g := range res.Given {
		for _, mi := range u.UnitMembers(int(g.Unit)) {
			if who, re := res.Appointees(g, u.At(mi).Profile); who["mop"] != "" || re {
				t.Errorf("MPAN %d: MOp %q (re-appointed %v), want none", mi, who["mop"], re)
			}
		}
	}
	// With MOps re-appointable, still nobody stands in for no MOp.
	p.Policy.Reappoint = []string{"mop"}
	res = Allocate(p, u, nil, nil)
	for _, g := range res.Given {
		for _, mi := range u.UnitMembers(int(g.Unit)) {
			if who, re := res.Appointees(g, u.At(mi).Profile); who["mop"] != "" || re {
				t.Errorf("re-appointing MOps: MPAN %d: MOp %q (re-appointed %v), want none", mi, who["mop"], re)
			}
		}
	}
}

// Every role of pipelines/roles.yaml has its appointee in the universe: a
// role added there needs the attribute its appointee names
// (internal/universe). Central roles have none and the solver never sees
// them.
func TestEveryRoleHasAnAppointee(t *testing.T) {
	want := map[string]int{"supplier": universe.Supplier, "mop": universe.MOp, "dc": universe.DC, "da": universe.DA, "distributor": universe.Distributor}
	for _, role := range plan.Roles {
		if i, ok := roleAttr[role]; !ok || i < 0 || i != want[role] {
			t.Errorf("role %s: appointee attribute %d (%v) (%q in roles.yaml), want %d", role, i, ok, plan.Appointees[role], want[role])
		}
	}
	for _, role := range plan.CentralRoles {
		if _, ok := roleAttr[role]; ok {
			t.Errorf("central role %s has an appointee attribute", role)
		}
	}
}
