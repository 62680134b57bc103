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

// The universe holds, besides its profile table, about 20 bytes an MPAN:
// its core (8), profile (4), flags (1), data sets (2) and unit (about 4,
// with the few linked units listed apart). Units laid out per MPAN (a unit
// index and a member entry an MPAN, a start a unit) took 27.
func TestUniverseBytesPerMPAN(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 200,000-MPAN market")
	}
	ctx := context.Background()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const n = 200_000
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
	held := float64(heap()) - float64(before) - float64(cap(u.Profiles))*float64(unsafe.Sizeof(Profile{}))
	runtime.KeepAlive(u)
	if u.Stats.MPANs != n || u.Stats.LinkedUnits == 0 {
		t.Fatalf("stats %+v: want %d MPANs, some linked", u.Stats, n)
	}
	if per := held / n; per > 22 {
		t.Errorf("the universe holds %.1f bytes an MPAN besides its profiles, want at most 22", per)
	} else {
		t.Logf("%.1f bytes an MPAN besides %d profiles", per, len(u.Profiles))
	}
}
