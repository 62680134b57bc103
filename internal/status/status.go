// Package status says, per organisation, MPID and cut type, what has
// arrived and what is still owed: the programme register's expectations
// against the store's published versions, quarantine and inbox. It reads
// manifests, latest.json, submission.json and listings only, never data, so
// nothing sensitive can reach a status page.
package status

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/store"
)

// States of a row.
const (
	Received   = "received"   // the latest cut is in time
	Awaited    = "awaited"    // nothing yet, not due yet
	Overdue    = "overdue"    // nothing yet, and the due date has passed
	Stale      = "stale"      // a refreshed cut whose latest is older than its interval
	Unexpected = "unexpected" // sent, but the register does not ask this MPID for it
)

// Row is one MPID's cut type.
type Row struct {
	Organisation string `json:"organisation,omitempty"`
	SIT          bool   `json:"sit"`
	MPID         string `json:"mpid"`
	Cut          string `json:"cut"`
	State        string `json:"state"`
	// Due is the due date (YYYY-MM-DD) or Refresh the interval ("7d"), as
	// the register says; both empty for an unexpected cut.
	Due     string `json:"due,omitempty"`
	Refresh string `json:"refresh,omitempty"`
	// Latest is the latest version (the one latest.json names), if any;
	// Versions counts the published versions.
	Latest   *Version `json:"latest,omitempty"`
	Versions int      `json:"versions"`
	// Quarantined counts the broken files kept in quarantine, of every
	// submission.
	Quarantined int `json:"quarantined"`
	// Waiting are the submissions in the inbox no run has taken yet.
	Waiting []Waiting `json:"waiting,omitempty"`
	// Findings are the MPID's open findings about this cut type in the
	// latest reconciliation run, when status read them (OpenFindings).
	Findings *Findings `json:"findings,omitempty"`

	expected *programme.Expectation // nil: the register does not ask for it
}

// Version is a published version of a cut, as its manifest says.
type Version struct {
	Version   int       `json:"version"`
	CutID     string    `json:"cutId"`
	AsAt      string    `json:"asAt"` // when its data was extracted
	Published time.Time `json:"published"`
	Inputs    int       `json:"inputs"`
	Rows      int64     `json:"rows"`
	Rejected  int       `json:"rejected"` // instances left out
}

// AsAtDate is the as-at date without its time, if it has one.
func (v *Version) AsAtDate() string {
	if len(v.AsAt) > len(time.DateOnly) {
		return v.AsAt[:len(time.DateOnly)]
	}
	return v.AsAt
}

// Waiting is a submission folder in the inbox that no run has taken: one
// still being uploaded or to be corrected (Reason says what it waits for,
// naming files and fields, never data), or one ready for the next run
// (Reason empty). Submission "" is loose files outside any submission.
type Waiting struct {
	Submission string    `json:"submission"`
	Files      int       `json:"files"`
	Since      time.Time `json:"since"` // its newest upload
	AgeSeconds int64     `json:"ageSeconds"`
	Reason     string    `json:"reason,omitempty"`
}

// Name is the submission's id, or what loose files are.
func (w Waiting) Name() string {
	if w.Submission == "" {
		return "(loose files)"
	}
	return w.Submission
}

// Age is how long ago its newest upload came, roughly: 45m, 5h, 3d.
func (w Waiting) Age() string {
	d := time.Duration(w.AgeSeconds) * time.Second
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// Why is what the submission waits for.
func (w Waiting) Why() string {
	if w.Reason == "" {
		return "ready: the next run takes it"
	}
	return w.Reason
}

// Scope limits what Build reads. The zero Scope reads the whole store;
// with MPIDs it reads only their folders (inbox/<M>/ and
// <root>/<cut>/mpid=<M>/ for each of Cuts), which is what a participant's
// own credentials may list, and gives only their rows.
type Scope struct {
	MPIDs []string
	Cuts  []string // the cut types to look for
}

// prefixes are the folders of root (cuts/ or quarantine/) to list.
func (s Scope) prefixes(root string) []string {
	if len(s.MPIDs) == 0 {
		return []string{root}
	}
	var out []string
	for _, c := range s.Cuts {
		for _, m := range s.MPIDs {
			out = append(out, root+c+"/mpid="+m+"/")
		}
	}
	return out
}

func (s Scope) has(mpid string) bool { return len(s.MPIDs) == 0 || slices.Contains(s.MPIDs, mpid) }

// listAll lists every prefix of root the scope reads.
func (s Scope) listAll(ctx context.Context, st store.Store, root string, fn func(store.Info) error) error {
	for _, p := range s.prefixes(root) {
		if err := st.List(ctx, p, fn); err != nil {
			return fmt.Errorf("listing %s: %w", p, err)
		}
	}
	return nil
}

// Build lists every expected (MPID, cut type) of the register and every
// one present in the store, in organisation, MPID and cut order; a nil
// register makes every present cut unexpected. now decides what is due.
func Build(ctx context.Context, st store.Store, reg *programme.Register, now time.Time, scope Scope) ([]Row, error) {
	rows := map[[2]string]*Row{}
	row := func(mpid, cutType string) *Row {
		k := [2]string{mpid, cutType}
		if rows[k] == nil {
			rows[k] = &Row{MPID: mpid, Cut: cutType, State: Unexpected}
		}
		return rows[k]
	}
	if reg != nil {
		for _, o := range reg.Organisations {
			for _, m := range o.MPIDs {
				for _, e := range reg.Expected(m.MPID) {
					r := row(m.MPID, e.CutType)
					r.State, r.expected = Awaited, &e
					if !e.Due.IsZero() {
						r.Due = e.Due.Format(programme.DateLayout)
					}
					if e.Refresh > 0 {
						r.Refresh = interval(e.Refresh)
					}
				}
			}
		}
	}
	if err := published(ctx, st, scope, row); err != nil {
		return nil, err
	}
	if err := waiting(ctx, st, scope, row, now); err != nil {
		return nil, err
	}
	err := scope.listAll(ctx, st, cut.QuarantineRoot, func(i store.Info) error {
		if q, ok := cut.ParseQuarantineKey(i.Key); ok && !q.Rejected && cut.IsMPID(q.MPID) {
			row(q.MPID, q.Type).Quarantined++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
		if !scope.has(r.MPID) {
			continue
		}
		if reg != nil {
			if o := reg.Org(r.MPID); o != nil {
				r.Organisation, r.SIT = o.Name, o.SIT
			}
			r.State = state(r, now)
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Organisation != b.Organisation {
			return a.Organisation < b.Organisation
		}
		if a.MPID != b.MPID {
			return a.MPID < b.MPID
		}
		return a.Cut < b.Cut
	})
	return out, nil
}

// state decides a row's state from what the register expects. A refreshed
// cut is stale by the as-at date of its latest version, when its data was
// extracted, not by when it was published: re-sending an old extract does
// not make the data fresh.
func state(r *Row, now time.Time) string {
	exp := r.expected
	if exp == nil {
		return Unexpected
	}
	switch {
	case r.Latest == nil && !exp.Due.IsZero() && now.After(exp.Due.AddDate(0, 0, 1)):
		return Overdue
	case r.Latest == nil && exp.Refresh > 0:
		return Overdue // a refreshed cut is owed from the start
	case r.Latest == nil:
		return Awaited
	case exp.Refresh > 0 && now.Sub(extracted(r.Latest)) > exp.Refresh:
		return Stale
	}
	return Received
}

// extracted is when a version's data was extracted at the latest: the end
// of its as-at day when it is a date, its publication if unreadable.
func extracted(v *Version) time.Time {
	t, err := cut.ParseAsAt(v.AsAt)
	switch {
	case err != nil:
		return v.Published
	case len(v.AsAt) == len(time.DateOnly):
		return t.AddDate(0, 0, 1)
	}
	return t
}

// published finds each MPID's latest version of each cut type (the one its
// latest.json names; before that is written, the latest of its manifests
// by as-at date) and counts its versions.
func published(ctx context.Context, st store.Store, scope Scope, row func(mpid, cutType string) *Row) error {
	type group struct {
		cut, mpid string
		manifests []string // prefixes
		latest    bool
	}
	groups := map[[2]string]*group{}
	err := scope.listAll(ctx, st, cut.CutsRoot, func(i store.Info) error {
		k, ok := cut.ParseCutKey(i.Key)
		if !ok || !cut.IsMPID(k.MPID) || (!k.Latest && k.Name != cut.ManifestFile) {
			return nil
		}
		g := groups[[2]string{k.MPID, k.Type}]
		if g == nil {
			g = &group{cut: k.Type, mpid: k.MPID}
			groups[[2]string{k.MPID, k.Type}] = g
		}
		if k.Latest {
			g.latest = true
		} else {
			g.manifests = append(g.manifests, k.Prefix)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, g := range groups {
		if len(g.manifests) == 0 {
			continue // latest.json without versions: nothing published
		}
		var m *cut.Manifest
		if g.latest {
			var err error
			if m, err = cut.LatestManifest(ctx, st, g.cut, g.mpid); err != nil {
				return err
			}
		} else {
			ms, err := cut.Versions(ctx, st, g.cut, g.mpid)
			if err != nil {
				return err
			}
			m = cut.LatestOf(ms)
		}
		v := &Version{Version: m.Version, CutID: m.CutID, AsAt: m.AsAt, Published: m.Timings.Finished, Inputs: len(m.Inputs), Rejected: m.Rejected.Count}
		for _, t := range m.Tables {
			v.Rows += t.Rows
		}
		r := row(g.mpid, g.cut)
		r.Latest, r.Versions = v, len(g.manifests)
	}
	return nil
}

// waiting lists the inbox's submissions that no run has taken (a
// submission with a receipt was taken: its folder is only kept raw, or not
// removed yet).
func waiting(ctx context.Context, st store.Store, scope Scope, row func(mpid, cutType string) *Row, now time.Time) error {
	scan := func() ([]*cut.Pending, []cut.Ignored, error) { return cut.ScanInbox(ctx, st, nil) }
	if len(scope.MPIDs) > 0 {
		scan = func() ([]*cut.Pending, []cut.Ignored, error) { return cut.ScanInboxOf(ctx, st, scope.MPIDs) }
	}
	pending, _, err := scan()
	if err != nil {
		return err
	}
	for _, p := range pending {
		if p.ID != "" {
			_, err := st.Stat(ctx, cut.ReceiptKey(p.Cut, p.MPID, p.ID))
			if err == nil {
				continue
			}
			if !store.IsNotFound(err) {
				return err
			}
		}
		r := row(p.MPID, p.Cut)
		r.Waiting = append(r.Waiting, Waiting{Submission: p.ID, Files: len(p.Files), Since: p.Since,
			AgeSeconds: max(0, int64(now.Sub(p.Since)/time.Second)), Reason: p.Waiting})
	}
	return nil
}

// interval says a refresh interval in days when it is whole days.
func interval(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
