package synth

import "strconv"

// EESHeader is the EES portfolio export's header row.
var EESHeader = []string{"mpan-core", "address-line-1", "address-line-2", "address-line-3", "address-line-4", "address-line-5",
	"address-line-6", "address-line-7", "address-line-8", "address-line-9", "post-code", "supplier", "supplier-dip",
	"registration-from", "mtc", "mtc-date", "llfc", "llfc-from", "pc", "ssc", "measurement-class", "energisation-status",
	"da", "dc", "mop", "mop-appoint-date", "gsp-group", "gsp-effective-from", "dno-name", "dno-dip",
	"Domestic Premises Indicator", "Duos Tariff Id", "Duos Tariff Id Effective From Date", "Market Segment Indicator",
	"Market Segment Indicator Effective From Date", "Data Service Dip Id", "Data Service Effective From Date",
	"Data Service Effective To Date", "Data Service Mpid", "Metering Service Dip Id", "Metering Service Effective From Date",
	"Metering Service Effective To Date", "Metering Service Mpid", "msn", "meter-install-date", "meter-type", "map-id"}

// ddmmyyyy turns ccyymmdd into the EES export's dd/mm/yyyy.
func ddmmyyyy(d string) string { return d[6:8] + "/" + d[4:6] + "/" + d[0:4] }

func dip(mpid string) string { return "DIP" + mpid + "001" }

// eesRow is the point's row, columns as EESHeader.
func (p *Point) eesRow() []string {
	val := func(ref string) string { v, _ := p.value(ref, at{register: 1}); return v }
	since := ddmmyyyy(p.Since)
	msn, installed, meterType, mapID := "", "", "", ""
	if p.MeterID != "" {
		msn, installed, meterType, mapID = p.MeterID, ddmmyyyy(p.MeterSince), val("J0483"), "MAPA"
	}
	// An unmetered supply has no MOp: its MOp and metering service columns
	// stay empty.
	mop, mopSince, mopDIP := "", "", ""
	if p.MOp != nil {
		mop, mopSince, mopDIP = p.MOp.MPID, since, dip(p.MOp.MPID)
	}
	return []string{p.Core, val("J1036"), val("J1037"), val("J1038"), "", "", "", "", "", "", p.Postcode,
		p.Supplier.MPID, dip(p.Supplier.MPID), since, p.MTC, since, p.LLFC, since, p.PC, p.SSC, p.MC, val("J0080"),
		p.DA.MPID, p.DC.MPID, mop, mopSince, p.GSP, since, p.Distributor, dip(p.Distributor),
		strconv.FormatBool(p.Domestic), "D" + p.LLFC[1:], since, p.Segment, since,
		dip(p.DC.MPID), since, "", p.DC.MPID, mopDIP, mopSince, "", mop,
		msn, installed, meterType, mapID}
}
