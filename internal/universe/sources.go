package universe

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Source is one published version of a cut the universe reads.
type Source struct {
	Cut      string        `json:"cut"`
	MPID     string        `json:"mpid"`
	CutID    string        `json:"cutId"`
	Version  int           `json:"version"`
	AsAt     string        `json:"asAt"`
	Pinned   bool          `json:"pinned,omitempty"` // a plan's pin chose it, not latest.json
	Prefix   string        `json:"prefix"`
	Finished string        `json:"finished"`
	Universe string        `json:"-"` // what the universe takes from it (cut.Type.Universe)
	Manifest *cut.Manifest `json:"-"`
}

// Pins choose versions instead of the latest: cut type → MPID → version
// (plan.Sources.Pins).
type Pins map[string]map[string]int

// Latest finds the latest version of every MPID's cut of each type, as its
// latest.json names it; see Find.
func Latest(ctx context.Context, st store.Store, types []*cut.Type) ([]Source, string, error) {
	return Find(ctx, st, types, nil)
}

// Find chooses the version of every MPID's cut of each type the universe
// reads: the one pins names for it, else the one the MPID's latest.json
// names (an MPID with versions but no latest.json yet is being published
// for the first time, and left out). A pinned version that does not exist
// is an error naming the versions that do. Cuts masked with different keys
// are refused: their masked MPANs would not join.
func Find(ctx context.Context, st store.Store, types []*cut.Type, pins Pins) ([]Source, string, error) {
	var out []Source
	for _, t := range types {
		ct := t.Name
		mpids := map[string]bool{}   // those with a latest.json
		unnamed := map[string]bool{} // those with versions but no latest.json
		err := st.List(ctx, cut.TypeRoot(ct), func(in store.Info) error {
			switch k, ok := cut.ParseCutKey(in.Key); {
			case !ok || k.Type != ct || !cut.IsMPID(k.MPID):
			case k.Latest:
				mpids[k.MPID] = true
			case k.Name == cut.ManifestFile:
				unnamed[k.MPID] = true
			}
			return nil
		})
		if err != nil {
			return nil, "", fmt.Errorf("listing %s cuts in %s: %w", ct, st, err)
		}
		for mpid := range pins[ct] {
			mpids[mpid] = true // even one with nothing published: its pin is an error
		}
		n := len(out)
		for _, mpid := range slices.Sorted(maps.Keys(mpids)) {
			var s Source
			var err error
			if v := pins[ct][mpid]; v > 0 {
				s, err = pinned(ctx, st, ct, mpid, v)
			} else {
				s, err = latest(ctx, st, ct, mpid)
			}
			if err != nil {
				return nil, "", err
			}
			s.Universe = t.Universe
			out = append(out, s)
		}
		if len(out) == n { // no latest.json and no pin
			why := ""
			if len(unnamed) > 0 {
				why = fmt.Sprintf(" (%d MPIDs have versions but no %s naming the latest: published by an older datacut, or being published now)", len(unnamed), cut.LatestFile)
			}
			return nil, "", fmt.Errorf("no published %s cut in %s%s: run 'datacut run' on the participants' cuts first (or remove %s from the plan's sources)", ct, st, why, ct)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cut != out[j].Cut {
			return out[i].Cut < out[j].Cut
		}
		return out[i].MPID < out[j].MPID
	})
	byKey := map[string][]string{}
	for _, s := range out {
		byKey[s.Manifest.KeyFingerprint] = append(byKey[s.Manifest.KeyFingerprint], s.Cut+"/"+s.MPID)
	}
	if len(byKey) > 1 {
		var parts []string
		for k, cuts := range byKey {
			if len(cuts) > 4 {
				cuts = append(cuts[:4], fmt.Sprintf("and %d more", len(cuts)-4))
			}
			parts = append(parts, fmt.Sprintf("key %s: %s", k, strings.Join(cuts, ", ")))
		}
		sort.Strings(parts)
		return nil, "", fmt.Errorf("the latest cuts were masked with %d different keys, so their masked MPANs do not join (%s): re-run the odd cuts with the programme key", len(byKey), strings.Join(parts, "; "))
	}
	var key string
	for k := range byKey {
		key = k
	}
	return out, key, nil
}

// latest reads the version mpid's latest.json names.
func latest(ctx context.Context, st store.Store, cutType, mpid string) (Source, error) {
	m, err := cut.LatestManifest(ctx, st, cutType, mpid)
	if err != nil {
		return Source{}, err
	}
	return source(m, cut.Prefix(cutType, mpid, m.CutID), false), nil
}

// pinned finds version v of mpid's cut of cutType among its manifests.
func pinned(ctx context.Context, st store.Store, cutType, mpid string, v int) (Source, error) {
	versions, err := cut.Versions(ctx, st, cutType, mpid)
	if err != nil {
		return Source{}, fmt.Errorf("the versions of %s's %s cut: %w", mpid, cutType, err)
	}
	var have []string
	for _, m := range versions {
		if m.Version == v && m.Cut == cutType && m.MPID == mpid {
			return source(m, cut.Prefix(cutType, mpid, m.CutID), true), nil
		}
		have = append(have, strconv.Itoa(m.Version))
	}
	exist := "none is published"
	if len(have) > 0 {
		exist = "the versions published are " + strings.Join(have, ", ")
	}
	return Source{}, fmt.Errorf("the plan pins %s's %s cut to version %d, which does not exist: %s (change sources.pins.%s.%s, or remove the pin for the latest)", mpid, cutType, v, exist, cutType, mpid)
}

func source(m *cut.Manifest, prefix string, pinned bool) Source {
	return Source{Cut: m.Cut, MPID: m.MPID, CutID: m.CutID, Version: m.Version, AsAt: m.AsAt, Pinned: pinned, Prefix: prefix,
		Finished: m.Timings.Finished.UTC().Format("2006-01-02T15:04:05.000000000Z"), Manifest: m}
}

// TableKey is the store key of a source's table, or "" if the cut has none.
func (s Source) TableKey(name string) string { return s.Manifest.TableKey(name) }
