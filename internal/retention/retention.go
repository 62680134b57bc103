// Package retention removes what is no longer needed from the store (datacut
// prune): versions of published cuts beyond the newest few of each MPID and
// cut type, except the latest, any a plan's latest allocation read and any
// a plan pins; and submissions' quarantine and reports past an age limit.
package retention

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Options say what to keep.
type Options struct {
	Store store.Store
	// Keep is how many versions of each MPID's cut of a type to keep, by
	// version number, highest first (at least 1).
	Keep int
	// Plans are the allocation plans whose pinned versions are kept.
	Plans []*plan.Plan
	// QuarantineAge: a submission's quarantine and reports go together
	// once the newest of them is older than this; 0 keeps them all.
	QuarantineAge time.Duration
	// DryRun lists what would go and removes nothing.
	DryRun bool
	Now    time.Time
	Tool   string // for the audit record
}

// Removal is one version, quarantine or report folder, or object that goes.
type Removal struct {
	Key    string `json:"key"`    // a version's or submission's folder, or an object's key
	Reason string `json:"reason"` // why it may go
}

// Kept is a version beyond the newest Keep, or an old submission's folder,
// kept anyway, and why.
type Kept struct {
	Key     string   `json:"key"`
	Reasons []string `json:"reasons"`
}

// Result is what a prune removed (or would, in a dry run) and what it kept
// that it would otherwise have removed.
type Result struct {
	Removed []Removal `json:"removed"`
	Kept    []Kept    `json:"kept,omitempty"`
}

// version is one published version: a cut folder with a manifest.
type version struct {
	prefix   string
	manifest *cut.Manifest
	keys     []string
}

// group is every version of one MPID's cut of a type.
type group struct {
	cut, mpid string
	versions  []*version
	latest    string // the prefix latest.json names; "" without one
}

// Prune removes what the options allow. A version goes manifest first, so
// it stops existing for readers before its tables go.
func Prune(ctx context.Context, opt Options) (*Result, error) {
	if opt.Keep < 1 {
		return nil, fmt.Errorf("keep must be at least 1 (the latest version of each MPID's cut is always kept)")
	}
	keep, err := whatToKeep(ctx, opt)
	if err != nil {
		return nil, err
	}
	groups, err := listVersions(ctx, opt.Store)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, n := range slices.Sorted(maps.Keys(groups)) {
		g := groups[n]
		sort.Slice(g.versions, func(i, j int) bool { return g.versions[i].manifest.Version > g.versions[j].manifest.Version })
		latest, latestWhy := g.latest, "the latest version (latest.json names it)"
		if latest == "" { // latest.json not written yet: keep what it will name
			var ms []*cut.Manifest
			for _, v := range g.versions {
				ms = append(ms, v.manifest)
			}
			m := cut.LatestOf(ms)
			latest, latestWhy = cut.Prefix(m.Cut, m.MPID, m.CutID), "the latest version by as-at date (no latest.json names one yet)"
		}
		for i, v := range g.versions {
			if i < opt.Keep {
				continue
			}
			var why []string
			if v.prefix == latest {
				why = append(why, latestWhy)
			}
			why = append(why, keep(g.cut, g.mpid, v.manifest)...)
			if len(why) > 0 {
				res.Kept = append(res.Kept, Kept{Key: v.prefix, Reasons: why})
				continue
			}
			res.Removed = append(res.Removed, Removal{Key: v.prefix,
				Reason: fmt.Sprintf("version %d, older than the newest %d of %s's %s cut, not the latest, read by no plan's latest run, pinned by no plan", v.manifest.Version, opt.Keep, g.mpid, g.cut)})
			if !opt.DryRun {
				if err := removeVersion(ctx, opt.Store, v); err != nil {
					return res, auditPrune(ctx, opt, res, err)
				}
			}
		}
	}
	if opt.QuarantineAge > 0 {
		if err := pruneQuarantine(ctx, opt, res); err != nil {
			return res, auditPrune(ctx, opt, res, err)
		}
	}
	return res, auditPrune(ctx, opt, res, nil)
}

// auditPrune records what a prune removed (nothing for a dry run), also
// when it stopped part-way; err is that stop, returned as it is.
func auditPrune(ctx context.Context, opt Options, res *Result, err error) error {
	if opt.DryRun || len(res.Removed) == 0 {
		return err
	}
	rec := audit.Record{Tool: opt.Tool, Action: audit.ActionPrune, Detail: fmt.Sprintf("%d removed, %d kept for a reason", len(res.Removed), len(res.Kept))}
	if err != nil {
		rec.Detail += "; stopped: " + err.Error()
	}
	for _, r := range res.Removed {
		rec.Objects = append(rec.Objects, audit.Object{Op: audit.OpDelete, Key: r.Key})
	}
	if aerr := audit.Write(ctx, opt.Store, rec); err == nil {
		return aerr
	}
	return err
}

// whatToKeep gathers the versions plans need: those their latest runs
// read and those they pin. It returns why a version is needed, if it is.
func whatToKeep(ctx context.Context, opt Options) (func(cutType, mpid string, m *cut.Manifest) []string, error) {
	inUse, err := cut.LatestRunSources(ctx, opt.Store)
	if err != nil {
		return nil, fmt.Errorf("reading which cuts allocations use: %w", err)
	}
	read := map[string]bool{}
	for _, s := range inUse {
		read[cut.Prefix(s.Cut, s.MPID, s.CutID)] = true
	}
	type pin struct {
		cut, mpid string
		version   int
	}
	pinnedBy := map[pin][]string{}
	for _, p := range opt.Plans {
		for ct, mpids := range p.Sources.Pins {
			for mpid, v := range mpids {
				k := pin{ct, mpid, v}
				pinnedBy[k] = append(pinnedBy[k], p.Name)
			}
		}
	}
	return func(cutType, mpid string, m *cut.Manifest) []string {
		var why []string
		if read[cut.Prefix(cutType, mpid, m.CutID)] {
			why = append(why, "a plan's latest allocation run read it")
		}
		if plans := pinnedBy[pin{cutType, mpid, m.Version}]; len(plans) > 0 {
			slices.Sort(plans)
			why = append(why, "pinned by plan "+strings.Join(plans, ", "))
		}
		return why
	}, nil
}

// listVersions groups the published versions by MPID and cut type, with
// the version each group's latest.json names.
func listVersions(ctx context.Context, st store.Store) (map[string]*group, error) {
	byPrefix := map[string]*version{}
	groups := map[string]*group{}
	groupOf := func(k cut.CutKey) *group {
		n := k.Type + "/" + k.MPID
		if groups[n] == nil {
			groups[n] = &group{cut: k.Type, mpid: k.MPID}
		}
		return groups[n]
	}
	var withLatest []*group
	err := st.List(ctx, cut.CutsRoot, func(i store.Info) error {
		k, ok := cut.ParseCutKey(i.Key)
		switch {
		case !ok:
			return nil
		case k.Latest:
			withLatest = append(withLatest, groupOf(k))
			return nil
		}
		v := byPrefix[k.Prefix]
		if v == nil {
			v = &version{prefix: k.Prefix}
			byPrefix[k.Prefix] = v
			groupOf(k).versions = append(groupOf(k).versions, v)
		}
		v.keys = append(v.keys, i.Key)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing published cuts: %w", err)
	}
	for _, g := range withLatest {
		l, err := cut.ReadLatest(ctx, st, g.cut, g.mpid)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cut.LatestKey(g.cut, g.mpid), err)
		}
		g.latest = cut.Prefix(g.cut, g.mpid, l.CutID)
	}
	for n, g := range groups {
		var published []*version
		for _, v := range g.versions {
			if !slices.Contains(v.keys, cut.ManifestKey(v.prefix)) {
				continue // no manifest: not published (datacut run sweeps leftovers)
			}
			m, err := cut.ReadManifest(ctx, st, v.prefix)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cut.ManifestKey(v.prefix), err)
			}
			v.manifest = m
			published = append(published, v)
		}
		if g.versions = published; len(published) == 0 {
			delete(groups, n)
		}
	}
	return groups, nil
}

func removeVersion(ctx context.Context, st store.Store, v *version) error {
	keys := []string{cut.ManifestKey(v.prefix)}
	for _, k := range v.keys {
		if k != cut.ManifestKey(v.prefix) {
			keys = append(keys, k)
		}
	}
	return remove(ctx, st, keys)
}

func remove(ctx context.Context, st store.Store, keys []string) error {
	for _, k := range keys {
		if err := st.Delete(ctx, k); err != nil && !store.IsNotFound(err) {
			return fmt.Errorf("removing %s: %w", k, err)
		}
	}
	return nil
}

// submission is what one submission left under quarantine/ and reports/.
type submission struct {
	cut, mpid, id string
	quarantine    []string
	reports       []string // the receipt last
	newest        time.Time
}

// pruneQuarantine removes each submission's quarantine and reports
// together once the newest of them is older than the age limit, but never
// while the submission's folder is still in the inbox: its receipt is what
// tells a run the folder was taken. Objects under quarantine/ or reports/
// outside a submission's folder go by their own age.
func pruneQuarantine(ctx context.Context, opt Options, res *Result) error {
	cutoff := opt.Now.Add(-opt.QuarantineAge)
	subs := map[[3]string]*submission{}
	of := func(cutType, mpid, id string, i store.Info) *submission {
		k := [3]string{cutType, mpid, id}
		s := subs[k]
		if s == nil {
			s = &submission{cut: cutType, mpid: mpid, id: id}
			subs[k] = s
		}
		if i.Modified.After(s.newest) {
			s.newest = i.Modified
		}
		return s
	}
	var loose []string
	err := opt.Store.List(ctx, cut.QuarantineRoot, func(i store.Info) error {
		if q, ok := cut.ParseQuarantineKey(i.Key); ok {
			s := of(q.Type, q.MPID, q.Submission, i)
			s.quarantine = append(s.quarantine, i.Key)
		} else if i.Modified.Before(cutoff) {
			loose = append(loose, i.Key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = opt.Store.List(ctx, cut.ReportsRoot, func(i store.Info) error {
		if r, ok := cut.ParseReportKey(i.Key); ok {
			s := of(r.Type, r.MPID, r.Submission, i)
			s.reports = append(s.reports, i.Key)
		} else if i.Modified.Before(cutoff) {
			loose = append(loose, i.Key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	inbox := map[[3]string]bool{}
	err = opt.Store.List(ctx, cut.InboxRoot, func(i store.Info) error {
		if f, err := cut.ParseInboxKey(i.Key); err == nil && f.Submission != "" {
			inbox[[3]string{f.Type, f.MPID, f.Submission}] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	age := fmt.Sprintf("its newest quarantined file or report is more than %s old", opt.QuarantineAge)
	for _, k := range slices.SortedFunc(maps.Keys(subs), func(a, b [3]string) int { return strings.Compare(strings.Join(a[:], "/"), strings.Join(b[:], "/")) }) {
		s := subs[k]
		if !s.newest.Before(cutoff) {
			continue
		}
		for _, d := range []struct {
			dir  string
			keys []string
		}{{cut.QuarantineDir(s.cut, s.mpid, s.id), s.quarantine}, {cut.ReportDir(s.cut, s.mpid, s.id), s.reports}} {
			switch {
			case len(d.keys) == 0:
			case inbox[k]:
				res.Kept = append(res.Kept, Kept{Key: d.dir, Reasons: []string{fmt.Sprintf("%s, but the submission is still in the inbox (%s): its receipt tells a run it was taken", age, cut.SubmissionDir(s.mpid, s.cut, s.id))}})
			default:
				res.Removed = append(res.Removed, Removal{Key: d.dir, Reason: age})
			}
		}
		if inbox[k] {
			continue
		}
		receipt := cut.ReceiptKey(s.cut, s.mpid, s.id)
		sort.SliceStable(s.reports, func(i, j int) bool { return s.reports[j] == receipt && s.reports[i] != receipt })
		if !opt.DryRun {
			if err := remove(ctx, opt.Store, slices.Concat(s.quarantine, s.reports)); err != nil {
				return err
			}
		}
	}
	for _, k := range loose {
		res.Removed = append(res.Removed, Removal{Key: k, Reason: fmt.Sprintf("kept more than %s, in no submission's folder", opt.QuarantineAge)})
		if !opt.DryRun {
			if err := remove(ctx, opt.Store, []string{k}); err != nil {
				return err
			}
		}
	}
	return nil
}
