package allocation

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// Row is one allocated MPAN.
type Row struct {
	MPAN, Unit       string
	Linked           bool
	Env, Demand, Ask string
	Appointed, Real  map[string]string // by role
	Reappointed      bool
	Kept             bool // kept from the ledger
	// Profile is a copy of the MPAN's universe profile, shared by the rows
	// of the same profile (profileCopies): the rows outlive the universe,
	// whose profile table grows with the market.
	Profile *universe.Profile
	Data    uint16 // the data sets holding the MPAN (universe.Data)
	// Synthetic: a unit the run created (policy.top_up), in no cut.
	Synthetic bool
	// NewExport is the synthetic export MPAN the run linked to this real
	// import MPAN (policy.top_up): its D0204 related MPANs name it.
	NewExport string
}

// Rows lists every allocated MPAN, ask by ask, units by rank.
func Rows(res *solver.Result) []Row {
	u := res.Universe
	var out []Row
	profiles := profileCopies{}
	for _, g := range res.Given {
		a := res.Asks[g.Ask]
		members := u.UnitRows(int(g.Unit))
		unitID := universe.FormatCore(members[0].Core)
		for _, mp := range members {
			pr := profiles.of(u, mp.Profile)
			appointed, re := res.Appointees(g, mp.Profile)
			real := map[string]string{}
			for _, role := range plan.Roles {
				real[role] = pr[universe.AttrIndex(role)]
			}
			out = append(out, Row{MPAN: universe.FormatCore(mp.Core), Unit: unitID, Linked: len(members) > 1, Env: a.Env.Name,
				Demand: a.Demand.Name, Ask: a.Key, Appointed: appointed, Real: real, Reappointed: re, Kept: g.Pinned, Profile: pr, Data: mp.Data})
		}
	}
	return out
}

// profileCopies copies the universe's profiles the rows use, once each.
type profileCopies map[uint32]*universe.Profile

func (c profileCopies) of(u *universe.Universe, id uint32) *universe.Profile {
	p, ok := c[id]
	if !ok {
		cp := u.Profiles.At(id)
		p = &cp
		c[id] = p
	}
	return p
}

var attrCols = []string{"segment", "gsp_group", "distributor", "measurement_class", "profile_class", "energised", "domestic", "meter_type", "smets"}

func allocationSchema() *arrow.Schema {
	str := arrow.BinaryTypes.String
	fields := []arrow.Field{{Name: "mpan_core", Type: str}, {Name: "unit_id", Type: str}, {Name: "linked", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "environment", Type: str}, {Name: "demand", Type: str}, {Name: "ask", Type: str}}
	for _, r := range plan.Roles {
		fields = append(fields, arrow.Field{Name: r, Type: str})
	}
	fields = append(fields, arrow.Field{Name: "reappointed", Type: arrow.FixedWidthTypes.Boolean}, arrow.Field{Name: "kept_from_ledger", Type: arrow.FixedWidthTypes.Boolean})
	for _, r := range plan.Roles {
		if r != "distributor" {
			fields = append(fields, arrow.Field{Name: "real_" + r, Type: str})
		}
	}
	for _, a := range attrCols {
		if a != "distributor" {
			fields = append(fields, arrow.Field{Name: a, Type: str})
		}
	}
	fields = append(fields, arrow.Field{Name: "synthetic", Type: arrow.FixedWidthTypes.Boolean})
	return arrow.NewSchema(fields, nil)
}

// writeAllocation writes allocation.parquet to a spool file.
func writeAllocation(path string, rows []Row, mem memory.Allocator) error {
	schema := allocationSchema()
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, r := range rows {
		i := 0
		str := func(s string) { b.Field(i).(*array.StringBuilder).Append(s); i++ }
		boolean := func(v bool) { b.Field(i).(*array.BooleanBuilder).Append(v); i++ }
		str(r.MPAN)
		str(r.Unit)
		boolean(r.Linked)
		str(r.Env)
		str(r.Demand)
		str(r.Ask)
		for _, role := range plan.Roles {
			str(r.Appointed[role])
		}
		boolean(r.Reappointed)
		boolean(r.Kept)
		for _, role := range plan.Roles {
			if role != "distributor" {
				str(r.Real[role])
			}
		}
		for _, a := range attrCols {
			if a != "distributor" {
				str(r.Profile[universe.AttrIndex(a)])
			}
		}
		boolean(r.Synthetic)
	}
	rec := b.NewRecord()
	defer rec.Release()
	return writeParquet(path, rec)
}

// writeParquet writes records (one schema) as one Parquet file.
func writeParquet(path string, recs ...arrow.Record) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := cut.NewParquetWriter(recs[0].Schema(), f, "allocate")
	if err != nil {
		f.Close()
		return err
	}
	for _, rec := range recs {
		if err := cut.WriteRecord(w, rec); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close() // closes f
}

// readLedger loads the units and asks the plan's latest run holds (none
// of its released environments), and the ledger's state.
func readLedger(ctx context.Context, st store.Store, planName string, mem memory.Allocator) (solver.Ledger, cut.LedgerState, error) {
	state, err := cut.ReadLedgerState(ctx, st, planName)
	if err != nil || state.RunID == "" {
		return nil, state, err
	}
	l, err := readRunLedger(ctx, st, planName, state.RunID, state.Released, mem)
	return l, state, err
}

// readRunLedger reads the units a run of the plan assigned, and to which
// ask, but for those of the released environments.
func readRunLedger(ctx context.Context, st store.Store, planName, run string, released []string, mem memory.Allocator) (solver.Ledger, error) {
	key := cut.RunPrefix(planName, run) + cut.AllocationFile
	r, err := cut.OpenTable(ctx, st, key, mem, pqarrow.ArrowReadProperties{})
	if err != nil {
		return nil, fmt.Errorf("reading the ledger %s: %w", key, err)
	}
	defer r.Close()
	cols, err := r.Columns("unit_id", "ask", "environment")
	if err != nil {
		return nil, err
	}
	tbl, err := r.Read(ctx, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the ledger %s: %w", key, err)
	}
	defer tbl.Release()
	l := solver.Ledger{}
	units, asks, envs := tbl.Column(cols[0]).Data().Chunks(), tbl.Column(cols[1]).Data().Chunks(), tbl.Column(cols[2]).Data().Chunks()
	for c := range units {
		us, as, es := units[c].(*array.String), asks[c].(*array.String), envs[c].(*array.String)
		for i := 0; i < us.Len(); i++ {
			if !slices.Contains(released, es.Value(i)) {
				l[us.Value(i)] = as.Value(i)
			}
		}
	}
	return l, nil
}
