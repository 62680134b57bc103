package allocation

import (
	"context"
	"testing"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// The rows outlive the universe (the packs are built from them alone), so
// they hold copies of their profiles, one a profile, and nothing of the
// universe's profile table, which grows with the market.
func TestRowsCopyTheirProfiles(t *testing.T) {
	st, _ := publishedMarket(t)
	ctx := context.Background()
	p := builtInPlan(t, "sit")
	sources, key, err := universe.Find(ctx, st, p.Sources.Types, p.Sources.Pins)
	if err != nil {
		t.Fatal(err)
	}
	u, err := universe.Build(ctx, st, sources, key, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	rows := Rows(solver.Allocate(p, u, nil, nil))
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	table := unsafe.Pointer(unsafe.SliceData(u.Profiles))
	end := unsafe.Add(table, len(u.Profiles)*int(unsafe.Sizeof(universe.Profile{})))
	shared := map[universe.Profile]*universe.Profile{}
	for i, r := range rows {
		at := unsafe.Pointer(r.Profile)
		if uintptr(at) >= uintptr(table) && uintptr(at) < uintptr(end) {
			t.Fatalf("row %d points into the universe's profile table", i)
		}
		core, _ := universe.ParseCore(r.MPAN)
		m, ok := u.Find(core)
		if !ok {
			t.Fatalf("row %d: MPAN not in the universe", i)
		}
		if *r.Profile != u.Profiles[u.At(m).Profile] {
			t.Fatalf("row %d: profile %v, the universe's %v", i, *r.Profile, u.Profiles[u.At(m).Profile])
		}
		if s, ok := shared[*r.Profile]; ok && s != r.Profile {
			t.Fatalf("row %d: a second copy of one profile", i)
		}
		shared[*r.Profile] = r.Profile
	}
}
