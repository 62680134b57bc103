package universe

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Source is one published cut the universe reads.
type Source struct {
	Cut      string        `json:"cut"`
	MPID     string        `json:"mpid"`
	CutID    string        `json:"cutId"`
	Prefix   string        `json:"prefix"`
	Finished string        `json:"finished"`
	Universe string        `json:"-"` // what the universe takes from it (cut.Type.Universe)
	Manifest *cut.Manifest `json:"-"`
}

// Latest finds the latest complete cut (one with a manifest) of every MPID
// for each cut type, and refuses cuts masked with different keys: their
// masked MPANs would not join.
func Latest(ctx context.Context, st store.Store, types []*cut.Type) ([]Source, string, error) {
	var out []Source
	for _, t := range types {
		ct := t.Name
		latest := map[string]Source{}
		err := st.List(ctx, cut.TypeRoot(ct), func(in store.Info) error {
			prefix, ok := cut.IsManifest(in.Key)
			if !ok {
				return nil
			}
			m, err := cut.ReadManifest(ctx, st, prefix)
			if err != nil {
				return fmt.Errorf("%s: %w", in.Key, err)
			}
			s := Source{Cut: ct, MPID: m.MPID, CutID: m.CutID, Prefix: prefix, Finished: m.Timings.Finished.UTC().Format("2006-01-02T15:04:05.000000000Z"),
				Universe: t.Universe, Manifest: m}
			if prev, ok := latest[m.MPID]; !ok || s.Finished > prev.Finished || (s.Finished == prev.Finished && s.CutID > prev.CutID) {
				latest[m.MPID] = s
			}
			return nil
		})
		if err != nil {
			return nil, "", fmt.Errorf("listing %s cuts in %s: %w", ct, st, err)
		}
		if len(latest) == 0 {
			return nil, "", fmt.Errorf("no published %s cut in %s: run 'datacut run' on the participants' cuts first (or remove %s from the plan's sources)", ct, st, ct)
		}
		for _, s := range latest {
			out = append(out, s)
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

// TableKey is the store key of a source's table, or "" if the cut has none.
func (s Source) TableKey(name string) string { return s.Manifest.TableKey(name) }
