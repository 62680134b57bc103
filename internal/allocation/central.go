package allocation

import (
	"github.com/mhhs-sit/datacut/internal/plan"
)

// Central roles (pipelines/roles.yaml central: true, the EES) have no
// appointee: each participant of one onboarded in an environment loads
// every MPAN allocated to the environment. The solver never sees them (no
// eligibility effect, no stand-ins), allocation.parquet has no column for
// them, and their packs hold, of the cuts the plan gives them, the rows of
// every MPAN of the environment.

// centralLoaders calls fn with each central role's participants that load
// an MPAN allocated to environment e: all of them.
func centralLoaders(e *plan.Environment, fn func(role, mpid string)) {
	for _, role := range plan.CentralRoles {
		for _, m := range e.Participants[role] {
			fn(role, m)
		}
	}
}

// centralPacks are, per environment, the packs of its central roles'
// participants (their numbers among the run's packs).
func centralPacks(p *plan.Plan, index map[string]int) map[string][]int {
	out := map[string][]int{}
	for _, e := range p.Environments {
		centralLoaders(e, func(role, m string) {
			if pi, ok := index[e.Name+"/"+role+"/"+m]; ok {
				out[e.Name] = append(out[e.Name], pi)
			}
		})
	}
	return out
}
