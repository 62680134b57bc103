package cut

import "testing"

func TestParseReportKey(t *testing.T) {
	_, report := QuarantineKeys("ees", "BRGT", "s1", "EES_1.csv")
	for key, want := range map[string]ReportKey{
		report:                          {Type: "ees", MPID: "BRGT", Submission: "s1", Name: "EES_1.csv.report.json"},
		ReceiptKey("ees", "BRGT", "s1"): {Type: "ees", MPID: "BRGT", Submission: "s1", Name: ReceiptFile},
	} {
		got, ok := ParseReportKey(key)
		if !ok || got != want {
			t.Errorf("%s: %+v, %v", key, got, ok)
		}
		if ReportDir(got.Type, got.MPID, got.Submission)+got.Name != key {
			t.Errorf("%s does not round-trip", key)
		}
	}
	for _, key := range []string{"reports/ees/mpid=BRGT/receipt.json", "reports/ees/BRGT/s1/receipt.json", "quarantine/ees/mpid=BRGT/s1/receipt.json",
		"reports/ees/mpid=BRGT/s1/x/receipt.json", "reports/ees/mpid=BRGT/s1/"} {
		if _, ok := ParseReportKey(key); ok {
			t.Errorf("%s parsed as a report key", key)
		}
	}
	if q, _ := QuarantineKeys("ees", "BRGT", "s1", "f"); q != QuarantineDir("ees", "BRGT", "s1")+"files/f" {
		t.Errorf("quarantine dir of %s", q)
	}
}
