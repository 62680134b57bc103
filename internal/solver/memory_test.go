package solver

import (
	"runtime"
	"testing"

	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// The solver keeps no number a unit: a single unit's class follows from its
// kind, so what it allocates grows with the profiles, the asks and the
// units given, not the market (a unit's class a unit took 4 bytes each).
func TestAllocateKeepsNoNumberPerUnit(t *testing.T) {
	// The slope between two market sizes: what is fixed (tables of the
	// asks, profiles and signatures) cancels out.
	small, smallUnits := allocatedBytes(t, 200_000)
	large, largeUnits := allocatedBytes(t, 400_000)
	per := (large - small) / float64(largeUnits-smallUnits)
	if per > 1 {
		t.Errorf("Allocate allocated %.2f bytes more a unit more, want at most 1", per)
	} else {
		t.Logf("%.2f bytes a unit", per)
	}
}

// allocatedBytes allocates a plan on a market of n MPANs, one in twenty
// linked to the one before, and says how many bytes Allocate allocated and
// how many units there were.
func allocatedBytes(t *testing.T, n int) (float64, int) {
	u := &universe.Universe{}
	var units [][]int32
	for _, pr := range []universe.Profile{prof("S", "_A", "SUPA", "MOPA"), prof("S", "_B", "SUPA", "MOPA"), prof("A", "_A", "SUPZ", "MOPA")} {
		u.Profiles.Append(pr)
	}
	for i := range n {
		u.Append(universe.MPAN{Core: 1200000000000 + uint64(i)*7, Profile: uint32(i % u.Profiles.Len())})
		if i%20 == 1 {
			units[len(units)-1] = append(units[len(units)-1], int32(i))
			continue
		}
		units = append(units, []int32{int32(i)})
	}
	u.SetUnits(units)
	p := &plan.Plan{Name: "t", Seed: 3, SI: "MHSI", Policy: plan.Policy{Reappoint: []string{"supplier"}}}
	p.Environments = []*plan.Environment{{Name: "SIT", Participants: map[string][]string{"supplier": {"SUPA", "SUPB"}},
		Demands: []*plan.Demand{{Name: "smart", Count: 100, Per: []string{"supplier", "gsp_group"}}}}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := Allocate(p, u, nil, nil)
	runtime.ReadMemStats(&after)
	if len(res.Given) == 0 {
		t.Fatal("nothing given")
	}
	return float64(after.TotalAlloc - before.TotalAlloc), u.NumUnits()
}
