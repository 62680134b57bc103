package synth

import (
	"strconv"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/dflow/dflowgen"
)

// rec is one record about to be written.
type rec struct {
	g      *dflow.Group
	fields [][]byte
}

// at says where in a point's data a record is: which meter and register.
type at struct {
	register int // 1-based
}

// builder turns points into records of any flow: items the market knows
// come from the point, other mandatory items get valid filler, other
// optional items stay empty. Values live in an arena reset per point, so a
// point's records cost no garbage.
type builder struct {
	cat    *dflow.Catalog
	fill   *dflowgen.Gen
	bytes  []byte   // arena for values
	fields [][]byte // arena for field slices
}

// reset reclaims the arenas: call when the previous point's records are
// written.
func (b *builder) reset() {
	b.bytes, b.fields = b.bytes[:0], b.fields[:0]
}

func (b *builder) record(g *dflow.Group, p *Point, a at) rec {
	n := len(g.Fields)
	if cap(b.fields)-len(b.fields) < n {
		b.fields = make([][]byte, 0, max(1024, 2*n)) // earlier records keep the old block
	}
	fields := b.fields[len(b.fields) : len(b.fields)+n : len(b.fields)+n]
	b.fields = b.fields[:len(b.fields)+n]
	for i := range g.Fields {
		fd := &g.Fields[i]
		v, ok := p.value(fd.Ref, a)
		if !ok && fd.Required {
			v, ok = b.fill.Value(fd), true
		}
		if !ok || v == "" {
			fields[i] = nil
			continue
		}
		if cap(b.bytes)-len(b.bytes) < len(v) {
			b.bytes = make([]byte, 0, max(16<<10, 2*len(v)))
		}
		start := len(b.bytes)
		b.bytes = append(b.bytes, v...)
		fields[i] = b.bytes[start:len(b.bytes):len(b.bytes)]
	}
	return rec{g: g, fields: fields}
}

// value is what the market says of an item for this point.
func (p *Point) value(ref string, a at) (string, bool) {
	switch ref {
	case "J0003":
		return p.Core, true
	case "J1254", "J0300", "J0306", "J0658", "J0297", "J0301", "J0308", "J0307", "J0334", "J0219", "J0210", "J0049", "J0722":
		return p.Since, true
	case "J0821":
		return p.Since, true
	case "J0848", "J1685":
		return p.MeterSince, true
	case "J0082":
		return p.MC, true
	case "J0080":
		if p.Energised {
			return "E", true
		}
		return "D", true
	case "J0071":
		return p.PC, true
	case "J0076":
		return p.SSC, true
	case "J0078":
		if p.Registers == 2 {
			return []string{"00206", "00210"}[min(a.register, 2)-1], true
		}
		return p.TPR, true
	case "J0220":
		return p.MTC, true
	case "J0147":
		return p.LLFC, true
	case "J0066":
		return p.GSP, true
	case "J0189":
		return p.Distributor, true
	case "J0178":
		return p.mopMPID(), p.MOp != nil
	case "J0205":
		return p.DC.MPID, true
	case "J0183":
		return p.DA.MPID, true
	case "J0218", "J0163", "J0675":
		if p.PC == "00" {
			return "H", true
		}
		return "N", true
	case "J0004":
		return p.MeterID, p.MeterID != ""
	case "J0428":
		return p.Outstation, p.Outstation != ""
	case "J0010":
		return "0" + strconv.Itoa(max(a.register, 1)), true
	case "J0679", "J0478":
		return "1", ref == "J0679"
	case "J0103":
		if p.Export {
			return "AE", true
		}
		return "AI", true
	case "J0483":
		switch p.Meter {
		case Traditional:
			return "N", true
		case Advanced:
			return "H", true
		}
		return "S2ADE", true
	case "J0098":
		if p.Meter == Advanced {
			return "R", true
		}
		return "M", true
	case "J1677":
		return "MAPA", true
	case "J1036":
		if p.Line2 != "" {
			return p.Line2, true
		}
		return p.Line1, true
	case "J1037":
		if p.Line2 != "" {
			return p.Line1, true
		}
		return p.Town, true
	case "J1038":
		return p.Town, p.Line2 != ""
	case "J0263":
		return p.Postcode, true
	case "J1046":
		return p.Line1, true
	case "J1047":
		return p.Town, true
	case "J0566":
		return p.Postcode, true
	case "J0375", "J0489", "J1884":
		return p.Name, true
	case "J0490", "J1720":
		return p.Phone, true
	case "J2060":
		return p.Email, true
	case "J1699":
		return p.PSRCode, p.PSR
	case "J2208":
		return "T", true
	case "J2210":
		return "F", true
	case "J1839":
		return "SMETS2", p.Meter == Smart
	case "J2243", "J2244":
		// Every MPAS record lists related MPANs (the catalogue makes the
		// group mandatory); an MPAN without a partner lists itself.
		primary, secondary := p.Core, p.Core
		if p.Partner >= 0 && p.Cross != CrossLinked {
			primary, secondary = p.Core, p.PartnerCore
			if p.Export {
				primary, secondary = p.PartnerCore, p.Core
			}
		}
		if ref == "J2243" {
			return primary, true
		}
		return secondary, true
	case "J2245":
		if p.Partner >= 0 && p.Cross != CrossLinked {
			return "Y", true
		}
		return "N", true
	case "J0109":
		return strconv.Itoa(p.Index + 1), true
	case "J0723":
		return "REFR", true
	}
	return "", false
}
