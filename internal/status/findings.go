package status

import (
	"context"
	"slices"
	"time"

	"github.com/mhhs-sit/datacut/internal/reconcile"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Findings are an MPID's open findings about one of its cut types in the
// latest reconciliation run (datacut reconcile): counts by severity and
// where its worklist is. Counts only: a worklist's rows stay in it.
type Findings struct {
	Run      string `json:"run"`
	Errors   int    `json:"errors"`
	Warnings int    `json:"warnings"`
	Worklist string `json:"worklist,omitempty"` // store key; empty when the MPID has no findings
}

// Reconciliation is the latest reconciliation run's open findings of the
// MPIDs asked for, each read from that MPID's own worklist and no other
// file: a participant's credentials read its own worklists only.
type Reconciliation struct {
	Run     string         `json:"run"`
	Written time.Time      `json:"written"`
	MPIDs   []MPIDFindings `json:"mpids"` // in the order asked
}

// MPIDFindings are one MPID's open findings, all its cut types.
type MPIDFindings struct {
	MPID     string `json:"mpid"`
	Errors   int    `json:"errors"`
	Warnings int    `json:"warnings"`
	Worklist string `json:"worklist,omitempty"`

	byCut map[string]reconcile.Count
}

// OpenFindings reads the latest reconciliation run's worklists of mpids
// (each once): nil when no run has been written.
func OpenFindings(ctx context.Context, st store.Store, mpids []string) (*Reconciliation, error) {
	l, err := reconcile.ReadLatest(ctx, st)
	if err != nil || l == nil {
		return nil, err
	}
	rec := &Reconciliation{Run: l.ID, Written: l.Written}
	for i, m := range mpids {
		if slices.Contains(mpids[:i], m) {
			continue
		}
		byCut, err := reconcile.CountWorklist(ctx, st, l.ID, m)
		if err != nil {
			return nil, err
		}
		f := MPIDFindings{MPID: m, byCut: byCut}
		for _, c := range byCut {
			f.Errors += c.Errors
			f.Warnings += c.Warnings
		}
		if byCut != nil {
			f.Worklist = reconcile.WorklistKey(l.ID, m)
		}
		rec.MPIDs = append(rec.MPIDs, f)
	}
	return rec, nil
}

// Attach gives each row of an MPID the reconciliation read its findings
// about the row's cut type; rows of other MPIDs get none.
func (rec *Reconciliation) Attach(rows []Row) {
	for i := range rows {
		r := &rows[i]
		at := slices.IndexFunc(rec.MPIDs, func(f MPIDFindings) bool { return f.MPID == r.MPID })
		if at < 0 {
			continue
		}
		f := rec.MPIDs[at]
		c := f.byCut[r.Cut]
		r.Findings = &Findings{Run: rec.Run, Errors: c.Errors, Warnings: c.Warnings}
		if c.Errors+c.Warnings > 0 {
			r.Findings.Worklist = f.Worklist
		}
	}
}
