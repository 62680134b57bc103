package reconcile

import (
	"context"
	"fmt"
)

// customer-missing: an MPAN of a participant's Portfolio rows where When
// holds (domestic premises) without a record in the same participant's
// Customer table, when it sent a cut of Customer's type. The finding
// points at its portfolio row.
var customerKind = kind{
	name:   KindCustomerMissing,
	fields: []string{"when", "customer"},
	lint: func(l *linter) {
		if l.require("when", l.rule.When != nil) {
			l.filter("when", l.rule.When)
		}
		if l.require("customer", l.rule.Customer != nil) {
			l.item("customer", *l.rule.Customer, false)
		}
	},
	check: func(ctx context.Context, e *engine, r *Rule) error {
		if !e.clear(r.When.Item.Item) {
			return fmt.Errorf("when item %s is masked by the DPIA rules: it must be kept in clear", r.When.Item.Item)
		}
		when, err := e.column(ctx, r.When.Item)
		if err != nil {
			return err
		}
		cust, err := e.column(ctx, *r.Customer)
		if err != nil {
			return err
		}
		whenIn, self, custAt := valueSet(r.When.In), when.finder(), cust.finder()
		for i := 0; i < when.Len(); i++ {
			core, si := when.cores[i], int(when.src[i])
			if i > 0 && when.cores[i-1] == core && int(when.src[i-1]) == si {
				continue // another row (meter) of the MPAN
			}
			if !matches(self, core, whenIn) {
				continue
			}
			holder := e.sourceOf(r.Customer.Cut, e.sources[si].MPID)
			if holder < 0 || custAt.has(core, func(s uint16) bool { return int(s) == holder }) {
				continue
			}
			f := e.finding(r, core, si, when, i)
			e.out = append(e.out, f)
		}
		return nil
	},
}
