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

// The EES merge allocates about 20 bytes a row: a row packed in one word,
// the sort's copy of it and a profile id an MPAN. Cores and profile ids
// apart took 24 (12 and the sort's copy of both).
func TestMergeEESBytesPerRow(t *testing.T) {
	const n = 1 << 20
	p := &part{profiles: make([]Profile, 3)}
	for i := range p.profiles {
		p.profiles[i][GSP] = string(rune('A' + i))
	}
	for i := range n {
		p.rows = append(p.rows, 1_000_000_000_000+uint64(i)*7919%n*1_000_003)
		p.pids = append(p.pids, uint32(i%3))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	u := &Universe{}
	u.mergeEES([]*part{p})
	runtime.ReadMemStats(&after)
	if u.Stats.MPANs != n {
		t.Fatalf("%d MPANs, want %d", u.Stats.MPANs, n)
	}
	if per := float64(after.TotalAlloc-before.TotalAlloc) / n; per > 21 {
		t.Errorf("the merge allocated %.1f bytes a row, want at most 21", per)
	} else {
		t.Logf("%.1f bytes a row", per)
	}
}
