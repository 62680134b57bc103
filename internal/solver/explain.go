package solver

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/universe"
)

func unitsAre(n int) string {
	if n == 1 {
		return "unit is"
	}
	return "units are"
}

func uintStr(n uint64) string { return strconv.FormatUint(n, 10) }

// explain says, for every ask that fell short, why.
func (s *solver) explain() {
	for i, a := range s.asks {
		spare := 0
		for _, c := range s.askClass[i] {
			spare += s.supply[c]
		}
		held := 0
		for _, n := range a.Stats.HeldUnits {
			held += n
		}
		for _, n := range a.Stats.ExcludedUnits {
			held += n
		}
		a.Stats.ElsewhereUnits = max(0, a.Stats.EligibleUnits-held-a.Got()-spare)
		if a.Got() >= a.Count {
			continue
		}
		a.Why = s.why(a)
	}
}

func (s *solver) why(a *Ask) string {
	who := "in " + a.Env.Name
	if len(a.Target) > 0 {
		var t []string
		for _, r := range plan.Roles {
			if m := a.Target[r]; m != "" {
				t = append(t, r+" "+m)
			}
		}
		who += " for " + strings.Join(t, ", ")
	}
	st := a.Stats
	if st.MatchingMPANs == 0 {
		return fmt.Sprintf("no MPAN in the universe matches %s", a.FilterText())
	}
	parts := []string{fmt.Sprintf("%d MPANs match %s; of them, only %d %s eligible with every party onboarded %s", st.MatchingMPANs, a.FilterText(), st.EligibleUnits, unitsAre(st.EligibleUnits), who)}
	roles := make([]string, 0, len(st.BlockedMPANs))
	for r := range st.BlockedMPANs {
		roles = append(roles, r)
	}
	sort.Slice(roles, func(i, j int) bool {
		if st.BlockedMPANs[roles[i]] != st.BlockedMPANs[roles[j]] {
			return st.BlockedMPANs[roles[i]] > st.BlockedMPANs[roles[j]]
		}
		return roles[i] < roles[j]
	})
	for _, r := range roles {
		reason := "is not onboarded and the policy does not re-appoint " + r
		switch {
		case r == "distributor":
			reason = "is not onboarded (a distributor cannot be re-appointed)"
		case a.Target[r] != "" && s.p.MayReappoint(r):
			reason = "is another onboarded " + r + " than " + a.Target[r] + " (only absent participants' MPANs are re-appointed)"
		case a.Target[r] != "":
			reason = "is not " + a.Target[r] + " and the policy does not re-appoint " + r
		case len(a.Env.Participants[r]) == 0:
			reason = "has no onboarded participant to stand in"
		}
		parts = append(parts, fmt.Sprintf("%d more MPANs match but their %s %s", st.BlockedMPANs[r], r, reason))
	}
	roles = roles[:0]
	for r := range st.NoDataMPANs {
		roles = append(roles, r)
	}
	sort.Slice(roles, func(i, j int) bool {
		if st.NoDataMPANs[roles[i]] != st.NoDataMPANs[roles[j]] {
			return st.NoDataMPANs[roles[i]] > st.NoDataMPANs[roles[j]]
		}
		return roles[i] < roles[j]
	})
	for _, r := range roles {
		parts = append(parts, fmt.Sprintf("%d more MPANs match but the %s's pack would hold none of their data (%s; policy.allow_missing_data is off)", st.NoDataMPANs[r], r, s.packText(r)))
	}
	for _, rule := range slices.Sorted(maps.Keys(st.ExcludedUnits)) {
		parts = append(parts, fmt.Sprintf("%d eligible %s excluded for findings of reconciliation rule %s (policy.exclude_findings)", st.ExcludedUnits[rule], unitsAre(st.ExcludedUnits[rule]), rule))
	}
	for _, other := range slices.Sorted(maps.Keys(st.HeldUnits)) {
		parts = append(parts, fmt.Sprintf("%d eligible %s held by plan %s's latest run (policy.share lets a plan take them)", st.HeldUnits[other], unitsAre(st.HeldUnits[other]), other))
	}
	if st.ElsewhereUnits > 0 {
		parts = append(parts, fmt.Sprintf("%d eligible units went to other demands (max-min fairness)", st.ElsewhereUnits))
	}
	return strings.Join(parts, "; ")
}

// packText names the data sets role's pack holds, e.g. "it carries
// mop-mtd D0149/D0150/D0268".
func (s *solver) packText(role string) string {
	flows := map[string][]string{}
	var cuts []string
	for _, d := range s.u.DataSets {
		if !s.p.Receives(role, plan.DataSet{Cut: d.Cut, Flow: d.Flow}) {
			continue
		}
		if _, seen := flows[d.Cut]; !seen {
			cuts = append(cuts, d.Cut)
		}
		if d.Flow != "" {
			flows[d.Cut] = append(flows[d.Cut], d.Flow)
		} else {
			flows[d.Cut] = flows[d.Cut][:0:0]
		}
	}
	sort.Strings(cuts)
	out := make([]string, len(cuts))
	for i, c := range cuts {
		out[i] = c
		if f := flows[c]; len(f) > 0 {
			sort.Strings(f)
			out[i] += " " + strings.Join(f, "/")
		}
	}
	return "it carries " + strings.Join(out, ", ")
}

// reappointMaps chooses, per environment and re-appointable role, the
// onboarded participant that stands in for each absent real appointee, by
// rendezvous hashing: stable when participants are added (only the real
// appointees that now prefer the newcomer move) and spread evenly.
func reappointMaps(p *plan.Plan, u *universe.Universe) map[string]map[string]map[string]string {
	out := map[string]map[string]map[string]string{}
	for _, e := range p.Environments {
		out[e.Name] = map[string]map[string]string{}
		for _, role := range plan.Roles {
			on := e.Participants[role]
			if !p.MayReappoint(role) || len(on) == 0 {
				continue
			}
			m := map[string]string{}
			for pid := range u.Profiles.Len() {
				pr := u.Profiles.At(uint32(pid))
				real := pr[roleAttr[role]]
				if _, done := m[real]; done || real == "" {
					continue // no appointee (an unmetered supply's MOp): nobody stands in
				}
				if ok, _ := e.Onboarded(role, real); ok {
					continue
				}
				var best string
				var bestH uint64
				for _, cand := range on {
					if h := hash64(uintStr(p.Seed), e.Name, role, real, cand); best == "" || h > bestH {
						best, bestH = cand, h
					}
				}
				m[real] = best
			}
			out[e.Name][role] = m
		}
	}
	return out
}

// Appointees are the participants that load an MPAN in its environment:
// the real ones, or their stand-ins; reappointed says whether any changed.
// pid is the MPAN's profile.
func (r *Result) Appointees(g Given, pid uint32) (appointed map[string]string, reappointed bool) {
	a := r.Asks[g.Ask]
	pr := r.Universe.Profiles.At(pid)
	appointed = map[string]string{}
	for _, role := range plan.Roles {
		real := pr[roleAttr[role]]
		appointed[role] = real
		ok, required := a.Env.Onboarded(role, real)
		if !required || ok || real == "" {
			continue
		}
		if t := a.Target[role]; t != "" {
			appointed[role] = t
		} else if t := r.Reappoint[a.Env.Name][role][real]; t != "" {
			appointed[role] = t
		}
		reappointed = reappointed || appointed[role] != real
	}
	return appointed, reappointed
}
