package reconcile

import "context"

// compare: the authority's statement of an attribute against others'. A
// statement of an MPAN the authority states, whose value is not among the
// authority's values for it, is a finding for the participant that made
// it; the other party is the authority.
var compareKind = kind{
	name:   KindCompare,
	fields: []string{"authority", "others"},
	lint: func(l *linter) {
		if l.require("authority", l.rule.Authority != nil) {
			l.item("authority", *l.rule.Authority, true)
		}
		if l.require("others", len(l.rule.Others) > 0) {
			for _, o := range l.rule.Others {
				l.item("others", o, true)
			}
		}
	},
	check: func(ctx context.Context, e *engine, r *Rule) error {
		auth, err := e.column(ctx, *r.Authority)
		if err != nil {
			return err
		}
		shown := e.clear(r.Authority.Item) || r.Authority.Item == ItemRecipient
		for _, o := range r.Others {
			c, err := e.column(ctx, o)
			if err != nil {
				return err
			}
			clear := shown && (e.clear(o.Item) || o.Item == ItemRecipient)
			at := auth.finder()
			for i := 0; i < c.Len(); i++ {
				lo, hi := at.rows(c.cores[i])
				for lo < hi && auth.val[lo] == 0 {
					lo++ // empty: not stated (a cut published before its manifest named D0204's recipient)
				}
				if lo == hi {
					continue // the authority does not state it: other rules say so
				}
				agrees := false
				for j := lo; j < hi && !agrees; j++ {
					agrees = auth.val[j] == c.val[i]
				}
				if agrees {
					continue
				}
				f := e.finding(r, c.cores[i], int(c.src[i]), c, i)
				e.other(&f, int(auth.src[lo]))
				if clear {
					f.Value, f.OtherValue = e.value(c.val[i]), e.value(auth.val[lo])
				} else {
					f.Value = Differs
				}
				e.out = append(e.out, f)
			}
		}
		return nil
	},
}
