package topup

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mpan"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/universe"
	"github.com/mhhs-sit/datacut/pipelines"
)

const testPlan = `name: t
seed: 7
si: MHSI
sources: {cuts: [ees]}
policy:
  top_up: {units: 40, per_demand: 30}
environments:
- name: E
  participants:
    supplier: [BRGT, ECHO]
    mop: [MTRA]
    dc: [HHDA, NHDA]
    distributor: [LOND, EELC, IPNL]
  demands:
  - {name: smart-domestic, filter: {segment: S, domestic: true, energised: true}, count: 3, per: [supplier, distributor]}
  - {name: advanced, filter: {segment: A, gsp_group: [_A, _C]}, count: 2, per: [supplier]}
  - {name: de-energised, filter: {energised: false}, count: 2}
  - {name: unmetered, filter: {segment: U}, count: 1}
  - {name: smets2, filter: {smets: "2", profile_class: "02"}, count: 1}
  - {name: linked, filter: {linked: true}, count: 1}
  - {name: no-such-class, filter: {measurement_class: D}, count: 1}
  - {name: outside, filter: {gsp_group: _P, distributor: [LOND, EELC]}, count: 1}
`

func decode(t *testing.T, y string) *plan.Plan {
	t.Helper()
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Decode("t.yaml", []byte(y), types)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// universeOf lays out single-MPAN units the way universe.Build does.
func universeOf(cores []uint64, profiles []universe.Profile) *universe.Universe {
	idx := make([]int, len(cores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return cores[idx[a]] < cores[idx[b]] })
	u := &universe.Universe{}
	var units [][]int32
	for n, i := range idx {
		u.Append(universe.MPAN{Core: cores[i], Profile: u.Profiles.Append(profiles[i])})
		units = append(units, []int32{int32(n)})
	}
	u.SetUnits(units)
	return u
}

func fill(t *testing.T, p *plan.Plan, taken func(uint64) bool) (*solver.Result, []Unit) {
	t.Helper()
	res := solver.Allocate(p, universeOf(nil, nil), nil, nil)
	l, on := LimitsOf(p)
	if !on {
		t.Fatal("top-up is off")
	}
	return res, Fill(res, l, taken, nil)
}

// Every synthetic unit is one the allocator itself would give its ask: a
// universe of the synthetic units alone fills exactly what they filled.
// Cores are valid, distinct, of the distributor and GSP group chosen; an
// ask that cannot be topped up says why.
func TestFillIsEligible(t *testing.T) {
	p := decode(t, testPlan)
	res, units := fill(t, p, func(uint64) bool { return false })
	byAsk := map[string]int{}
	var cores []uint64
	var profiles []universe.Profile
	seen := map[string]bool{}
	for _, u := range units {
		a := res.Asks[u.Ask]
		byAsk[a.Key]++
		c := u.Core()
		if !mpan.Valid(c) || seen[c] {
			t.Errorf("%s: core %s invalid or given twice", a.Key, c)
		}
		seen[c] = true
		d, _ := mpan.DistributorOf(c)
		if d.MPID != u.Profile[universe.Distributor] || (!d.IDNO && d.GSPGroup != u.Profile[universe.GSP]) || !mpan.IsGSPGroup(u.Profile[universe.GSP]) {
			t.Errorf("%s: core %s is of %s, profile says distributor %s GSP %s", a.Key, c, d.MPID, u.Profile[universe.Distributor], u.Profile[universe.GSP])
		}
		if u.Kept {
			t.Errorf("%s: unit %d kept without a ledger", a.Key, u.Index)
		}
		core, _ := universe.ParseCore(c)
		cores = append(cores, core)
		profiles = append(profiles, u.Profile)
	}
	for _, a := range res.Asks {
		want := a.Count
		switch a.Demand.Name {
		case "linked", "no-such-class", "outside":
			want = 0
		}
		if byAsk[a.Key] != want || a.Synthetic != want {
			t.Errorf("%s: %d units (Synthetic %d), want %d", a.Key, byAsk[a.Key], a.Synthetic, want)
		}
		if (want == 0) != (a.Why != "") {
			t.Errorf("%s: why %q", a.Key, a.Why)
		}
	}
	for name, why := range map[string]string{"linked": "linked units are not created here",
		"no-such-class": "no synthetic metering point matches the filter (measurement_class=D)",
		"outside":       "no distributor onboarded in E (LOND, EELC, IPNL) serves the filter's GSP groups"} {
		for _, a := range res.Asks {
			if a.Demand.Name == name && !strings.Contains(a.Why, why) {
				t.Errorf("%s: why %q, want %q", a.Key, a.Why, why)
			}
		}
	}
	// The allocator, on a universe of the synthetic units alone, fills the
	// same asks: each unit passes its ask's filter and every role of the
	// environment can load it.
	again := solver.Allocate(p, universeOf(cores, profiles), nil, nil)
	for _, a := range again.Asks {
		if a.Got() != byAsk[a.Key] {
			t.Errorf("%s: the synthetic units fill %d of it, top-up gave %d", a.Key, a.Got(), byAsk[a.Key])
		}
	}
}

// The same plan gives the same units; a core in use is never given.
func TestFillIsDeterministicAndAvoidsTakenCores(t *testing.T) {
	p := decode(t, testPlan)
	_, first := fill(t, p, func(uint64) bool { return false })
	_, second := fill(t, p, func(uint64) bool { return false })
	if fmt.Sprint(summary(first)) != fmt.Sprint(summary(second)) {
		t.Fatal("two top-ups of the same plan differ")
	}
	taken := map[uint64]bool{}
	for _, u := range first[:5] {
		c, _ := universe.ParseCore(u.Core())
		taken[c] = true
	}
	_, third := fill(t, p, func(c uint64) bool { return taken[c] })
	for _, u := range third {
		if c, _ := universe.ParseCore(u.Core()); taken[c] {
			t.Errorf("core %s is taken and was given", u.Core())
		}
	}
	if len(third) != len(first) {
		t.Errorf("%d units with some cores taken, %d without", len(third), len(first))
	}
	// Another plan (another name) gets other cores.
	other := decode(t, strings.Replace(testPlan, "name: t", "name: u", 1))
	_, fourth := fill(t, other, func(uint64) bool { return false })
	mine := map[string]bool{}
	for _, u := range first {
		mine[u.Core()] = true
	}
	for _, u := range fourth {
		if mine[u.Core()] {
			t.Errorf("plans t and u both made core %s", u.Core())
		}
	}
}

func summary(us []Unit) []string {
	var out []string
	for _, u := range us {
		out = append(out, fmt.Sprint(u.Ask, u.Index, u.Core(), u.Profile, u.Point.MeterID, u.Point.Name, u.Point.Postcode))
	}
	return out
}

// The limits bound the synthetic units of the plan and of each demand;
// the ledger's units are kept first and marked so.
func TestFillLimitsAndKeeps(t *testing.T) {
	p := decode(t, strings.Replace(testPlan, "top_up: {units: 40, per_demand: 30}", "top_up: {units: 9, per_demand: 4}", 1))
	res, units := fill(t, p, func(uint64) bool { return false })
	perDemand := map[string]int{}
	for _, u := range units {
		perDemand[res.Asks[u.Ask].Demand.Name]++
	}
	if len(units) != 9 || perDemand["smart-domestic"] != 4 || perDemand["advanced"] != 4 || perDemand["de-energised"] != 1 {
		t.Errorf("%d units, per demand %v: want 9, 4 smart-domestic, 4 advanced, 1 de-energised", len(units), perDemand)
	}
	for _, a := range res.Asks {
		if a.Got() < a.Count && !strings.Contains(a.Why, "limit") && a.Demand.Name != "linked" && a.Demand.Name != "no-such-class" && a.Demand.Name != "outside" {
			t.Errorf("%s: short and says %q", a.Key, a.Why)
		}
	}
	// A run whose ledger held two units of the first ask keeps them (the
	// same cores) and marks them kept.
	first := res.Asks[0]
	keep := map[string]int{first.Key: 2}
	res2 := solver.AllocateWith(p, universeOf(nil, nil), nil, nil, solver.Extras{Synthetic: keep})
	l, _ := LimitsOf(p)
	units2 := Fill(res2, l, func(uint64) bool { return false }, nil)
	var kept []string
	for _, u := range units2 {
		if u.Kept {
			kept = append(kept, fmt.Sprint(res2.Asks[u.Ask].Key, u.Index, u.Core()))
		}
	}
	var want []string
	for _, u := range units[:2] {
		want = append(want, fmt.Sprint(first.Key, u.Index, u.Core()))
	}
	if fmt.Sprint(kept) != fmt.Sprint(want) {
		t.Errorf("kept %v, want %v", kept, want)
	}
	if fmt.Sprint(summary(units2)) != fmt.Sprint(summary(units)) {
		t.Error("keeping the ledger's units changed the units")
	}
}

// Onboarding another participant moves only the units that now prefer it
// (rendezvous hashing): every other unit keeps its core and profile.
func TestFillIsStableWhenParticipantsJoin(t *testing.T) {
	p := decode(t, testPlan)
	joined := strings.NewReplacer("mop: [MTRA]", "mop: [MTRA, MTRB]", "distributor: [LOND, EELC, IPNL]", "distributor: [LOND, EELC, IPNL, SEEB]",
		"dc: [HHDA, NHDA]", "dc: [HHDA, NHDA, HHDB]").Replace(testPlan)
	q := decode(t, joined)
	res, before := fill(t, p, func(uint64) bool { return false })
	res2, after := fill(t, q, func(uint64) bool { return false })
	at := map[string]Unit{}
	for _, u := range after {
		at[fmt.Sprint(res2.Asks[u.Ask].Key, u.Index)] = u
	}
	moved, kept := 0, 0
	for _, u := range before {
		v, ok := at[fmt.Sprint(res.Asks[u.Ask].Key, u.Index)]
		switch {
		case !ok:
			t.Errorf("%s unit %d is gone", res.Asks[u.Ask].Key, u.Index)
		case v.Profile[universe.MOp] == "MTRB" || v.Profile[universe.Distributor] == "SEEB" || v.Profile[universe.DC] == "HHDB":
			moved++
		case v.Core() != u.Core() || v.Profile != u.Profile:
			t.Errorf("%s unit %d: %s %v became %s %v, though it does not prefer a new participant", res.Asks[u.Ask].Key, u.Index, u.Core(), u.Profile, v.Core(), v.Profile)
		default:
			kept++
		}
	}
	if moved == 0 || kept == 0 {
		t.Errorf("%d units moved to a new participant, %d stayed: want some of each", moved, kept)
	}
}

// An unmetered supply has no MOp: a plan whose environment onboards a MOp
// that loads meter technical details still gets synthetic unmetered units,
// with no MOp, and the allocator gives them to the ask as it gives real ones.
func TestUnmeteredUnitsHaveNoMOp(t *testing.T) {
	p := decode(t, `name: t
seed: 7
si: MHSI
sources: {cuts: [ees, mop-mtd]}
policy:
  top_up: {units: 10}
packs:
  supplier: [ees]
  mop: [mop-mtd]
environments:
- name: E
  participants:
    supplier: [BRGT]
    mop: [MTRA]
    distributor: [LOND]
  demands:
  - {name: unmetered, filter: {segment: U}, count: 2}
`)
	res, units := fill(t, p, func(uint64) bool { return false })
	if len(units) != 2 || res.Asks[0].Why != "" {
		t.Fatalf("%d synthetic unmetered units of 2 (%s)", len(units), res.Asks[0].Why)
	}
	var cores []uint64
	var profiles []universe.Profile
	for _, u := range units {
		if u.Point.MOp != nil || u.Profile[universe.MOp] != "" {
			t.Errorf("synthetic unmetered %s has MOp %q", u.Core(), u.Profile[universe.MOp])
		}
		c, _ := universe.ParseCore(u.Core())
		cores, profiles = append(cores, c), append(profiles, u.Profile)
	}
	if again := solver.Allocate(p, universeOf(cores, profiles), nil, nil); again.Asks[0].Got() != 2 {
		t.Errorf("the allocator gives the synthetic unmetered units %d of 2: %s", again.Asks[0].Got(), again.Asks[0].Why)
	}
}

// A filter no generated point matches is searched on the candidates' own
// attributes alone: its MaxTries candidates cost no point each.
func TestFailingSearchBuildsNoPoints(t *testing.T) {
	p := decode(t, `name: t
seed: 7
si: MHSI
sources: {cuts: [ees]}
policy:
  top_up: {units: 10}
environments:
- name: E
  participants: {supplier: [BRGT]}
  demands:
  - {name: no-such-class, filter: {measurement_class: D}, count: 1}
`)
	allocs := testing.AllocsPerRun(1, func() {
		res, units := fill(t, p, func(uint64) bool { return false })
		if len(units) != 0 || !strings.Contains(res.Asks[0].Why, "within 20000 candidates") {
			t.Fatalf("%d units, why %q", len(units), res.Asks[0].Why)
		}
	})
	if allocs > MaxTries/10 {
		t.Errorf("a failing search of %d candidates: %v allocations", MaxTries, allocs)
	}
}
