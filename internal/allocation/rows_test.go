package allocation

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// The rows outlive the universe (the packs are built from them alone): they
// hold their MPANs' profiles, real and with stand-ins, one copy a profile,
// and nothing of the universe's profile table, which grows with the market.
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
	shared := map[universe.Profile]*universe.Profile{}
	reappointed := 0
	for i, r := range rows {
		core, _ := universe.ParseCore(r.MPAN)
		m, ok := u.Find(core)
		if !ok {
			t.Fatalf("row %d: MPAN not in the universe", i)
		}
		if want := u.Profiles.At(u.At(m).Profile); *r.Profile != want {
			t.Fatalf("row %d: profile %v, the universe's %v", i, *r.Profile, want)
		}
		for _, p := range []*universe.Profile{r.Profile, r.Appointed} {
			if s, ok := shared[*p]; ok && s != p {
				t.Fatalf("row %d: a second copy of one profile", i)
			}
			shared[*p] = p
		}
		if (r.Appointed != r.Profile) != r.Reappointed {
			t.Fatalf("row %d: reappointed %v, appointees %v, real %v", i, r.Reappointed, *r.Appointed, *r.Profile)
		}
		if r.Reappointed {
			reappointed++
		}
	}
	if reappointed == 0 {
		t.Error("no row reappointed: the test sees no stand-in")
	}
}
