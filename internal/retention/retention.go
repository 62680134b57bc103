// Package retention removes what is no longer needed from the store (datacut
// prune): published cuts beyond the newest few of each MPID and cut type,
// except any that a plan's latest allocation still reads, and quarantined
// files and their reports past an age limit.
package retention

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Options say what to keep.
type Options struct {
	Store store.Store
	// Keep is how many published cuts of each MPID and cut type to keep,
	// newest first (at least 1).
	Keep int
	// QuarantineAge: quarantined files and reports older than this go; 0
	// keeps them all.
	QuarantineAge time.Duration
	// DryRun lists what would go and removes nothing.
	DryRun bool
	Now    time.Time
}

// Removal is one published cut or quarantined object that goes.
type Removal struct {
	Key    string `json:"key"`    // a cut's prefix, or an object's key
	Reason string `json:"reason"` // why it may go
}

// Result is what a prune removed (or would, in a dry run) and what it kept
// only because an allocation reads it.
type Result struct {
	Removed []Removal `json:"removed"`
	Pinned  []string  `json:"pinned,omitempty"` // prefixes kept for a plan's latest run
}

type version struct {
	prefix   string
	group    string // <cut type>/<MPID>: the cuts whose newest are kept
	finished time.Time
	keys     []string
}

// Prune removes what the options allow. A cut goes manifest first, so it
// stops existing for readers before its tables go, and its listing markers
// go with it (else a run would take the same inputs for published).
func Prune(ctx context.Context, opt Options) (*Result, error) {
	if opt.Keep < 1 {
		return nil, fmt.Errorf("keep must be at least 1 (the latest cut of each MPID and cut type is always kept)")
	}
	inUse, err := cut.LatestRunSources(ctx, opt.Store)
	if err != nil {
		return nil, fmt.Errorf("reading which cuts allocations use: %w", err)
	}
	pinned := map[string]bool{}
	for _, s := range inUse {
		pinned[cut.Prefix(s.Cut, s.MPID, s.CutID)] = true
	}
	versions, markers, err := listCuts(ctx, opt.Store)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, n := range slices.Sorted(maps.Keys(versions)) {
		group := versions[n]
		sort.Slice(group, func(i, j int) bool { return group[i].finished.After(group[j].finished) })
		for i, v := range group {
			switch {
			case i < opt.Keep:
				continue
			case pinned[v.prefix]:
				res.Pinned = append(res.Pinned, v.prefix)
				continue
			}
			res.Removed = append(res.Removed, Removal{Key: v.prefix, Reason: fmt.Sprintf("older than the newest %d of its MPID and cut type, read by no plan's latest run", opt.Keep)})
			if !opt.DryRun {
				if err := removeVersion(ctx, opt.Store, v, markers[v.prefix]); err != nil {
					return res, err
				}
			}
		}
	}
	if opt.QuarantineAge > 0 {
		if err := pruneQuarantine(ctx, opt, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// listCuts groups published cuts by MPID and cut type, and finds the
// listing markers naming each.
func listCuts(ctx context.Context, st store.Store) (map[string][]*version, map[string][]string, error) {
	byPrefix := map[string]*version{}
	markers := map[string][]string{}
	err := st.List(ctx, cut.CutsRoot, func(i store.Info) error {
		k, ok := cut.ParseCutKey(i.Key)
		switch {
		case !ok || k.Latest:
			return nil
		}
		v := byPrefix[k.Prefix]
		if v == nil {
			v = &version{prefix: k.Prefix, group: k.Type + "/" + k.MPID}
			byPrefix[k.Prefix] = v
		}
		v.keys = append(v.keys, i.Key)
		if k.Name == cut.ManifestFile {
			m, err := cut.ReadManifest(ctx, st, k.Prefix)
			if err != nil {
				return fmt.Errorf("%s: %w", i.Key, err)
			}
			v.finished = m.Timings.Finished
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("listing published cuts: %w", err)
	}
	groups := map[string][]*version{}
	for _, v := range byPrefix {
		if v.finished.IsZero() {
			continue // no manifest: not published (datacut run sweeps leftovers)
		}
		groups[v.group] = append(groups[v.group], v)
	}
	return groups, markers, nil
}

func removeVersion(ctx context.Context, st store.Store, v *version, markers []string) error {
	keys := append([]string{cut.ManifestKey(v.prefix)}, markers...)
	for _, k := range v.keys {
		if k != cut.ManifestKey(v.prefix) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if err := st.Delete(ctx, k); err != nil && !store.IsNotFound(err) {
			return fmt.Errorf("removing %s: %w", k, err)
		}
	}
	return nil
}

// pruneQuarantine removes quarantined files and reports past the age limit.
func pruneQuarantine(ctx context.Context, opt Options, res *Result) error {
	cutoff := opt.Now.Add(-opt.QuarantineAge)
	for _, root := range []string{cut.QuarantineRoot, cut.ReportsRoot} {
		var old []string
		err := opt.Store.List(ctx, root, func(i store.Info) error {
			if i.Modified.Before(cutoff) {
				old = append(old, i.Key)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			res.Removed = append(res.Removed, Removal{Key: k, Reason: fmt.Sprintf("kept more than %s", opt.QuarantineAge)})
			if !opt.DryRun {
				if err := opt.Store.Delete(ctx, k); err != nil && !store.IsNotFound(err) {
					return fmt.Errorf("removing %s: %w", k, err)
				}
			}
		}
	}
	return nil
}
