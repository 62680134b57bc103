package universe

import (
	"context"
	"runtime"
	"testing"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
)

// The universe in memory holds, besides its profile table, about 16 bytes
// an MPAN: its row (core 8, profile 4, data sets 2, flags 1, padding 1),
// and a bit a unit, with the few linked units listed apart. A lead a unit
// took 4 more; units laid out per MPAN (a unit index and a member entry an
// MPAN, a start a unit), 11 more.
func TestUniverseBytesPerMPAN(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 200,000-MPAN market")
	}
	u, held := buildMarket(t, 200_000)
	if per := held / float64(u.Len()); per > 18 {
		t.Errorf("the universe holds %.1f bytes an MPAN besides its profiles, want at most 18", per)
	} else {
		t.Logf("%.1f bytes an MPAN besides %d profiles", per, u.Profiles.Len())
	}
}

// buildMarket builds the universe of a synthetic market of n MPANs and
// says how many bytes it holds besides its profiles.
func buildMarket(t *testing.T, n int) (*Universe, float64) {
	ctx := context.Background()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.WriteUniverseCuts(ctx, st, synth.UniverseCutsOptions{MPANs: n, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	types := []*cut.Type{{Name: "registration", Universe: cut.UniverseLinks}, {Name: "ees", Universe: cut.UniverseAttributes}}
	sources, key, err := Find(ctx, st, types, nil)
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	u, err := Build(ctx, st, sources, key, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	held := float64(heap()) - float64(before) - float64(cap(u.Profiles.keys))*float64(unsafe.Sizeof(profileKey{}))
	runtime.KeepAlive(u)
	if u.Stats.MPANs != n || u.Stats.LinkedUnits == 0 {
		t.Fatalf("stats %+v: want %d MPANs, some linked", u.Stats, n)
	}
	return u, held
}

// A spilled universe keeps its MPANs in a file: it holds a bit or so an
// MPAN in memory (the units' bits, the core index, the linked units'
// lists), and Build's ranges hold about rangeRows EES rows each, so its
// memory does not grow with the market.
func TestSpilledUniverseHoldsLittle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 200,000-MPAN market")
	}
	withLimits(t, 20_000, 0)
	u, held := buildMarket(t, 200_000)
	defer u.Close()
	if u.rows.file == nil {
		t.Fatal("not spilled")
	}
	if per := held / float64(u.Len()); per > 2 {
		t.Errorf("a spilled universe holds %.2f bytes an MPAN besides its profiles, want at most 2", per)
	} else {
		t.Logf("%.2f bytes an MPAN besides %d profiles", per, u.Profiles.Len())
	}
}
