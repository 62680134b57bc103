// Package solver is the allocation model: it expands a plan's demands into
// asks, decides which units of the MPAN universe are eligible for each, and
// assigns them by max-min fair max-flow: disjoint, maximal, fair when supply
// is scarce, stable against a ledger of earlier assignments, and explained
// where it falls short. It touches no store; internal/allocation runs it end
// to end and writes the outputs.
package solver

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// Ask is one demand expanded per participant and attribute value: Count
// units for one environment, matching Filter, appointed to Target.
type Ask struct {
	Key    string // env/demand[/per=value,...]: stable across runs
	Env    *plan.Environment
	Demand *plan.Demand
	Count  int
	Per    map[string]string // the per keys' values
	// filter: for each attribute index, the accepted values (nil: any).
	filter [universe.NumAttrs]map[string]bool
	linked *bool
	has    []string // data every matching MPAN must have (plan.HasData)
	// Target is the participant a per-role ask serves, by role.
	Target map[string]string

	// Outcome.
	Pinned, Filled int
	// Synthetic counts the synthetic units (policy.top_up) the ask holds:
	// kept from the ledger before the allocation, then created for what
	// the universe could not fill (internal/allocation adds those).
	Synthetic int
	Why       string
	Stats     AskStats
}

// AskStats explain an outcome.
type AskStats struct {
	MatchingMPANs int            `json:"matchingMpans"` // match the filter, any parties
	EligibleUnits int            `json:"eligibleUnits"` // match, with their parties onboarded or re-appointable
	BlockedMPANs  map[string]int `json:"blockedMpans"`  // match, but this role's appointee cannot load it
	// NoDataMPANs: match, and the parties are onboarded, but this role's
	// pack would hold none of the MPAN's data.
	NoDataMPANs    map[string]int `json:"noDataMpans,omitempty"`
	ElsewhereUnits int            `json:"elsewhereUnits"` // eligible, given to other demands
	// HeldUnits: eligible, but held by another plan's latest run (by plan).
	HeldUnits map[string]int `json:"heldByOtherPlans,omitempty"`
	// ExcludedUnits: eligible, but excluded by the plan's
	// policy.exclude_findings, by the rule it was excluded for.
	ExcludedUnits map[string]int `json:"excludedForFindings,omitempty"`
}

// Got is the number of units the ask holds.
func (a *Ask) Got() int { return a.Pinned + a.Filled + a.Synthetic }

// Expand turns the plan's demands into asks, in plan order.
func Expand(p *plan.Plan) []*Ask {
	var out []*Ask
	for _, e := range p.Environments {
		for _, d := range e.Demands {
			combos := []map[string]string{{}}
			for _, k := range d.Per {
				var vals []string
				switch {
				case isRole(k):
					vals = e.Participants[k]
				case len(d.Filter[k]) > 0:
					vals = d.Filter[k]
				default:
					vals = plan.Attributes[k]
				}
				var next []map[string]string
				for _, c := range combos {
					for _, v := range vals {
						m := map[string]string{k: v}
						for ck, cv := range c {
							m[ck] = cv
						}
						next = append(next, m)
					}
				}
				combos = next
			}
			for _, c := range combos {
				out = append(out, newAsk(e, d, c))
			}
		}
	}
	return out
}

func isRole(k string) bool {
	for _, r := range plan.Roles {
		if r == k {
			return true
		}
	}
	return false
}

func newAsk(e *plan.Environment, d *plan.Demand, per map[string]string) *Ask {
	a := &Ask{Env: e, Demand: d, Count: d.Count, Per: per, Target: map[string]string{}}
	key := e.Name + "/" + d.Name
	if len(d.Per) > 0 {
		var parts []string
		for _, k := range d.Per {
			parts = append(parts, k+"="+per[k])
		}
		key += "/" + strings.Join(parts, ",")
	}
	a.Key = key
	set := func(attr string, vals []string) {
		if attr == "linked" {
			b := vals[0] == "true"
			if len(vals) == 1 {
				a.linked = &b
			}
			return
		}
		if attr == "has" {
			a.has = append([]string(nil), vals...)
			sort.Strings(a.has)
			return
		}
		i := universe.AttrIndex(attr)
		m := map[string]bool{}
		for _, v := range vals {
			m[v] = true
		}
		a.filter[i] = m
	}
	for attr, vals := range d.Filter {
		set(attr, vals)
	}
	for k, v := range per {
		if isRole(k) && k != "distributor" {
			a.Target[k] = v
			continue
		}
		set(k, []string{v}) // attributes, and distributors (fixed by the MPAN)
	}
	return a
}

// accepts reports whether the filter takes value v of attribute attr.
func (a *Ask) accepts(attr int, v string) bool {
	return a.filter[attr] == nil || a.filter[attr][v]
}

// FilterText renders the filter for people.
func (a *Ask) FilterText() string {
	var parts []string
	for i, m := range a.filter {
		if m == nil {
			continue
		}
		var vs []string
		for v := range m {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		parts = append(parts, universe.AttrNames[i]+"="+strings.Join(vs, "|"))
	}
	if a.linked != nil {
		parts = append(parts, fmt.Sprintf("linked=%v", *a.linked))
	}
	if len(a.has) > 0 {
		parts = append(parts, "has="+strings.Join(a.has, "+"))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "any MPAN"
	}
	return strings.Join(parts, ", ")
}

// roleAttr is the profile attribute holding a role's appointee, as
// pipelines/roles.yaml names it (plan.Appointees; -1: the universe has no
// such attribute, which a test guards). Central roles have none.
var roleAttr = func() map[string]int {
	out := map[string]int{}
	for _, role := range plan.Roles {
		out[role] = universe.AttrIndex(plan.Appointees[role])
	}
	return out
}()

// loads reports whether the environment's role can load an MPAN whose real
// appointee is real, for this ask: the role is not required, or the MPAN
// has no appointee in it (an unmetered supply has no MOp: no participant of
// the role loads it, unless the ask serves one), or the appointee is
// onboarded (and is the ask's target participant, if any), or the plan lets
// another onboarded participant stand in for it.
func (a *Ask) loads(p *plan.Plan, role, real string) bool {
	if real == "" {
		return a.Target[role] == ""
	}
	onboarded, required := a.Env.Onboarded(role, real)
	if !required {
		return true
	}
	may := p.MayReappoint(role) && role != "distributor"
	if t := a.Target[role]; t != "" {
		return real == t || (!onboarded && may)
	}
	return onboarded || may
}

func hash64(parts ...string) uint64 {
	h := fnv.New64a()
	for _, s := range parts {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum64()
}
