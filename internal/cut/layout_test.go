package cut

import (
	"strings"
	"testing"
)

func TestParseInboxKeyChecksNames(t *testing.T) {
	f, err := ParseInboxKey("inbox/BRGT/ees/s1/EES_0001.csv")
	if err != nil || f.MPID != "BRGT" || f.Type != "ees" || f.Submission != "s1" || f.Name != "EES_0001.csv" {
		t.Fatalf("got %+v, %v", f, err)
	}
	if f, err := ParseInboxKey("inbox/BRGT/ees/EES_0001.csv"); err != nil || f.Submission != "" || f.Name != "EES_0001.csv" {
		t.Fatalf("a loose file: got %+v, %v", f, err)
	}
	for key, want := range map[string]string{
		"inbox/mpid=EVIL/ees/s/a.csv": `folder "mpid=EVIL" is not an MPID`,
		"inbox/.../ees/s/a.csv":       `folder "..." is not an MPID`,
		"inbox/.hid/ees/a.csv":        `folder ".hid" is not an MPID`,
		"inbox/MP X/ees/a.csv":        `folder "MP X" is not an MPID`,
		"inbox/brgt/ees/a.csv":        `folder "brgt" is not an MPID`,
		"inbox/BRGT/EES/a.csv":        `folder "EES" is not a cut type name`,
		"inbox/BRGT/ees/.DS_Store":    `hidden file ".DS_Store"`,
		"inbox/BRGT/ees/s1/.DS_Store": `hidden file ".DS_Store"`,
		"inbox/BRGT/ees/.s/a.csv":     `folder ".s" is not a submission id`,
		"inbox/BRGT/ees/s/x/a.csv":    "not of the form inbox/<MPID>/<cut type>/<submission>/<file>",
		"inbox/BRGT/a.csv":            "not of the form",
	} {
		if _, err := ParseInboxKey(key); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", key, err, want)
		}
	}
}

// Broken files, rejected instances and reports of one submission never
// share a key, whatever the participant names its files.
func TestQuarantineKeysNeverCollide(t *testing.T) {
	a, ra := QuarantineKeys("ees", "BRGT", "s1", "A.csv")
	b, rb := QuarantineKeys("ees", "BRGT", "s2", "A.csv")
	if a == b || ra == rb {
		t.Fatalf("two submissions under one key: %s %s", a, b)
	}
	c, rc := QuarantineKeys("ees", "BRGT", "s1", "A.csv.report.json")
	rej := RejectedKey("ees", "BRGT", "s1", "A.csv")
	keys := map[string]bool{}
	for _, k := range []string{a, ra, c, rc, rej, ReceiptKey("ees", "BRGT", "s1"), RejectedKey("ees", "BRGT", "s1", "files")} {
		if keys[k] {
			t.Fatalf("%s twice", k)
		}
		keys[k] = true
	}
	if !strings.HasPrefix(ra, ReportsRoot) || !strings.HasPrefix(a, QuarantineRoot) || !strings.HasPrefix(rej, QuarantineRoot) {
		t.Fatalf("a report shares the quarantine: %s %s", a, ra)
	}
}

func TestParseCutAndQuarantineKeys(t *testing.T) {
	k, ok := ParseCutKey("cuts/ees/mpid=BRGT/cut=abc/ees_portfolio.parquet")
	if !ok || k.Type != "ees" || k.MPID != "BRGT" || k.ID != "abc" || k.Prefix != Prefix("ees", "BRGT", "abc") || k.Latest || k.Name != "ees_portfolio.parquet" {
		t.Errorf("table key: %+v %v", k, ok)
	}
	if k, ok := ParseCutKey(LatestKey("ees", "BRGT")); !ok || !k.Latest || k.ID != "" || k.MPID != "BRGT" {
		t.Errorf("latest key: %+v %v", k, ok)
	}
	for _, bad := range []string{"cuts/ees/BRGT/cut=a/x", "cuts/ees/mpid=BRGT/x/y", "cuts/ees/mpid=BRGT/cut=a", "inbox/ees/mpid=BRGT/cut=a/x", "cuts/ees/mpid=BRGT/published/x.json"} {
		if _, ok := ParseCutKey(bad); ok {
			t.Errorf("%s parsed as a cut key", bad)
		}
	}
	q, _ := QuarantineKeys("mop-mtd", "MTRA", "s9", "D0150_1.dat")
	if k, ok := ParseQuarantineKey(q); !ok || k.Type != "mop-mtd" || k.MPID != "MTRA" || k.Submission != "s9" || k.Rejected || k.Name != "D0150_1.dat" {
		t.Errorf("%s: %+v %v", q, k, ok)
	}
	if k, ok := ParseQuarantineKey(RejectedKey("mop-mtd", "MTRA", "s9", "D0150_1.dat")); !ok || !k.Rejected {
		t.Errorf("rejected key: %+v %v", k, ok)
	}
	if _, ok := ParseQuarantineKey("reports/mop-mtd/mpid=MTRA/s9/D0150_1.dat.report.json"); ok {
		t.Error("a report key parsed as quarantine")
	}
}
