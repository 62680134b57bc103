package synth

import (
	"math/rand/v2"
	"strconv"

	"github.com/mhhs-sit/datacut/internal/mpan"
)

// Meter kinds.
const (
	Unmetered   = 0
	Traditional = 1 // MOp's D0150/D0149
	Smart       = 2 // MOp's (SMEM's) D0150/D0149
	Advanced    = 3 // MOp's D0268
)

// Point is one metering point (MPAN) with everything every cut says of it.
type Point struct {
	Index       int
	Core        string
	Distributor string // MPID
	GSP         string
	Segment     string // S, A, U
	MC          string // measurement class
	PC          string // profile class, 2 digits
	Energised   bool
	Domestic    bool
	MTC, LLFC   string
	SSC, TPR    string
	Supplier    *Participant
	// MOp is nil for an unmetered supply: it has no meter, so no Meter
	// Operator is appointed (D0204 has no group 444, the EES no MOp).
	MOp, DC, DA *Participant
	Meter       int
	MeterID     string
	Outstation  string
	Registers   int
	Partner     int // index of the linked MPAN, -1 if none
	PartnerCore string
	Export      bool // the export half of an import/export pair
	Since       string
	MeterSince  string
	// Address and customer.
	Line1, Line2, Town, Postcode string
	First, Last, Name, Phone     string
	Email                        string
	PSR                          bool
	PSRCode                      string
	// Cross is the cross-participant fault injected (cross.go), or "".
	Cross string
}

// pairShare is the share of MPANs that are the import half of a linked
// import/export pair (the next index is the export half).
const pairShare = 0.03

func rngFor(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, pointStream(i)))
}

// pointStream is the second PCG seed of point i's generators.
func pointStream(i int) uint64 { return uint64(i)*0x9e3779b97f4a7c15 + 1 }

// firstFloat is r's next Float64 as rand.New(r).Float64() draws it, with no
// generator built on the heap: the sampler tests millions of candidates.
func firstFloat(r *rand.PCG) float64 { return float64(r.Uint64()<<11>>11) / (1 << 53) }

func isImportOfPair(seed uint64, i int, n int) bool {
	if i%2 != 0 || i+1 >= n {
		return false
	}
	var r rand.PCG
	r.Seed(seed^0xa1, pointStream(i))
	return firstFloat(&r) < pairShare*2
}

// unique spreads indices over the 10-digit unique numbers: a bijection for
// any index below 10^10 (3 is coprime to 10^10).
func unique(i int) uint64 { return (uint64(i)*3_000_000_007 + 12_345) % 10_000_000_000 }

// NewPoint derives MPAN i of a market of n MPANs.
func (m *market) point(i int) *Point {
	r := rngFor(m.seed, i)
	p := &Point{Index: i, Partner: -1}
	base := i
	switch {
	case isImportOfPair(m.seed, i, m.n):
		p.Partner = i + 1
	case i > 0 && isImportOfPair(m.seed, i-1, m.n):
		p.Partner, p.Export, base = i-1, true, i-1
	}
	// The site (distributor, address, supplier, customer) is the pair's.
	site := rngFor(m.seed^0x51, base)
	dist := dnoIDs[weighted(site, dnoWeight)]
	if site.Float64() < 0.05 {
		dist = IDNOs[site.IntN(len(IDNOs))]
	}
	d, _ := mpan.DistributorOf(dist)
	p.Distributor = d.MPID
	p.GSP = d.GSPGroup
	if d.IDNO {
		p.GSP = mpan.GSPGroups[site.IntN(len(mpan.GSPGroups))]
	}
	p.Core = core(dist, i)
	if p.Partner >= 0 {
		p.PartnerCore = core(dist, p.Partner)
	}
	p.Supplier = pick(site, Suppliers)
	p.Line1 = strconv.Itoa(1+site.IntN(200)) + " " + m.pools.street[site.IntN(len(m.pools.street))]
	if site.Float64() < 0.2 {
		p.Line2 = "Flat " + strconv.Itoa(1+site.IntN(30))
	}
	p.Town = m.pools.town[site.IntN(len(m.pools.town))]
	p.Postcode = postcode(site)
	fi, li := site.IntN(len(m.pools.first)), site.IntN(len(m.pools.last))
	p.First, p.Last = m.pools.first[fi], m.pools.last[li]
	p.Name = p.First + " " + p.Last
	p.Phone = "07700900" + pad(site.IntN(1000), 3)
	p.Email = m.pools.firstLow[fi] + "." + m.pools.lastLow[li] + strconv.Itoa(site.IntN(100)) + "@example.com"
	if site.Float64() < 0.08 {
		p.PSR = true
		p.PSRCode = []string{"01", "02", "03", "04", "08", "09", "10", "12"}[site.IntN(8)]
	}

	// The metering point itself.
	p.drawOwn(r)
	p.Registers = 1
	p.SSC, p.TPR, p.MTC = "0393", "00001", "801"
	if p.PC == "02" || p.PC == "04" {
		p.Registers, p.SSC, p.TPR, p.MTC = 2, "0151", "00043", "802"
	}
	if p.PC == "00" {
		p.MTC = "845"
	}
	p.LLFC = pad(100+r.IntN(400), 3)
	p.MOp = pick(r, MOps) // drawn for every point: the draws after it stay the market's
	if p.Meter == Unmetered {
		p.MOp = nil
	}
	if p.MC == "A" || p.MC == "B" {
		p.DC = pick(r, NHHDCs)
	} else {
		p.DC = pick(r, HHDCs)
	}
	p.DA = pick(r, DAs)
	p.Since = date(r, 2012, 2025)
	p.MeterSince = date(r, 2012, 2025)
	if p.Meter != Unmetered {
		// Letter, 2 digits, letter, 6 digits: unique below 6.76e10 MPANs.
		p.MeterID = string(rune('A'+i%26)) + pad((i/26)%100, 2) + string(rune('A'+(i/2600)%26)) + pad((i/67600)%1_000_000, 6)
	}
	if p.Meter == Advanced {
		p.Outstation = "OS" + pad(int(unique(i)), 10)
	}
	return p
}

// drawOwn draws the metering point's own attributes (segment, classes,
// meter, energisation), the first draws of its generator r: the sampler
// draws them alone to test a candidate before building the whole point.
func (p *Point) drawOwn(r *rand.Rand) {
	p.Segment = drawSegment(r, p.Export)
	switch p.Segment {
	case "S":
		if r.Float64() < 0.8 {
			p.MC = "A"
			p.PC = []string{"01", "01", "01", "02", "03", "04", "05", "08"}[r.IntN(8)]
		} else {
			p.MC, p.PC = "F", "00"
		}
		p.Meter = Smart
		if r.Float64() < 0.35 {
			p.Meter = Traditional
		}
	case "A":
		p.MC, p.PC = []string{"C", "E", "G"}[r.IntN(3)], "00"
		p.Meter = Advanced
	default:
		p.MC, p.PC, p.Meter = "B", "08", Unmetered
	}
	p.Domestic = (p.MC == "A" && (p.PC == "01" || p.PC == "02")) || (p.MC == "F" && p.PC == "00")
	p.Energised = r.Float64() < 0.95
}

// drawSegment is a point's segment, the first draw of its own generator:
// 85 % smart, 14 % advanced, 1 % unmetered; an export is advanced.
func drawSegment(r *rand.Rand, export bool) string { return segmentOf(r.Float64(), export) }

// segmentOf is the segment of the first draw x.
func segmentOf(x float64, export bool) string {
	switch {
	case export:
		return "A"
	case x < 0.85:
		return "S"
	case x < 0.99:
		return "A"
	}
	return "U"
}

func core(dist string, i int) string {
	c, _ := mpan.Complete(dist + pad(int(unique(i)), 10))
	return c
}

func weighted(r *rand.Rand, w []float64) int {
	x := r.Float64()
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

func date(r *rand.Rand, from, to int) string {
	return pad(from+r.IntN(to-from+1), 4) + pad(1+r.IntN(12), 2) + pad(1+r.IntN(28), 2)
}

// pad renders n with leading zeros to width digits.
func pad(n, width int) string {
	var b [20]byte
	i := len(b)
	for n > 0 || i > len(b)-width {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

const pcLetters = "ABCDEFGHJKLMNOPRSTUWYZ"
const inLetters = "ABDEFGHJLNPQRSTUWXYZ"

func postcode(r *rand.Rand) string {
	l := func(s string) byte { return s[r.IntN(len(s))] }
	out := []byte{l(pcLetters), l(pcLetters)}
	out = strconv.AppendInt(out, int64(1+r.IntN(20)), 10)
	return string(append(out, ' ', byte('0'+r.IntN(10)), l(inLetters), l(inLetters)))
}

// mopMPID is the appointed MOp's MPID, "" for an unmetered supply.
func (p *Point) mopMPID() string {
	if p.MOp == nil {
		return ""
	}
	return p.MOp.MPID
}

// Points calls fn with MPANs from, from+1, … to-1 of an n-MPAN market of
// the seed: the market's attributes without its files, for tools that need
// them at scale (the allocator's universe). fn must not keep the Point.
func Points(n int, seed uint64, from, to int, fn func(*Point)) {
	m := &market{seed: seed, n: n, pools: newPools(seed)}
	for i := from; i < to; i++ {
		fn(m.point(i))
	}
}
