package topup

import (
	"slices"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/synth"
)

// DataSets are the data sets of the plan's source cut types that hold a
// synthetic point's records, as the universe would record them: every
// point is in the EES cut and has a registration record (D0204) and
// customer details (D0302; D0225 with priority services); a traditional
// or smart meter has D0150 and D0149, an advanced one D0268, an unmetered
// supply none.
func DataSets(p *plan.Plan, pt *synth.Point) []plan.DataSet {
	var out []plan.DataSet
	for _, t := range p.Sources.Types {
		if len(t.Input.Flows) == 0 {
			if t.Universe == cut.UniverseAttributes {
				out = append(out, plan.DataSet{Cut: t.Name})
			}
			continue
		}
		for _, f := range t.Input.Flows {
			if Holds(pt, f) {
				out = append(out, plan.DataSet{Cut: t.Name, Flow: f})
			}
		}
	}
	return out
}

// Holds reports whether the generator writes records of flow for the
// point.
func Holds(pt *synth.Point, flow string) bool {
	switch flow {
	case "D0204", "D0302":
		return true
	case "D0225":
		return pt.PSR
	case "D0150", "D0149":
		return pt.Meter == synth.Traditional || pt.Meter == synth.Smart
	case "D0268":
		return pt.Meter == synth.Advanced
	}
	return false
}

// packsHold says what keeps the point from the ask, "" if nothing: the
// data the ask's has filter names, or a role the environment requires
// whose pack would hold none of the point's data (unless the plan allows
// missing data), of the roles the point has an appointee of.
func packsHold(p *plan.Plan, env *plan.Environment, has []string, data []plan.DataSet, noAppointee func(role string) bool) string {
	kinds := map[string]bool{}
	for _, d := range data {
		if t := p.Sources.Types; t != nil {
			for _, ct := range t {
				if ct.Name == d.Cut {
					kinds[ct.Universe] = true
				}
			}
		}
	}
	for _, h := range has {
		if !kinds[plan.HasData[h]] {
			return "they have no " + h + " data"
		}
	}
	if p.Policy.AllowMissingData {
		return ""
	}
	for _, role := range plan.Roles {
		if _, required := env.Participants[role]; !required || noAppointee(role) {
			continue
		}
		if len(p.Packs[role]) == 0 || !receivesAny(p, role) {
			continue // a role whose pack holds no source data is not asked
		}
		if !slices.ContainsFunc(data, func(d plan.DataSet) bool { return p.Receives(role, d) }) {
			return "the " + role + "'s pack would hold none of their data (policy.allow_missing_data is off)"
		}
	}
	return ""
}

// receivesAny reports whether role's pack carries any data set of the
// sources at all.
func receivesAny(p *plan.Plan, role string) bool {
	for _, t := range p.Sources.Types {
		if len(t.Input.Flows) == 0 && p.Receives(role, plan.DataSet{Cut: t.Name}) {
			return true
		}
		for _, f := range t.Input.Flows {
			if p.Receives(role, plan.DataSet{Cut: t.Name, Flow: f}) {
				return true
			}
		}
	}
	return false
}
