// Package universe builds the allocator's MPAN universe from published
// cuts: one row per MPAN joined across the EES, registration and MTD cuts on
// masked MPAN cores, with the attributes demands filter on, the appointed
// participants, and the units (linked MPANs move together).
package universe

import (
	"encoding/binary"
	"strconv"
)

// Attributes of a profile, by index.
const (
	Segment = iota
	GSP
	Distributor
	MC
	PC
	Energised
	Domestic
	MeterType
	SMETS
	Supplier
	MOp
	DC
	DA
	NumAttrs
)

// AttrNames are the plan's names of the attributes (and roles).
var AttrNames = [NumAttrs]string{"segment", "gsp_group", "distributor", "measurement_class", "profile_class",
	"energised", "domestic", "meter_type", "smets", "supplier", "mop", "dc", "da"}

// AttrIndex maps a plan attribute or role name to its index.
func AttrIndex(name string) int {
	for i, n := range AttrNames {
		if n == name {
			return i
		}
	}
	return -1
}

// Profile is one combination of attribute values; MPANs share profiles.
type Profile [NumAttrs]string

// Flags say which cuts hold an MPAN.
const (
	InRegistration uint8 = 1 << iota
	InMTD
	InCustomer
)

// DataSet is one flow of one cut type (Flow "" for an EES cut's rows): the
// data a load pack may carry of an MPAN.
type DataSet struct {
	Cut      string `json:"cut"`
	Flow     string `json:"flow,omitempty"`
	Universe string `json:"universe,omitempty"` // the cut type's universe: mtd, customer, ...
}

// MaxDataSets bounds the data sets a universe records (Data's bits).
const MaxDataSets = 16

// Universe is every MPAN of the source cuts, columnar.
type Universe struct {
	Sources        []Source
	KeyFingerprint string
	// rows: the MPANs, ascending by core (see Len, At, All, Find).
	rows
	DataSets []DataSet // what MPAN.Data's bits name
	Profiles Profiles
	// units: see NumUnits, Lead, UnitMembers and UnitOf.
	units
	Stats Stats
}

// Stats count what the join saw.
type Stats struct {
	EESRows        int `json:"eesRows"`
	MPANs          int `json:"mpans"`
	Units          int `json:"units"`
	LinkedUnits    int `json:"linkedUnits"`
	ExtraMeterRows int `json:"extraMeterRows"` // EES rows of an MPAN already seen (one per meter)
	Registered     int `json:"registered"`
	WithMTD        int `json:"withMtd"`
	WithCustomer   int `json:"withCustomer"`
	LinksOutside   int `json:"linksOutside"` // related MPANs not in the EES cuts
}

// CoreString renders MPAN i's core.
func (u *Universe) CoreString(i int32) string { return FormatCore(u.Core(i)) }

// FormatCore renders a 13-digit core.
func FormatCore(c uint64) string {
	s := strconv.FormatUint(c, 10)
	for len(s) < 13 {
		s = "0" + s
	}
	return s
}

// ParseCore parses a 13-digit core; ok is false for anything else.
func ParseCore(s string) (uint64, bool) { return parseCore(s) }

// ParseCoreBytes is ParseCore of Parquet's value bytes, without a string.
func ParseCoreBytes(b []byte) (uint64, bool) { return parseCoreBytes(b) }

// parseCoreBytes is parseCore of bytes, eight digits at a time (the scans
// of every table's MPAN column parse a core per row): bytes 0-7 and 5-12
// are each checked to be digits and converted as one word.
func parseCoreBytes(b []byte) (uint64, bool) {
	if len(b) != 13 {
		return 0, false
	}
	hi, ok1 := eightDigits(binary.LittleEndian.Uint64(b[0:8]))
	lo, ok2 := eightDigits(binary.LittleEndian.Uint64(b[5:13]))
	if !ok1 || !ok2 {
		return 0, false
	}
	return hi/1000*100_000_000 + lo, true // hi/1000: digits 0-4
}

// eightDigits is the number eight ASCII digits spell, the first byte (the
// word's lowest) the most significant; false unless every byte is a digit.
func eightDigits(x uint64) (uint64, bool) {
	const zeros, high = 0x3030303030303030, 0x8080808080808080
	if ((x-zeros)|(x+0x4646464646464646))&high != 0 {
		return 0, false // a byte below '0' borrows into its high bit; above '9', adding 0x46 carries into it
	}
	d := x - zeros
	d = d*10 + d>>8 // each even byte: the two-digit number of its pair
	d = ((d&0x000000FF000000FF)*(100+(1000000<<32)) + (d>>16&0x000000FF000000FF)*(1+(10000<<32))) >> 32
	return d, true
}

func parseCore[T ~string | ~[]byte](s T) (uint64, bool) {
	if len(s) != 13 {
		return 0, false
	}
	var n uint64
	for i := 0; i < 13; i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + uint64(c)
	}
	return n, true
}

// DataMask is the bits of the data sets ok accepts.
func (u *Universe) DataMask(ok func(DataSet) bool) uint16 {
	var m uint16
	for i, d := range u.DataSets {
		if ok(d) {
			m |= 1 << i
		}
	}
	return m
}

// smetsOf derives the SMETS generation from the DTC meter type (S1…, S2…).
func smetsOf(meterType string) string {
	switch {
	case len(meterType) >= 2 && meterType[:2] == "S1":
		return "1"
	case len(meterType) >= 2 && meterType[:2] == "S2":
		return "2"
	}
	return "none"
}
