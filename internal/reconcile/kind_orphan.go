package reconcile

import "context"

// orphan: an MPAN one of Held's tables holds that no table of Known holds
// (no registration service knows it). The holder must act; the other
// party is the registration service of the MPAN's distributor.
var orphanKind = kind{
	name:   KindOrphan,
	fields: []string{"known", "held"},
	lint: func(l *linter) {
		if l.require("known", len(l.rule.Known) > 0) {
			for _, k := range l.rule.Known {
				l.item("known", k, false)
			}
		}
		if l.require("held", len(l.rule.Held) > 0) {
			for _, h := range l.rule.Held {
				l.item("held", h, false)
			}
		}
	},
	check: func(ctx context.Context, e *engine, r *Rule) error {
		var cols []*column
		for _, k := range r.Known {
			c, err := e.column(ctx, k)
			if err != nil {
				return err
			}
			cols = append(cols, c)
		}
		for _, h := range r.Held {
			c, err := e.column(ctx, h)
			if err != nil {
				return err
			}
			known := make([]*finder, len(cols))
			for j, k := range cols {
				known[j] = k.finder()
			}
			for i := 0; i < c.Len(); i++ {
				in := false
				for _, k := range known {
					in = in || k.has(c.cores[i], nil)
				}
				if in {
					continue
				}
				f := e.finding(r, c.cores[i], int(c.src[i]), c, i)
				f.OtherRole, f.OtherMPID = e.rules.Senders[r.Known[0].Cut], registrationOf(c.cores[i])
				e.out = append(e.out, f)
			}
		}
		return nil
	},
}
