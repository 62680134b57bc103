package allocation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/reconcile"
	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// Exclusion is what a plan's policy.exclude_findings kept out of a run:
// the reconciliation run it read and, per rule, the units (and their
// MPANs) of which some MPAN has a finding of the rule. A unit with
// findings of two listed rules counts under both; Units and MPANs count
// each once.
type Exclusion struct {
	Reconciliation string          `json:"reconciliation"` // its run id
	Units          int             `json:"units"`
	MPANs          int             `json:"mpans"`
	ByRule         []RuleExclusion `json:"byRule"` // in the policy's order
}

// RuleExclusion is one listed rule's share of an Exclusion.
type RuleExclusion struct {
	Rule string `json:"rule"`
	// Findings are the rule's findings in the reconciliation run (about
	// MPANs of the universe or not).
	Findings int `json:"findings"`
	// Units and MPANs are those of the universe excluded for the rule.
	Units int `json:"units"`
	MPANs int `json:"mpans"`
}

// ReconciliationError is a policy.exclude_findings a run cannot honour:
// no reconciliation, or one of other cut versions or rules. Allocating
// without it would give units the plan means to keep out.
type ReconciliationError struct{ msg string }

func (e *ReconciliationError) Error() string { return e.msg }

// exclusion is a run's policy.exclude_findings, read and checked before the
// universe is built.
type exclusion struct {
	rules []string
	run   string
	// cores maps a masked MPAN core to the listed rules it has findings
	// of (bit i: rules[i]).
	cores    map[uint64]uint64
	findings []int // per listed rule
}

// id names the reconciliation in the run id ("" when the plan excludes
// nothing: its runs keep the ids they had).
func (x *exclusion) id() string {
	if x == nil {
		return ""
	}
	return x.run
}

// readExclusion reads the latest reconciliation's findings of the rules
// the plan lists, after checking that the reconciliation read the cut
// versions the allocation reads (sources, masked with key): none when the
// plan lists no rule.
func readExclusion(ctx context.Context, st store.Store, p *plan.Plan, sources []universe.Source, key string, mem memory.Allocator) (*exclusion, error) {
	rules := p.Policy.ExcludeFindings
	if len(rules) == 0 {
		return nil, nil
	}
	if len(rules) > 64 {
		return nil, &ReconciliationError{fmt.Sprintf("plan %s: policy.exclude_findings lists %d rules; at most 64", p.Name, len(rules))}
	}
	fix := fmt.Sprintf("run 'datacut reconcile --store %s' first, or remove policy.exclude_findings from plan %s", st, p.Name)
	l, err := reconcile.ReadLatest(ctx, st)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, &ReconciliationError{fmt.Sprintf("plan %s excludes units with findings of %s, but %s has no reconciliation (%s): %s",
			p.Name, strings.Join(rules, ", "), st, reconcile.LatestKey, fix)}
	}
	m, err := reconcile.ReadManifest(ctx, st, l.ID)
	if store.IsNotFound(err) {
		return nil, &ReconciliationError{fmt.Sprintf("the latest reconciliation %s has no %s (incomplete): %s", l.ID, reconcile.ManifestFile, fix)}
	}
	if err != nil {
		return nil, err
	}
	var known []string
	for _, r := range m.Totals.ByRule {
		known = append(known, r.Rule)
	}
	for _, r := range rules {
		if !slices.Contains(known, r) {
			return nil, &ReconciliationError{fmt.Sprintf("plan %s excludes findings of rule %s, which the latest reconciliation %s did not check (its rules, %s version %s: %s): %s",
				p.Name, r, l.ID, m.Rules.Path, m.Rules.Version, strings.Join(known, ", "), fix)}
		}
	}
	if err := current(ctx, st, m, sources, key); err != nil {
		return nil, &ReconciliationError{fmt.Sprintf("the latest reconciliation %s is stale for plan %s: %v; %s", l.ID, p.Name, err, fix)}
	}
	x := &exclusion{rules: rules, run: l.ID, cores: map[uint64]uint64{}, findings: make([]int, len(rules))}
	return x, x.read(ctx, st, mem)
}

// current checks that reconciliation m read, of each cut type it covers,
// the versions the allocation reads (sources) or, of a cut type the plan
// does not read, the latest ones; and that they were masked with key.
func current(ctx context.Context, st store.Store, m *reconcile.Manifest, sources []universe.Source, key string) error {
	if m.KeyFingerprint != key {
		return fmt.Errorf("it read cuts masked with key %s, the plan's cuts are masked with key %s", m.KeyFingerprint, key)
	}
	covered := m.CutTypes
	if len(covered) == 0 { // a manifest from before cutTypes: what it read
		for _, s := range m.Sources {
			if !slices.Contains(covered, s.Cut) {
				covered = append(covered, s.Cut)
			}
		}
	}
	read := map[string]reconcile.SourceRef{}
	for _, s := range m.Sources {
		read[s.Cut+"/"+s.MPID] = s
	}
	now := map[string]universe.Source{} // cut/MPID → the version that counts now
	unread := map[string]bool{}         // of those, the latest of a cut type the plan does not read
	for _, ct := range covered {
		if slices.ContainsFunc(sources, func(s universe.Source) bool { return s.Cut == ct }) {
			for _, s := range sources {
				if s.Cut == ct {
					now[s.Cut+"/"+s.MPID] = s
				}
			}
			continue
		}
		// A cut type the plan does not read: its latest versions.
		latest, _, err := universe.Latest(ctx, st, []*cut.Type{{Name: ct}})
		if err != nil {
			if !slices.ContainsFunc(m.Sources, func(s reconcile.SourceRef) bool { return s.Cut == ct }) {
				continue // none then, none now (or none readable: nothing to exclude by)
			}
			return fmt.Errorf("finding the latest %s cuts it read: %w", ct, err)
		}
		for _, s := range latest {
			now[s.Cut+"/"+s.MPID] = s
			unread[s.Cut+"/"+s.MPID] = true
		}
	}
	var diffs []string
	for _, k := range keysOf(now) {
		s := now[k]
		r, ok := read[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s version %d is not reconciled", k, s.Version))
		case r.CutID != s.CutID:
			d := fmt.Sprintf("%s: reconciled version %d, allocating version %d", k, r.Version, s.Version)
			if unread[k] {
				d = fmt.Sprintf("%s: reconciled version %d, latest version %d", k, r.Version, s.Version)
			}
			if s.Pinned {
				d += " (pinned by the plan; reconcile reads the latest versions)"
			}
			diffs = append(diffs, d)
		}
	}
	for _, k := range keysOf(read) {
		if _, ok := now[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s version %d is reconciled but no longer published", k, read[k].Version))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("and %d more", len(diffs)-5))
	}
	return fmt.Errorf("cut versions differ: %s", strings.Join(diffs, "; "))
}

// read loads the findings of the listed rules: their MPANs and counts.
func (x *exclusion) read(ctx context.Context, st store.Store, mem memory.Allocator) error {
	key := reconcile.Prefix(x.run) + reconcile.FindingsFile
	r, err := cut.OpenTable(ctx, st, key, mem, pqarrow.ArrowReadProperties{BatchSize: 1 << 16})
	if err != nil {
		return fmt.Errorf("reading %s: %w", key, err)
	}
	defer r.Close()
	cols, err := r.Columns("mpan", "rule")
	if err != nil {
		return err
	}
	rr, err := r.File.GetRecordReader(ctx, cols, nil)
	if err != nil {
		return fmt.Errorf("reading %s: %w", key, err)
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.Record()
		mpans, rules := rec.Column(0).(*array.String), rec.Column(1).(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			ri := slices.Index(x.rules, rules.Value(i))
			if ri < 0 {
				continue
			}
			x.findings[ri]++
			core, ok := universe.ParseCore(mpans.Value(i))
			if !ok {
				return fmt.Errorf("%s row %d: the mpan column holds no MPAN core", key, i) // never the value
			}
			x.cores[core] |= 1 << ri
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) { // the end is io.EOF
		return fmt.Errorf("reading %s: %w", key, err)
	}
	return nil
}

// apply finds the units of u with findings: those excluded, each for the
// first listed rule one of its MPANs has a finding of, and the counts.
func (x *exclusion) apply(u *universe.Universe) (solver.Excluded, *Exclusion) {
	if x == nil {
		return nil, nil
	}
	byUnit := map[int32]uint64{}
	for core, rules := range x.cores {
		if i, ok := u.Find(core); ok {
			byUnit[u.UnitOf(i)] |= rules
		}
	}
	out := &Exclusion{Reconciliation: x.run, Units: len(byUnit)}
	for i, r := range x.rules {
		out.ByRule = append(out.ByRule, RuleExclusion{Rule: r, Findings: x.findings[i]})
	}
	ex := solver.Excluded{}
	for unit, rules := range byUnit {
		n := len(u.UnitMembers(int(unit)))
		out.MPANs += n
		for i := range x.rules {
			if rules&(1<<i) == 0 {
				continue
			}
			if _, done := ex[unit]; !done {
				ex[unit] = x.rules[i]
			}
			out.ByRule[i].Units++
			out.ByRule[i].MPANs += n
		}
	}
	return ex, out
}

// Text says what the exclusion kept out, for the reports.
func (e *Exclusion) Text() string {
	var parts []string
	for _, r := range e.ByRule {
		parts = append(parts, fmt.Sprintf("%s %d units (%d MPANs; %d findings)", r.Rule, r.Units, r.MPANs, r.Findings))
	}
	return fmt.Sprintf("%d units (%d MPANs) excluded for findings of reconciliation %s (policy.exclude_findings): %s.",
		e.Units, e.MPANs, e.Reconciliation, strings.Join(parts, ", "))
}

// keysOf are m's keys, sorted.
func keysOf[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
