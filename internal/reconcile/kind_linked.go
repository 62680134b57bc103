package reconcile

import "context"

// linked: related MPANs. A record of MPAN A listing B (A primary and B
// secondary, or the reverse) needs a record of B listing A: else the
// registration service holding B's record (A's, when none holds B) must
// act. Partners listing each other must have the same Supplier: else the
// registration service holding the higher core's record must act, the
// other party being the supplier of the lower one.
var linkedKind = kind{
	name:   KindLinked,
	fields: []string{"links", "primary", "secondary", "supplier"},
	lint: func(l *linter) {
		if l.require("links", l.rule.Links != nil) {
			it := *l.rule.Links
			if it.Item != "" {
				l.fail("links", "rule %s: links names a table (its items are primary and secondary): remove item", l.rule.Name)
			}
			for _, k := range []struct{ key, ref string }{{"primary", l.rule.Primary}, {"secondary", l.rule.Secondary}} {
				if l.require(k.key, k.ref != "") {
					it.Item = k.ref
					l.item(k.key, it, true)
				}
			}
		}
		if l.rule.Supplier != nil {
			l.item("supplier", *l.rule.Supplier, true)
		}
	},
	check: func(ctx context.Context, e *engine, r *Rule) error {
		prim, sec, sup, err := e.linkedColumns(ctx, r)
		if err != nil {
			return err
		}
		partner := func(i int) (uint64, bool) { return linkPartner(prim, sec, i) }
		var supAt *finder
		if sup != nil {
			supAt = sup.finder()
		}
		for i := 0; i < prim.Len(); i++ {
			a := prim.cores[i]
			b, ok := partner(i)
			if !ok {
				continue
			}
			lo, hi, back := linksBack(prim, sec, b, a)
			if !back {
				var f Finding
				if lo < hi {
					f = e.finding(r, b, int(prim.src[lo]), prim, lo)
				} else {
					f = e.finding(r, b, int(prim.src[i]), prim, i)
				}
				e.other(&f, int(prim.src[i]))
				e.out = append(e.out, f)
				continue
			}
			if sup == nil || a > b {
				continue
			}
			la, ha := supAt.rows(a)
			lb, hb := sup.rows(b)
			if la == ha || lb == hb || sup.val[la] == 0 || sup.val[lb] == 0 || sup.val[la] == sup.val[lb] {
				continue
			}
			f := e.finding(r, b, int(sup.src[lb]), sup, lb)
			f.OtherRole, f.OtherMPID = "X", e.value(sup.val[la])
			if e.clear(r.Supplier.Item) || r.Supplier.Item == ItemRecipient {
				f.Value, f.OtherValue = e.value(sup.val[lb]), e.value(sup.val[la])
			} else {
				f.Value = Differs
			}
			e.out = append(e.out, f)
		}
		return nil
	},
}

// linkedColumns are a linked rule's statements: primary and secondary (one
// table read twice: their rows align) and supplier (nil if none).
func (e *engine) linkedColumns(ctx context.Context, r *Rule) (prim, sec, sup *column, err error) {
	if prim, err = e.column(ctx, Item{Cut: r.Links.Cut, Table: r.Links.Table, Item: r.Primary}); err != nil {
		return nil, nil, nil, err
	}
	if sec, err = e.column(ctx, Item{Cut: r.Links.Cut, Table: r.Links.Table, Item: r.Secondary}); err != nil {
		return nil, nil, nil, err
	}
	if r.Supplier != nil {
		if sup, err = e.column(ctx, *r.Supplier); err != nil {
			return nil, nil, nil, err
		}
	}
	return prim, sec, sup, nil
}

// linksBack finds b's rows in prim, [lo, hi), and says whether one of them
// names a as its partner.
func linksBack(prim, sec *column, b, a uint64) (lo, hi int, back bool) {
	lo, hi = prim.rows(b)
	for j := lo; j < hi && !back; j++ {
		q, ok := linkPartner(prim, sec, j)
		back = ok && q == a
	}
	return lo, hi, back
}

// linkPartner is the MPAN row i of a links table lists with its own, if
// it lists another.
func linkPartner(prim, sec *column, i int) (uint64, bool) {
	a, p, s := prim.cores[i]+1, prim.val[i], sec.val[i]
	switch {
	case p == 0 || s == 0 || p == s:
		return 0, false
	case p == a:
		return s - 1, true
	case s == a:
		return p - 1, true
	}
	return 0, false
}
