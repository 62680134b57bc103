package mask

import (
	"fmt"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// MethodConstant replaces values with one fixed value of valid format.
const MethodConstant = "constant"

var constantSpec = &methodSpec{
	name:    MethodConstant,
	summary: "a fixed value of valid format (per item `value`, else a dummy)",
	usedFor: "credentials, passwords, keys, comms addresses (192.0.2.x), health (PSR) codes",
	details: "Without a `value` the dummy is `0` for numbers, `19700101` for dates (`19700101000000`, `000000` for date-times and times), `F` for booleans, the first value of an item with a valid set, else `X`s up to the width (at most 8). A typed column (a date, a number) gets the constant parsed as its type.",
	options: []*option{{
		key:     "value",
		doc:     "the constant for this item, checked against the item's format: `J0385: {domain: comms_address, value: 192.0.2.1}`",
		perItem: true,
		get: func(_ *Domain, r *Rule) (string, bool) {
			if r.Value == nil {
				return "", false
			}
			return *r.Value, true
		},
	}},
	check: func(r *Rule, it *dflow.Item) string {
		v := constantFor(r, it)
		if rule, why := dflow.CheckValue(it, it.Format, []byte(v)); rule != "" {
			return fmt.Sprintf("constant %s (rule %s)", why, rule)
		}
		return ""
	},
	build: func(*Domain, []byte) (method, error) { return constantMethod{}, nil },
}

type constantMethod struct{ value []byte }

func (c constantMethod) mask([]byte, int) ([]byte, error) { return c.value, nil }

func (constantMethod) forItem(r *Rule, it *dflow.Item) method {
	return constantMethod{value: []byte(constantFor(r, it))}
}

// constantFor is the rule's value, or a dummy of valid format
// (dflow.Item.Dummy).
func constantFor(r *Rule, it *dflow.Item) string {
	if r.Value != nil {
		return *r.Value
	}
	return it.Dummy()
}
