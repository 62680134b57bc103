package pipeline

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/ees"
)

// ecoesHeadings are ECOES-style headings for the synthetic export's
// columns: other case and spacing, and aliases of ees-columns.yaml.
var ecoesHeadings = map[string]string{
	"mpan-core": "MPAN Core", "address-line-1": "Address Line 1", "address-line-2": "ADDRESS_LINE_2",
	"post-code": "Post Code", "supplier": "Supplier Id", "supplier-dip": "Supplier Dip Id",
	"registration-from": "Supplier Effective From Date", "mtc": "Meter Timeswitch Code",
	"mtc-date": "MTC Effective From Date", "llfc": "LLFC", "llfc-from": "LLFC Effective From Date",
	"pc": "Profile Class", "ssc": "SSC", "measurement-class": "Measurement Class",
	"energisation-status": "Energisation Status", "mop-appoint-date": "MOP Effective From Date",
	"gsp-group": "GSP Group", "gsp-effective-from": "GSP Group Effective From Date",
	"dno-name": "Distributor Name", "dno-dip": "DNO Dip Id", "msn": "Meter Serial Number",
	"meter-install-date": "Meter Installation Date", "meter-type": "Meter Type", "map-id": "MAP Id",
}

var ddmmyyyy = regexp.MustCompile(`\b(\d\d)/(\d\d)/(\d{4})\b`)

// ECOES as exported is published like our own spelling of it: dates in
// yyyymmdd (ECOES since late 2025), ECOES's headings, empty DIP ids, and an
// export whose title row names no column, read by position. Every variant
// publishes every row, none rejected, and the same masked MPANs.
func TestECOESExportsPublish(t *testing.T) {
	mpid, a, _, _ := eesParts(t)
	lines := strings.SplitAfter(string(a), "\n")
	header, body := lines[0], strings.Join(lines[1:], "")
	rows := strings.Count(body, "\n")
	var hs []string
	for _, h := range strings.Split(strings.TrimRight(header, "\n"), ",") {
		if e, ok := ecoesHeadings[h]; ok {
			h = e
		}
		hs = append(hs, h)
	}
	// Empty every DIP id: ECOES leaves some empty.
	dipCols := map[int]bool{}
	for i, h := range strings.Split(strings.TrimRight(header, "\n"), ",") {
		dipCols[i] = strings.Contains(strings.ToLower(h), "dip")
	}
	var noDIP []string
	for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		f := strings.Split(l, ",")
		for i := range f {
			if dipCols[i] {
				f[i] = ""
			}
		}
		noDIP = append(noDIP, strings.Join(f, ","))
	}
	variants := []struct{ name, data string }{
		{"ours", string(a)},
		{"yyyymmdd", header + ddmmyyyy.ReplaceAllString(body, "$3$2$1")},
		{"ECOES headings", strings.Join(hs, ",") + "\n" + body},
		{"empty DIP ids", header + strings.Join(noDIP, "\n") + "\n"},
		{"title row", "Portfolio Report\n" + body},
	}
	if !ddmmyyyy.MatchString(body) || variants[1].data == string(a) {
		t.Fatal("the export has no dd/mm/yyyy dates to convert")
	}
	var want string
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			st := localStores(t, v.name)
			submitFiles(t, st, cut.Submission{MPID: mpid, Cut: "ees"}, "s1", map[string][]byte{"A.csv": []byte(v.data)})
			r := result(t, run(t, st), "s1")
			if r.Status != StatusPublished || r.Rejected != 0 || r.Quarantined != 0 || r.Rows != int64(rows) {
				t.Fatalf("%d rows: %+v", rows, r)
			}
			positional := strings.Contains(strings.Join(r.Warnings, "\n"), ees.RulePositional)
			if positional != (v.name == "title row") {
				t.Fatalf("warnings %v", r.Warnings)
			}
			got := mpanColumn(t, st, r.Prefix)
			if want == "" {
				want = got
			} else if got != want {
				t.Fatalf("masked MPANs differ from our spelling's")
			}
		})
	}
}
