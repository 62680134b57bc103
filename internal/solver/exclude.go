package solver

// Excluded are the units a plan's policy.exclude_findings keeps out of
// supply: unit index → the rule it is excluded for (the first the policy
// lists of which one of its MPANs has a finding).
type Excluded map[int32]string

// excluded is the class of an excluded unit (classes below 0 serve no
// ask; see reserved).
const excluded = -3

// exclude takes the excluded units out of supply before anything else (a
// ledger's earlier assignment of one is not kept; another plan's hold of
// one does not matter): they still count as eligible, and an ask short of
// them says how many each rule excluded.
func (s *solver) exclude(ex Excluded) {
	for unit, rule := range ex {
		c := s.classOf(unit)
		if c < 0 {
			continue
		}
		s.classSize[c]--
		s.setClass(unit, excluded)
		for _, ai := range s.classAsks[c] {
			st := &s.asks[ai].Stats
			if st.ExcludedUnits == nil {
				st.ExcludedUnits = map[string]int{}
			}
			st.ExcludedUnits[rule]++
		}
	}
}
