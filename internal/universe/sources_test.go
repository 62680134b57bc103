package universe

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

// version writes the manifest of version v of mpid's cut, extracted asAt
// and published at finished.
func version(t *testing.T, st store.Store, cutType, mpid string, v int, asAt string, finished time.Time) *cut.Manifest {
	t.Helper()
	id := fmt.Sprintf("%s-v%d", strings.ToLower(mpid), v)
	prefix := cut.Prefix(cutType, mpid, id)
	m := &cut.Manifest{Cut: cutType, MPID: mpid, CutID: id, Version: v, AsAt: asAt, KeyFingerprint: "k",
		Tables: []cut.Table{{Name: "ees_portfolio", Key: cut.TableKey(prefix, "ees_portfolio")}}, Timings: cut.Timings{Finished: finished}}
	if err := cut.WriteManifest(context.Background(), st, prefix, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func writeLatest(t *testing.T, st store.Store, m *cut.Manifest) {
	t.Helper()
	if err := cut.WriteLatest(context.Background(), st, m.Cut, m.MPID, cut.LatestRef(m)); err != nil {
		t.Fatal(err)
	}
}

// BRGT's EES cut in four versions: v3 re-sends an older extract (published
// last of the three, as-at earliest) and v4's manifest is written but its
// latest.json not yet. latest.json names v2, the latest by as-at date, so
// neither the newest publication nor the highest version is read. CRWN has
// a version and no latest.json at all.
func versionsFixture(t *testing.T) (store.Store, []*cut.Type) {
	t.Helper()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var ms []*cut.Manifest
	for i, asAt := range []string{"2026-11-01", "2026-11-20", "2026-10-01"} {
		ms = append(ms, version(t, st, "ees", "BRGT", i+1, asAt, day.Add(time.Duration(i)*24*time.Hour)))
	}
	l := cut.LatestOf(ms)
	if l.Version != 2 {
		t.Fatalf("the fixture's latest is version %d, want 2", l.Version)
	}
	writeLatest(t, st, l)
	version(t, st, "ees", "BRGT", 4, "2026-11-30", day.Add(30*24*time.Hour))
	version(t, st, "ees", "CRWN", 1, "2026-11-30", day)
	writeLatest(t, st, version(t, st, "registration", "LOND", 1, "2026-11-02", day))
	return st, []*cut.Type{{Name: "ees", Universe: cut.UniverseAttributes}, {Name: "registration", Universe: cut.UniverseLinks}}
}

func TestFindReadsLatestJSON(t *testing.T) {
	st, types := versionsFixture(t)
	sources, key, err := Latest(context.Background(), st, types)
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) != 2 || key != "k" {
		t.Fatalf("sources %+v, key %q: want BRGT's EES cut and LOND's registration (CRWN has no latest.json)", sources, key)
	}
	s := sources[0]
	if s.Cut != "ees" || s.MPID != "BRGT" || s.Version != 2 || s.CutID != "brgt-v2" || s.AsAt != "2026-11-20" || s.Pinned ||
		s.Prefix != cut.Prefix("ees", "BRGT", "brgt-v2") || s.Universe != cut.UniverseAttributes || s.Manifest == nil || s.TableKey("ees_portfolio") == "" {
		t.Errorf("BRGT's source %+v: want version 2, the one latest.json names", s)
	}
	if s := sources[1]; s.Cut != "registration" || s.MPID != "LOND" || s.Version != 1 || s.Universe != cut.UniverseLinks {
		t.Errorf("LOND's source %+v", s)
	}
}

func TestFindTakesPins(t *testing.T) {
	st, types := versionsFixture(t)
	// A pin chooses any version, even one latest.json does not name yet,
	// and even of an MPID without latest.json.
	sources, _, err := Find(context.Background(), st, types, Pins{"ees": {"BRGT": 3, "CRWN": 1}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sources {
		got = append(got, fmt.Sprintf("%s/%s v%d %s pinned=%v", s.Cut, s.MPID, s.Version, s.AsAt, s.Pinned))
	}
	want := "ees/BRGT v3 2026-10-01 pinned=true; ees/CRWN v1 2026-11-30 pinned=true; registration/LOND v1 2026-11-02 pinned=false"
	if strings.Join(got, "; ") != want {
		t.Errorf("sources\n%s\nwant\n%s", strings.Join(got, "; "), want)
	}
}

func TestFindRefusesMissingPins(t *testing.T) {
	st, types := versionsFixture(t)
	for _, c := range []struct {
		pins Pins
		want string
	}{
		{Pins{"ees": {"BRGT": 7}}, "the plan pins BRGT's ees cut to version 7, which does not exist: the versions published are 1, 2, 3, 4"},
		{Pins{"registration": {"GUCL": 3}}, "the plan pins GUCL's registration cut to version 3, which does not exist: none is published"},
	} {
		_, _, err := Find(context.Background(), st, types, c.pins)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("pins %v: got %v, want %q", c.pins, err, c.want)
		}
	}
}

func TestFindWithoutLatestJSON(t *testing.T) {
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	types := []*cut.Type{{Name: "ees", Universe: cut.UniverseAttributes}}
	version(t, st, "ees", "BRGT", 1, "2026-11-01", time.Now())
	if _, _, err := Latest(ctx, st, types); err == nil || !strings.Contains(err.Error(), "no published ees cut") || !strings.Contains(err.Error(), "1 MPIDs have versions but no latest.json") {
		t.Errorf("versions without latest.json: %v", err)
	}
	// latest.json naming a version that is gone (pruned by hand) is an
	// error, never another version quietly.
	if err := cut.WriteLatest(ctx, st, "ees", "BRGT", cut.Latest{Version: 2, CutID: "brgt-v2", Prefix: cut.Prefix("ees", "BRGT", "brgt-v2")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Latest(ctx, st, types); err == nil || !strings.Contains(err.Error(), "names version 2") {
		t.Errorf("latest.json naming a missing version: %v", err)
	}
}

func TestFindRefusesMixedKeys(t *testing.T) {
	st, types := versionsFixture(t)
	m := version(t, st, "registration", "LOND", 2, "2026-11-03", time.Now())
	m.KeyFingerprint = "other"
	if err := cut.WriteManifest(context.Background(), st, cut.Prefix(m.Cut, m.MPID, m.CutID), m); err != nil {
		t.Fatal(err)
	}
	writeLatest(t, st, m)
	if _, _, err := Latest(context.Background(), st, types); err == nil || !strings.Contains(err.Error(), "2 different keys") {
		t.Errorf("cuts masked with different keys: %v", err)
	}
}
