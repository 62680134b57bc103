// Package reconcile compares what participants' latest published cuts say
// about the same (masked) MPAN and lists where they disagree: findings of
// rules that are data (pipelines/reconcile.yaml), each naming the
// participant that must act, its cut version and the file and line of its
// record. It reads published cuts only, like the allocator, through the
// universe's choice of sources and its core order.
package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mpan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// Differs is what a finding says of a value the DPIA masks.
const Differs = "differs"

// Finding is one disagreement: what the participant that must act holds,
// where, and whom it disagrees with.
type Finding struct {
	MPAN      string `json:"mpan"` // masked MPAN core
	Rule      string `json:"rule"`
	Kind      string `json:"kind"`
	Attribute string `json:"attribute"`
	Severity  string `json:"severity"`
	// The participant that must act, and its cut: version, file id and
	// line of its record (none when the finding is that it has none).
	MPID    string `json:"mpid"`
	Role    string `json:"role"`
	Cut     string `json:"cut"`
	Version int    `json:"version,omitempty"`
	FileID  string `json:"fileId,omitempty"`
	Line    int    `json:"line,omitempty"`
	// The other party, whose statement it disagrees with.
	OtherRole string `json:"otherRole,omitempty"`
	OtherMPID string `json:"otherMpid,omitempty"`
	// Values compared, where the DPIA keeps the items in clear (codes,
	// MPIDs); "differs" for masked items; empty when nothing is compared.
	Value      string `json:"value,omitempty"`
	OtherValue string `json:"otherValue,omitempty"`

	ref *rowRef // the record, until its file id and line are read
}

// Options say what to reconcile.
type Options struct {
	Store store.Store
	Rules *Rules
	// Clear says whether the DPIA keeps a data item in clear (its values
	// may appear in findings); others are written as "differs".
	Clear func(ref string) bool
}

// Result is a reconciliation's findings over its sources.
type Result struct {
	ID             string
	Sources        []universe.Source
	KeyFingerprint string
	Rules          *Rules
	Findings       []Finding
}

type engine struct {
	st      store.Store
	rules   *Rules
	clear   func(string) bool
	sources []universe.Source
	files   []string   // file ids of columns given with their records' files (column.file)
	mu      sync.Mutex // guards dict while tables are read in parallel
	dict    map[uint64]string
	cache   map[string]*column
	tables  map[string]*table
	out     []Finding
	layouts map[string]*layout
	// sp, for a market reconciled in passes (each over a range of cores),
	// holds its tables split by range; cur is the pass's.
	sp  *spill
	cur int
}

// Run reconciles the latest published version of every MPID's cut of each
// type the rules name.
func Run(ctx context.Context, o Options) (*Result, error) {
	e, key, err := newEngine(ctx, o)
	if err != nil {
		return nil, err
	}
	sources := e.sources
	if err := e.startSpill(ctx, store.TempDir(o.Store)); err != nil {
		return nil, err
	}
	defer e.endSpill()
	outs := make([][]Finding, len(o.Rules.Rules))
	passes := 1
	if e.sp != nil {
		passes = e.sp.n()
	}
	for e.cur = 0; e.cur < passes; e.cur++ {
		if err := e.pass(ctx, o.Rules.Rules, outs, false); err != nil {
			return nil, err
		}
	}
	if e.sp != nil {
		// Linked rules' requests, each in the partition of the MPAN it
		// asks about.
		for ri, w := range e.sp.asks {
			delete(e.sp.asks, ri)
			if err := w.close(); err != nil {
				return nil, err
			}
		}
		e.sp.answering = true
		for e.cur = 0; e.cur < passes; e.cur++ {
			if err := e.pass(ctx, o.Rules.Rules, outs, true); err != nil {
				return nil, err
			}
		}
	}
	for _, part := range outs {
		sort.SliceStable(part, func(i, j int) bool {
			a, b := part[i], part[j]
			if a.MPID != b.MPID {
				return a.MPID < b.MPID
			}
			if a.MPAN != b.MPAN {
				return a.MPAN < b.MPAN
			}
			if a.FileID != b.FileID {
				return a.FileID < b.FileID
			}
			return a.Line < b.Line
		})
		e.out = append(e.out, part...)
	}
	return &Result{ID: RunID(sources, o.Rules), Sources: sources, KeyFingerprint: key, Rules: o.Rules, Findings: e.out}, nil
}

// newEngine finds the sources o's rules read; it returns the masking
// key's fingerprint they were cut with.
func newEngine(ctx context.Context, o Options) (*engine, string, error) {
	var types cut.Types
	for _, ct := range o.Rules.types.Cuts {
		if o.Rules.names(ct.Name) {
			types = append(types, ct)
		}
	}
	sources, key, err := universe.Latest(ctx, o.Store, types)
	if err != nil {
		return nil, "", err
	}
	clear := o.Clear
	if clear == nil {
		clear = func(string) bool { return false }
	}
	e := &engine{st: o.Store, rules: o.Rules, clear: clear, sources: sources, dict: map[uint64]string{}}
	return e, key, nil
}

// pass checks the rules over the pass's partition (all of the market when
// there is one pass), adding each rule's findings to its outs. answers is
// the second sweep of a run in passes: linked rules answer the requests
// of the first.
func (e *engine) pass(ctx context.Context, rules []*Rule, outs [][]Finding, answers bool) error {
	linked := func(r *Rule) bool { return e.sp != nil && r.Kind == KindLinked }
	// A statement, and a table, is kept while a rule to come reads it, no
	// longer: memory holds the statements of a few rules, not of all.
	uses, tableUses := map[string]int{}, map[string]int{}
	for _, r := range rules {
		if answers && !linked(r) {
			continue
		}
		for _, it := range r.reads() {
			uses[it.String()]++
			tableUses[tableKey(it.Cut, it.Table)]++
		}
	}
	e.cache, e.tables = map[string]*column{}, map[string]*table{}
	for ri, r := range rules {
		if answers && !linked(r) {
			continue
		}
		e.out = outs[ri]
		n := len(e.out)
		var err error
		switch {
		case answers:
			err = e.linkedAnswers(ctx, r, ri)
		case linked(r):
			err = e.linkedAsks(ctx, r, ri)
		default:
			err = kindNamed(r.Kind).check(ctx, e, r)
		}
		if err != nil {
			return fmt.Errorf("rule %s: %w", r.Name, err)
		}
		if err := e.locate(ctx, e.out[n:]); err != nil {
			return fmt.Errorf("rule %s: %w", r.Name, err)
		}
		outs[ri], e.out = e.out, nil
		for _, it := range r.reads() {
			k := it.String()
			if uses[k]--; uses[k] == 0 {
				delete(e.cache, k)
			}
			k = tableKey(it.Cut, it.Table)
			if tableUses[k]--; tableUses[k] == 0 {
				delete(e.tables, k)
			}
		}
	}
	return nil
}

// RunID names a reconciliation by what it read: the same cut versions and
// rules give the same id.
func RunID(sources []universe.Source, r *Rules) string {
	h := sha256.New()
	for _, s := range sources {
		fmt.Fprintf(h, "%s|%s|%s|%d\n", s.Cut, s.MPID, s.CutID, s.Version)
	}
	fmt.Fprintf(h, "rules %s\n", r.Hash)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// CutTypes are the names of the cut types the rules read, in the cut
// types' order.
func (r *Rules) CutTypes() []string {
	var out []string
	for _, ct := range r.types.Cuts {
		if r.names(ct.Name) {
			out = append(out, ct.Name)
		}
	}
	return out
}

// names says whether a rule reads cut type ct.
func (r *Rules) names(ct string) bool {
	for _, x := range r.Rules {
		for _, it := range x.items() {
			if it.Cut == ct {
				return true
			}
		}
		if x.HolderCut == ct {
			return true
		}
	}
	return false
}

// reads are the statements a rule's check reads.
func (x *Rule) reads() []Item {
	out := x.items()
	if x.Links != nil {
		out = append(out, Item{Cut: x.Links.Cut, Table: x.Links.Table, Item: x.Primary}, Item{Cut: x.Links.Cut, Table: x.Links.Table, Item: x.Secondary})
	}
	for _, t := range x.HeldIn {
		out = append(out, Item{Cut: x.HolderCut, Table: t})
	}
	return out
}

// items are every statement a rule names.
func (x *Rule) items() []Item {
	var out []Item
	for _, p := range []*Item{x.Authority, x.Appointed, x.Links, x.Supplier, x.Customer} {
		if p != nil {
			out = append(out, *p)
		}
	}
	for _, f := range []*Filter{x.Unless, x.When} {
		if f != nil {
			out = append(out, f.Item)
		}
	}
	out = append(out, x.Others...)
	out = append(out, x.Known...)
	return append(out, x.Held...)
}

// finding starts a finding of rule r about core, by the participant of
// source si, at row i of c (c nil: no record of its own).
func (e *engine) finding(r *Rule, core uint64, si int, c *column, i int) Finding {
	s := e.sources[si]
	f := Finding{MPAN: universe.FormatCore(core), Rule: r.Name, Kind: r.Kind, Attribute: r.Attribute, Severity: r.Severity,
		MPID: s.MPID, Role: e.rules.Senders[s.Cut], Cut: s.Cut, Version: s.Version}
	switch {
	case c == nil:
	case c.file != nil:
		f.FileID, f.Line = e.files[c.file[i]], int(c.line[i])
	default: // read when the rule is done (engine.locate)
		f.ref = &rowRef{at: c.at, raw: c.at.raw(i)}
	}
	return f
}

// other names the other party of a finding: source si's participant.
func (e *engine) other(f *Finding, si int) {
	f.OtherRole, f.OtherMPID = e.rules.Senders[e.sources[si].Cut], e.sources[si].MPID
}

// value is the text of a clear value hash ("" for none).
func (e *engine) value(h uint64) string { return e.dict[h] }

// registrationOf is the MPID of the registration service of a core's
// distributor (a masked core keeps its distributor id).
func registrationOf(core uint64) string {
	d, ok := mpan.DistributorOf(fmt.Sprintf("%02d", core/100_000_000_000))
	if !ok {
		return ""
	}
	return d.MPID
}

// sourcesOf are the indices of the sources of cut type ct and MPID mpid.
func (e *engine) sourceOf(ct, mpid string) int {
	for i, s := range e.sources {
		if s.Cut == ct && s.MPID == mpid {
			return i
		}
	}
	return -1
}
