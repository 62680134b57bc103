package allocation

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/internal/topup"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// topUpKept counts, per ask, the synthetic units the plan's latest run
// holds (none of its released environments): the run keeps them before it
// allocates, like the ledger's other units. Nil when the plan does not top
// up or has no run; a run from before the synthetic column holds none.
func topUpKept(ctx context.Context, st store.Store, p *plan.Plan, state cut.LedgerState, mem memory.Allocator) (map[string]int, error) {
	if _, on := topup.LimitsOf(p); !on || state.RunID == "" {
		return nil, nil
	}
	key := cut.RunPrefix(p.Name, state.RunID) + cut.AllocationFile
	r, err := cut.OpenTable(ctx, st, key, mem, pqarrow.ArrowReadProperties{})
	if err != nil {
		return nil, fmt.Errorf("reading the ledger %s: %w", key, err)
	}
	defer r.Close()
	cols, err := r.Columns("unit_id", "ask", "environment", "synthetic")
	if err != nil {
		return nil, nil // a run before top-up: nothing synthetic
	}
	tbl, err := r.Read(ctx, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the ledger %s: %w", key, err)
	}
	defer tbl.Release()
	units := map[string]string{} // synthetic unit → ask
	us, as, es, ss := tbl.Column(cols[0]).Data().Chunks(), tbl.Column(cols[1]).Data().Chunks(), tbl.Column(cols[2]).Data().Chunks(), tbl.Column(cols[3]).Data().Chunks()
	for c := range us {
		u, a, e, s := us[c].(*array.String), as[c].(*array.String), es[c].(*array.String), ss[c].(*array.Boolean)
		for i := 0; i < u.Len(); i++ {
			if s.Value(i) && !slices.Contains(state.Released, e.Value(i)) {
				units[u.Value(i)] = a.Value(i)
			}
		}
	}
	out := map[string]int{}
	for _, ask := range units {
		out[ask]++
	}
	return out, nil
}

// topUp fills the short asks of res with synthetic units when the plan's
// policy says so, and returns their rows, ask by ask (after the real
// units' rows). A synthetic core is valid and in use nowhere: not in the
// universe, not held by another plan's latest run.
func topUp(res *solver.Result, held solver.Held) ([]Row, []*synth.Point) {
	limits, on := topup.LimitsOf(res.Plan)
	if !on {
		return nil, nil
	}
	u := res.Universe
	heldCores := map[uint64]bool{}
	for lead := range held {
		if c, ok := universe.ParseCore(lead); ok {
			heldCores[c] = true
		}
	}
	taken := func(c uint64) bool {
		if _, found := u.Find(c); found {
			return true
		}
		return heldCores[c]
	}
	units := topup.Fill(res, limits, taken, importOK(res, held))
	sort.SliceStable(units, func(i, j int) bool { return units[i].Ask < units[j].Ask })
	rows := make([]Row, 0, len(units))
	profiles := newSharedProfiles()
	points := make([]*synth.Point, 0, len(units))
	for i := range units {
		un := &units[i]
		a := res.Asks[un.Ask]
		pr := un.Profile // its appointees are its own
		var data uint16
		has := topup.DataSets(res.Plan, un.Point)
		for b, ds := range u.DataSets {
			if slices.Contains(has, plan.DataSet{Cut: ds.Cut, Flow: ds.Flow}) {
				data |= 1 << b
			}
		}
		unit, linked := un.Core(), un.Import >= 0
		if linked {
			imp := u.CoreString(un.Import)
			unit = min(imp, un.Core())
			im := u.At(un.Import)
			ipr := profiles.of(u, im.Profile)
			rows = append(rows, Row{MPAN: imp, Unit: unit, Linked: true, Env: a.Env.Name, Demand: a.Demand.Name, Ask: a.Key,
				Appointed: ipr, Kept: un.Kept, Profile: ipr, Data: im.Data, NewExport: un.Core()})
		}
		rows = append(rows, Row{MPAN: un.Core(), Unit: unit, Linked: linked, Env: a.Env.Name, Demand: a.Demand.Name, Ask: a.Key,
			Appointed: &pr, Kept: un.Kept, Profile: &pr, Data: data, Synthetic: true})
		points = append(points, un.Point)
	}
	return rows, points
}

// importOK says which real MPANs a linked ask may link a new export MPAN
// to: a single MPAN no ask of this run was given and no other plan holds,
// whose every appointee the environment onboards (the ask's target, for a
// per-role ask; no re-appointment), whose data every role's pack holds
// (unless the plan allows missing data) and that has the data the ask's
// has filter names.
func importOK(res *solver.Result, held solver.Held) func(a *solver.Ask, m int32) bool {
	u, p := res.Universe, res.Plan
	given := map[int32]bool{}
	for _, g := range res.Given {
		given[g.Unit] = true
	}
	roleData := RoleData(p, u)
	return func(a *solver.Ask, m int32) bool {
		if given[u.UnitOf(m)] {
			return false
		}
		if _, h := held[u.CoreString(m)]; h && !p.Policy.Share {
			return false
		}
		mp := u.At(m)
		pr, data := u.Profiles.At(mp.Profile), mp.Data
		for _, role := range plan.Roles {
			if !a.Loads(role, pr[universe.AttrIndex(role)]) {
				return false
			}
			if _, required := a.Env.Participants[role]; required && !p.Policy.AllowMissingData && roleData[role] != 0 && data&roleData[role] == 0 {
				return false
			}
		}
		for _, h := range a.Has() {
			if data&u.DataMask(func(d universe.DataSet) bool { return d.Universe == plan.HasData[h] }) == 0 {
				return false
			}
		}
		return true
	}
}

// FilledText is the units filled, with how many of them are synthetic.
func (d DemandReport) FilledText() string {
	if d.Synthetic == 0 {
		return strconv.Itoa(d.Filled)
	}
	return fmt.Sprintf("%d (%d synthetic)", d.Filled, d.Synthetic)
}
