package plan

import (
	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/defs"
)

// validateTopUp checks policy.top_up: limits are whole numbers of units,
// not negative, and at least one of them bounds the top-up (a top-up
// without any limit is too easy to leave on by mistake).
func (p *Plan) validateTopUp(doc *defs.Doc, root *yaml.Node) {
	t := p.Policy.TopUp
	if t == nil {
		if n := value(value(root, "policy"), "top_up"); n != nil {
			doc.FailAt(nodeAt(root, "policy", "top_up"), "policy.top_up: give units (the most synthetic units of the plan), per_demand (of one demand) or both, e.g. {units: 200, per_demand: 20}")
		}
		return
	}
	if t.Units < 0 {
		doc.FailAt(nodeAt(root, "policy", "top_up", "units"), "policy.top_up.units: %d: the most synthetic units of the plan is 1 or more (0 or left out: no plan-wide limit)", t.Units)
	}
	if t.PerDemand < 0 {
		doc.FailAt(nodeAt(root, "policy", "top_up", "per_demand"), "policy.top_up.per_demand: %d: the most synthetic units of one demand is 1 or more (0 or left out: no per-demand limit)", t.PerDemand)
	}
	if t.Units == 0 && t.PerDemand == 0 {
		doc.FailAt(nodeAt(root, "policy", "top_up"), "policy.top_up: give units (the most synthetic units of the plan), per_demand (of one demand) or both, e.g. {units: 200, per_demand: 20}")
	}
}

// TopUpLimits are the plan's top-up limits: on is false when the policy
// creates no synthetic units; a limit of 0 does not bound.
func (p *Plan) TopUpLimits() (on bool, units, perDemand int) {
	if t := p.Policy.TopUp; t != nil && (t.Units > 0 || t.PerDemand > 0) {
		return true, t.Units, t.PerDemand
	}
	return false, 0, 0
}
