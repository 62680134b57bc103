package solver

// keepSynthetic counts the ledger's synthetic units as held by their asks,
// after the ledger's real units and never beyond the ask's count.
func keepSynthetic(asks []*Ask, synthetic map[string]int) {
	for _, a := range asks {
		if n := synthetic[a.Key]; n > 0 {
			a.Synthetic = min(n, max(0, a.Count-a.Pinned))
		}
	}
}

// Accepts reports whether the ask's filter (and per values) takes value v
// of attribute attr (a universe attribute index).
func (a *Ask) Accepts(attr int, v string) bool { return a.accepts(attr, v) }

// Linked is the ask's linked filter: nil when it takes single and linked
// units alike.
func (a *Ask) Linked() *bool { return a.linked }

// Has lists the data every matching MPAN must have (plan.HasData keys).
func (a *Ask) Has() []string { return a.has }

// Loads reports whether the environment's role can load an MPAN whose
// appointee for it is mpid, for this ask (see loads): onboarded and, for a
// per-role ask, its target.
func (a *Ask) Loads(role, mpid string) bool {
	onboarded, required := a.Env.Onboarded(role, mpid)
	if !required {
		return true
	}
	if t := a.Target[role]; t != "" {
		return mpid == t
	}
	return onboarded
}
