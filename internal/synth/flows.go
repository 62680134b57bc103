package synth

import "github.com/mhhs-sit/datacut/internal/dflow"

// Cut names: the inbox folder and pipeline of each kind of cut.
const (
	CutMTD          = "mop-mtd"
	CutRegistration = "registration"
	CutEES          = "ees"
	CutSupplier     = "supplier-customer"
)

// unitPlan builds the records of one point's unit in a flow (nil: the point
// has no data in this flow).
type unitPlan func(b *builder, f *dflow.Flow, p *Point) []rec

// flowPlans: which records each flow holds for a point.
var flowPlans = map[string]unitPlan{
	"D0150": func(b *builder, f *dflow.Flow, p *Point) []rec {
		if !nhhMTD(p) || p.Cross == CrossMTDMissing {
			return nil
		}
		rs := []rec{b.record(f.Group("288"), p, at{}), b.record(f.Group("289"), p, at{}), b.record(f.Group("290"), p, at{})}
		for r := 1; r <= p.Registers; r++ {
			rs = append(rs, b.record(f.Group("293"), p, at{register: r}))
		}
		return rs
	},
	"D0149": func(b *builder, f *dflow.Flow, p *Point) []rec {
		if !nhhMTD(p) || p.Cross == CrossMTDMissing {
			return nil
		}
		rs := []rec{b.record(f.Group("280"), p, at{}), b.record(f.Group("281"), p, at{})}
		for r := 1; r <= p.Registers; r++ {
			rs = append(rs, b.record(f.Group("778"), p, at{register: r}), b.record(f.Group("283"), p, at{register: r}),
				b.record(f.Group("284"), p, at{register: r}))
		}
		return rs
	},
	"D0268": func(b *builder, f *dflow.Flow, p *Point) []rec {
		if p.Meter != Advanced || p.Cross == CrossMTDMissing {
			return nil
		}
		rs := []rec{b.record(f.Group("01A"), p, at{}), b.record(f.Group("02A"), p, at{}), b.record(f.Group("03A"), p, at{})}
		for r := 1; r <= p.Registers; r++ {
			rs = append(rs, b.record(f.Group("04A"), p, at{register: r}))
		}
		return rs
	},
	"D0204": func(b *builder, f *dflow.Flow, p *Point) []rec {
		rs := []rec{b.record(f.Group("763"), p, at{}), b.record(f.Group("440"), p, at{})}
		for _, code := range []string{"451", "450", "441", "445", "447", "448", "449", "446", "764", "443", "444"} {
			if code == "444" && p.MOp == nil {
				continue // no Meter Operator Details: an unmetered supply has no MOp
			}
			rs = append(rs, b.record(f.Group(code), p, at{}))
		}
		if p.Meter == Smart {
			rs = append(rs, b.record(f.Group("91H"), p, at{}))
		}
		return append(rs, b.record(f.Group("47M"), p, at{}), b.record(f.Group("48M"), p, at{}))
	},
	"D0302": func(b *builder, f *dflow.Flow, p *Point) []rec {
		if p.Export || p.Cross == CrossCustomerMissing {
			return nil // one customer per site: on the import MPAN
		}
		return []rec{b.record(f.Group("68C"), p, at{}), b.record(f.Group("69C"), p, at{}), b.record(f.Group("15J"), p, at{}),
			b.record(f.Group("16J"), p, at{}), b.record(f.Group("17J"), p, at{}), b.record(f.Group("70C"), p, at{})}
	},
	"D0225": func(b *builder, f *dflow.Flow, p *Point) []rec {
		if !p.PSR || p.Export || p.Cross == CrossCustomerMissing {
			return nil
		}
		return []rec{b.record(f.Group("510"), p, at{}), b.record(f.Group("99C"), p, at{})}
	},
}

// nhhMTD says whether the point's MOp holds D0150/D0149 meter technical
// details: traditional and smart meters (DTC 15.4 routes D0150 from the
// SMEM, the smart metering equipment manager, as from a MOP).
func nhhMTD(p *Point) bool { return p.Meter == Traditional || p.Meter == Smart }

// fileSpec says which file of a chunk a point's records in a flow go to.
type fileSpec struct {
	flow     string
	version  string
	cut      string
	owner    func(p *Point) string // uploading MPID: the inbox folder
	party    func(p *Point) string // counterparty in the file name, or nil
	from, to func(p *Point) (role, mpid string)
}

func si(*Point) (string, string) { return SIRole, SIMPID }

var fileSpecs = []fileSpec{
	{flow: "D0150", version: "002", cut: CutMTD, owner: mop, from: mopRole, to: si},
	{flow: "D0149", version: "001", cut: CutMTD, owner: mop, from: mopRole, to: si},
	{flow: "D0268", version: "002", cut: CutMTD, owner: mop, from: mopRole, to: si},
	{flow: "D0204", version: "002", cut: CutRegistration, owner: func(p *Point) string { return p.Distributor },
		party: supplier,
		from:  func(p *Point) (string, string) { return "P", p.Distributor },
		to:    func(p *Point) (string, string) { return "X", p.Supplier.MPID }},
	{flow: "D0302", version: "002", cut: CutSupplier, owner: supplier, from: supplierRole, to: si},
	{flow: "D0225", version: "002", cut: CutSupplier, owner: supplier, from: supplierRole, to: si},
}

func mop(p *Point) string                    { return p.MOp.MPID }
func mopRole(p *Point) (string, string)      { return "M", p.MOp.MPID }
func supplier(p *Point) string               { return p.Supplier.MPID }
func supplierRole(p *Point) (string, string) { return "X", p.Supplier.MPID }
