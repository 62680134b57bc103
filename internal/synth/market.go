// Package synth generates a whole, consistent synthetic GB market: the data
// cuts every participant would upload, in the real formats, from a seed.
// Each MPAN's attributes derive from (seed, index) alone, so memory stays
// flat at any size and the same seed and size give byte-identical files.
package synth

import (
	"math/rand/v2"
	"strings"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/mhhs-sit/datacut/internal/mpan"
)

// Participant is a market participant of the synthetic market.
type Participant struct {
	MPID   string  `json:"mpid"`
	Role   string  `json:"role"` // DTC role code: X supplier, M MOp, C HHDC, D NHHDC, A DA, P MPAS
	Name   string  `json:"name"`
	Weight float64 `json:"-"` // share of MPANs for suppliers and agents
}

// The synthetic participants: fictional MPIDs of several sizes, so tests of
// fairness see large and small portfolios.
var (
	Suppliers = []Participant{
		{"BRGT", "X", "Bright Energy", 0.30}, {"CRWN", "X", "Crown Power", 0.22}, {"DLTA", "X", "Delta Supply", 0.16},
		{"ECHO", "X", "Echo Electric", 0.12}, {"FRNT", "X", "Frontier Energy", 0.09}, {"GLDN", "X", "Golden Power", 0.06},
		{"HRZN", "X", "Horizon Supply", 0.04}, {"IRIS", "X", "Iris Energy", 0.01},
	}
	MOps = []Participant{
		{"MTRA", "M", "Meterworks A", 0.40}, {"MTRB", "M", "Meterworks B", 0.30}, {"MTRC", "M", "Meterworks C", 0.20}, {"MTRD", "M", "Meterworks D", 0.10},
	}
	HHDCs  = []Participant{{"HHDA", "C", "Half Hourly Data A", 0.6}, {"HHDB", "C", "Half Hourly Data B", 0.4}}
	NHHDCs = []Participant{{"NHDA", "D", "Non Half Hourly Data A", 0.7}, {"NHDB", "D", "Non Half Hourly Data B", 0.3}}
	DAs    = []Participant{{"AGGA", "A", "Aggregation A", 0.5}, {"AGGB", "A", "Aggregation B", 0.5}}
	// EES is the enquiry service, a central system that sends no cut of its
	// own (suppliers send their EES extracts) but loads every environment's
	// EES rows. It has no DTC role code; its code is the register's role.
	EES = Participant{MPID: "ECOE", Role: "ees", Name: "Electricity Enquiry Service"}
	// IDNOs in play besides the 14 DNOs.
	IDNOs = []string{"24", "26", "29"}
)

// SI is the Systems Integrator the cuts are addressed to.
const (
	SIRole = "Z"
	SIMPID = "MHSI"
)

func pick(r *rand.Rand, ps []Participant) *Participant {
	x := r.Float64()
	for i := range ps {
		if x < ps[i].Weight {
			return &ps[i]
		}
		x -= ps[i].Weight
	}
	return &ps[len(ps)-1]
}

// distributors in play: 14 DNOs weighted by size, a few IDNOs.
var (
	dnoIDs    = []string{"10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23"}
	dnoWeight = []float64{0.08, 0.09, 0.08, 0.08, 0.09, 0.06, 0.08, 0.03, 0.07, 0.08, 0.09, 0.04, 0.05, 0.08}
)

// Registrations are the registration services (MPAS) in play: one per
// distributor, MPID as in MDD.
func Registrations() []Participant {
	var out []Participant
	for _, id := range append(append([]string(nil), dnoIDs...), IDNOs...) {
		d, _ := mpan.DistributorOf(id)
		out = append(out, Participant{MPID: d.MPID, Role: "P", Name: "MPAS " + d.MPID})
	}
	return out
}

// pools of names and places, drawn once from gofakeit with the seed, so
// each MPAN picks from them cheaply.
type pools struct {
	first, last, street, town []string
	firstLow, lastLow         []string // lower case, no spaces: for emails
}

func newPools(seed uint64) *pools {
	f := gofakeit.NewFaker(rand.NewPCG(seed, 0x5eed), false)
	p := &pools{}
	for i := 0; i < 512; i++ {
		p.first = append(p.first, f.FirstName())
		p.last = append(p.last, f.LastName())
		p.street = append(p.street, f.StreetName()+" "+[]string{"Road", "Street", "Lane", "Avenue", "Close", "Way", "Drive", "Grove"}[i%8])
	}
	p.town = ukTowns
	low := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "")) }
	for i := range p.first {
		p.firstLow = append(p.firstLow, low(p.first[i]))
		p.lastLow = append(p.lastLow, low(p.last[i]))
	}
	return p
}

// ukTowns are real place names: addresses need a plausible UK post town,
// and a town is not personal data.
var ukTowns = []string{"Aberdeen", "Bath", "Bedford", "Belfast", "Birmingham", "Blackpool", "Bolton", "Bournemouth", "Bradford",
	"Brighton", "Bristol", "Cambridge", "Canterbury", "Cardiff", "Carlisle", "Chelmsford", "Chester", "Colchester", "Coventry",
	"Crewe", "Derby", "Doncaster", "Dundee", "Durham", "Edinburgh", "Exeter", "Glasgow", "Gloucester", "Guildford", "Harrogate",
	"Hereford", "Huddersfield", "Hull", "Inverness", "Ipswich", "Kendal", "Lancaster", "Leeds", "Leicester", "Lincoln",
	"Liverpool", "London", "Luton", "Manchester", "Middlesbrough", "Milton Keynes", "Newcastle", "Newport", "Northampton",
	"Norwich", "Nottingham", "Oxford", "Perth", "Peterborough", "Plymouth", "Portsmouth", "Preston", "Reading", "Salisbury",
	"Sheffield", "Shrewsbury", "Southampton", "Stoke-on-Trent", "Sunderland", "Swansea", "Swindon", "Taunton", "Truro",
	"Wakefield", "Warrington", "Wolverhampton", "Worcester", "Wrexham", "York"}
