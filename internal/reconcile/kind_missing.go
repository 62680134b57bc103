package reconcile

import (
	"context"
	"fmt"
)

// missing: the participant appointed to an MPAN (Appointed's value, an
// MPID) sent a cut of HolderCut without the MPAN in any of HeldIn. A
// participant that sent no such cut has no finding (datacut status says
// what it owes). Unless excludes MPANs by another statement's value.
var missingKind = kind{
	name:   KindMissing,
	fields: []string{"appointed", "holder_cut", "held_in", "unless"},
	lint: func(l *linter) {
		if l.require("appointed", l.rule.Appointed != nil) {
			l.item("appointed", *l.rule.Appointed, true)
		}
		if l.require("holder_cut", l.rule.HolderCut != "") && l.require("held_in", len(l.rule.HeldIn) > 0) {
			for _, t := range l.rule.HeldIn {
				l.item("held_in", Item{Cut: l.rule.HolderCut, Table: t}, false)
			}
		}
		l.filter("unless", l.rule.Unless)
	},
	check: func(ctx context.Context, e *engine, r *Rule) error {
		app, err := e.column(ctx, *r.Appointed)
		if err != nil {
			return err
		}
		if !e.clear(r.Appointed.Item) && r.Appointed.Item != ItemRecipient {
			return fmt.Errorf("appointed item %s is masked by the DPIA rules: it must hold MPIDs kept in clear", r.Appointed.Item)
		}
		var held []*finder
		for _, t := range r.HeldIn {
			c, err := e.column(ctx, Item{Cut: r.HolderCut, Table: t})
			if err != nil {
				return err
			}
			held = append(held, c.finder())
		}
		var unless *finder
		var unlessIn []uint64
		if r.Unless != nil {
			c, err := e.column(ctx, r.Unless.Item)
			if err != nil {
				return err
			}
			unless, unlessIn = c.finder(), valueSet(r.Unless.In)
		}
		for i := 0; i < app.Len(); i++ {
			core := app.cores[i]
			if i > 0 && app.cores[i-1] == core && app.val[i-1] == app.val[i] {
				continue // the same appointment stated twice
			}
			holder := e.sourceOf(r.HolderCut, e.value(app.val[i]))
			if holder < 0 {
				continue
			}
			if unless != nil && matches(unless, core, unlessIn) {
				continue
			}
			found := false
			for _, c := range held {
				found = found || c.has(core, func(s uint16) bool { return int(s) == holder })
			}
			if found {
				continue
			}
			f := e.finding(r, core, holder, nil, 0)
			e.other(&f, int(app.src[i]))
			e.out = append(e.out, f)
		}
		return nil
	},
}

// matches says whether any statement of core in f's column has one of the
// values hashed in vals.
func matches(f *finder, core uint64, vals []uint64) bool {
	lo, hi := f.rows(core)
	for j := lo; j < hi; j++ {
		if inSet(f.c.val[j], vals) {
			return true
		}
	}
	return false
}
