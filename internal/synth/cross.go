package synth

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// Cross-participant faults (--cross-faults): the data of one MPAN made to
// disagree between participants' cuts, each cut still valid on its own.
// Each kind is found by one built-in reconciliation rule
// (pipelines/reconcile.yaml), named in the ground truth.
const (
	CrossSupplier        = "supplier"         // the EES names another supplier than the D0204 recipient
	CrossMOp             = "mop"              // the EES names another MOp than D0204
	CrossMeterSerial     = "meter-serial"     // the EES meter serial is not the MOp's
	CrossEnergisation    = "energisation"     // the EES energisation status is not D0204's
	CrossMTDMissing      = "mtd-missing"      // the appointed MOp's cut lacks the MPAN
	CrossOrphan          = "orphan"           // the EES has a row of an MPAN no registration service knows
	CrossLinked          = "linked"           // an export MPAN's D0204 does not list its import partner
	CrossCustomerMissing = "customer-missing" // a domestic MPAN's D0302 record is missing
)

// CrossTruthPrefix starts the names of the cross faults' ground truth
// files under TruthPrefix: cross-<chunk>.jsonl.
const CrossTruthPrefix = "cross-"

// CrossFault is one injected disagreement, as synth/ground-truth/cross-*.jsonl
// holds it: the (raw) MPAN, the reconciliation rule that must find it, and
// the participant that must act.
type CrossFault struct {
	Rule string `json:"rule"`
	Kind string `json:"kind"`
	MPAN string `json:"mpan"` // raw core: mask it to compare with findings
	MPID string `json:"mpid"` // the participant that must act
	Cut  string `json:"cut"`  // its cut type
}

// crossFault draws the point's cross-participant fault, if any: with the
// rate, one of the kinds that apply to it. An export MPAN that draws one
// always gets linked, so the rarest kind is injected whenever pairs are.
func (m *market) crossFault(p *Point) string {
	if m.opt.CrossFaultRate <= 0 {
		return ""
	}
	r := rand.New(rand.NewPCG(m.seed^0xc2055, uint64(p.Index)*0x9e3779b97f4a7c15+7))
	if r.Float64() >= m.opt.CrossFaultRate {
		return ""
	}
	if p.Export {
		return CrossLinked
	}
	// An unmetered supply has no MOp, no meter, no MTD.
	metered := p.Meter != Unmetered
	kinds := []string{CrossSupplier}
	if metered {
		kinds = append(kinds, CrossMOp)
	}
	kinds = append(kinds, CrossEnergisation, CrossOrphan)
	if metered {
		kinds = append(kinds, CrossMeterSerial, CrossMTDMissing)
	}
	if p.Domestic {
		kinds = append(kinds, CrossCustomerMissing)
	}
	return kinds[r.IntN(len(kinds))]
}

// crossTruth is the ground truth of the point's cross fault.
func (p *Point) crossTruth(n int) CrossFault {
	f := CrossFault{Rule: p.Cross, Kind: p.Cross, MPAN: p.Core, MPID: p.Supplier.MPID, Cut: CutEES}
	switch p.Cross {
	case CrossMeterSerial:
		if p.Meter == Advanced {
			f.Rule = "meter-serial-advanced"
		}
	case CrossMTDMissing:
		f.MPID, f.Cut = p.MOp.MPID, CutMTD
	case CrossOrphan:
		f.MPAN = p.orphanCore(n)
	case CrossLinked:
		f.MPID, f.Cut = p.Distributor, CutRegistration
	}
	return f
}

// orphanCore is the MPAN of the point's orphan EES row: index n+i of its
// distributor, outside a market of n MPANs.
func (p *Point) orphanCore(n int) string { return core(p.Core[:2], n+p.Index) }

// crossEES applies the point's cross fault to its EES row.
func (p *Point) crossEES(row []string) {
	set := func(header, v string) {
		for i, h := range EESHeader {
			if h == header {
				row[i] = v
				return
			}
		}
		panic(fmt.Sprintf("no EES column %s", header))
	}
	switch p.Cross {
	case CrossSupplier:
		set("supplier", nextMPID(Suppliers, p.Supplier.MPID))
	case CrossMOp:
		set("mop", nextMPID(MOps, p.MOp.MPID))
	case CrossEnergisation:
		if p.Energised {
			set("energisation-status", "D")
		} else {
			set("energisation-status", "E")
		}
	case CrossMeterSerial:
		id := []byte(p.MeterID)
		id[len(id)-1] = '0' + (id[len(id)-1]-'0'+1)%10
		set("msn", string(id))
	}
}

// orphanRow is the EES row of the point's orphan: the point's row with
// another core, no meter, not domestic.
func (p *Point) orphanRow(n int) []string {
	o := *p
	o.Core, o.MeterID, o.Domestic, o.Cross = p.orphanCore(n), "", false, ""
	return o.eesRow()
}

func nextMPID(ps []Participant, mpid string) string {
	for i := range ps {
		if ps[i].MPID == mpid {
			return ps[(i+1)%len(ps)].MPID
		}
	}
	return ps[0].MPID
}

func crossLines(fs []CrossFault) []byte {
	var out []byte
	for _, f := range fs {
		b, _ := json.Marshal(f)
		out = append(append(out, b...), '\n')
	}
	return out
}
