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
	Reappointed      bool
	Kept             bool // kept from the ledger
	// Profile is a copy of the MPAN's universe profile, its real appointees
	// among its attributes; Appointed is the same with the stand-ins the run
	// gave it in their place (Profile itself when it has none). Both are
	// shared by the rows alike (sharedProfiles): the rows outlive the
	// universe, whose profile table grows with the market.
	Profile, Appointed *universe.Profile
	Data               uint16 // the data sets holding the MPAN (universe.Data)
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
	profiles := newSharedProfiles()
	for _, g := range res.Given {
		a := res.Asks[g.Ask]
		members := u.UnitRows(int(g.Unit))
		unitID := universe.FormatCore(members[0].Core)
		for _, mp := range members {
			pr := profiles.of(u, mp.Profile)
			appointed, re := res.Appointees(g, mp.Profile)
			out = append(out, Row{MPAN: universe.FormatCore(mp.Core), Unit: unitID, Linked: len(members) > 1, Env: a.Env.Name,
				Demand: a.Demand.Name, Ask: a.Key, Appointed: profiles.appointed(pr, appointed), Reappointed: re, Kept: g.Pinned,
				Profile: pr, Data: mp.Data})
		}
	}
	return out
}

// Appointee is who loads the MPAN for role in its environment: its real
// appointee or the stand-in the run gave it ("" for a central role, which
// has no appointee an MPAN).
func (r *Row) Appointee(role string) string { return appointee(r.Appointed, role) }

// RealAppointee is the MPAN's appointee for role in the cuts.
func (r *Row) RealAppointee(role string) string { return appointee(r.Profile, role) }

func appointee(p *universe.Profile, role string) string {
	if a := universe.AttrIndex(role); a >= 0 {
		return p[a]
	}
	return ""
}

// sharedProfiles hands out the rows' profiles, one copy a value: the
// universe's by number, and those with stand-ins.
type sharedProfiles struct {
	byID    map[uint32]*universe.Profile
	byValue map[universe.Profile]*universe.Profile
}

func newSharedProfiles() *sharedProfiles {
	return &sharedProfiles{byID: map[uint32]*universe.Profile{}, byValue: map[universe.Profile]*universe.Profile{}}
}

func (s *sharedProfiles) of(u *universe.Universe, id uint32) *universe.Profile {
	p, ok := s.byID[id]
	if !ok {
		p = s.intern(u.Profiles.At(id))
		s.byID[id] = p
	}
	return p
}

func (s *sharedProfiles) intern(pr universe.Profile) *universe.Profile {
	p, ok := s.byValue[pr]
	if !ok {
		p = &pr
		s.byValue[pr] = p
	}
	return p
}

// appointed is pr with appointees (by role) in place of its own: pr
// itself when they are its own.
func (s *sharedProfiles) appointed(pr *universe.Profile, appointees map[string]string) *universe.Profile {
	ap := *pr
	for role, m := range appointees {
		ap[universe.AttrIndex(role)] = m
	}
	if ap == *pr {
		return pr
	}
	return s.intern(ap)
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
			str(r.Appointee(role))
		}
		boolean(r.Reappointed)
		boolean(r.Kept)
		for _, role := range plan.Roles {
			if role != "distributor" {
				str(r.RealAppointee(role))
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
