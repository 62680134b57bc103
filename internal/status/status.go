// Package status says, per organisation, MPID and cut type, what has
// arrived and what is still owed: the programme register's expectations
// against the store's published cuts, quarantine and inbox. It reads
// manifests and listings only, never data, so nothing sensitive can reach
// a status page.
package status

import (
	"context"
	"fmt"
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
	// Latest is the latest published cut, if any.
	Latest *Version `json:"latest,omitempty"`
	// Waiting counts the inbox files no published cut holds; Quarantined
	// the files kept in quarantine, every upload.
	Waiting     int `json:"waiting"`
	Quarantined int `json:"quarantined"`

	expected *programme.Expectation // nil: the register does not ask for it
}

// Version is a published cut, as its manifest says.
type Version struct {
	CutID     string    `json:"cutId"`
	Published time.Time `json:"published"`
	Inputs    int       `json:"inputs"`
	Rows      int64     `json:"rows"`
	Rejected  int       `json:"rejected"`
}

// Build lists every expected (MPID, cut type) of the register and every
// one present in the store, in organisation, MPID and cut order; a nil
// register makes every present cut unexpected. now decides what is due.
func Build(ctx context.Context, st store.Store, reg *programme.Register, now time.Time) ([]Row, error) {
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
	published, err := latest(ctx, st, row)
	if err != nil {
		return nil, err
	}
	err = st.List(ctx, cut.InboxRoot, func(i store.Info) error {
		if f, err := cut.ParseInboxKey(i.Key); err == nil && !published[i.Key] { // kept raw with --keep-raw: not waiting
			row(f.MPID, f.Type).Waiting++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = st.List(ctx, cut.QuarantineRoot, func(i store.Info) error {
		if q, ok := cut.ParseQuarantineKey(i.Key); ok && !q.Rejected {
			row(q.MPID, q.Type).Quarantined++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
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

// state decides a row's state from what the register expects.
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
	case exp.Refresh > 0 && now.Sub(r.Latest.Published) > exp.Refresh:
		return Stale
	}
	return Received
}

// latest reads the manifest of every published cut and keeps each MPID's
// latest of each cut type; it returns the inbox keys published cuts hold.
func latest(ctx context.Context, st store.Store, row func(mpid, cutType string) *Row) (map[string]bool, error) {
	published := map[string]bool{}
	err := st.List(ctx, cut.CutsRoot, func(i store.Info) error {
		prefix, ok := cut.IsManifest(i.Key)
		if !ok {
			return nil
		}
		m, err := cut.ReadManifest(ctx, st, prefix)
		if err != nil {
			return fmt.Errorf("%s: %w", i.Key, err)
		}
		v := &Version{CutID: m.CutID, Published: m.Timings.Finished, Inputs: len(m.Inputs), Rejected: m.Rejected.Count}
		for _, t := range m.Tables {
			v.Rows += t.Rows
		}
		for _, in := range m.Inputs {
			published[in.Key] = true
		}
		r := row(m.MPID, m.Cut)
		if r.Latest == nil || v.Published.After(r.Latest.Published) {
			r.Latest = v
		}
		return nil
	})
	return published, err
}

// interval says a refresh interval in days when it is whole days.
func interval(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
