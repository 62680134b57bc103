package cut

import (
	"strings"
	"testing"
)

func TestParseInboxKeyChecksNames(t *testing.T) {
	f, err := ParseInboxKey("inbox/BRGT/ees/EES_0001.csv")
	if err != nil || f.MPID != "BRGT" || f.Type != "ees" || f.Name != "EES_0001.csv" {
		t.Fatalf("got %+v, %v", f, err)
	}
	for key, want := range map[string]string{
		"inbox/mpid=EVIL/ees/a.csv": `folder "mpid=EVIL" is not an MPID`,
		"inbox/.../ees/a.csv":       `folder "..." is not an MPID`,
		"inbox/.hid/ees/a.csv":      `folder ".hid" is not an MPID`,
		"inbox/MP X/ees/a.csv":      `folder "MP X" is not an MPID`,
		"inbox/brgt/ees/a.csv":      `folder "brgt" is not an MPID`,
		"inbox/BRGT/EES/a.csv":      `folder "EES" is not a cut type name`,
		"inbox/BRGT/ees/.DS_Store":  `hidden file ".DS_Store"`,
		"inbox/BRGT/ees/x/a.csv":    "not of the form inbox/<MPID>/<cut type>/<file>",
		"inbox/BRGT/a.csv":          "not of the form",
	} {
		if _, err := ParseInboxKey(key); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", key, err, want)
		}
	}
}

// A corrected file uploaded under the same name must never overwrite the
// copy kept of the broken one, and no upload can land on a report.
func TestQuarantineKeysNeverCollide(t *testing.T) {
	a, ra := QuarantineKeys("ees", "BRGT", "A.csv", strings.Repeat("a", 64))
	b, rb := QuarantineKeys("ees", "BRGT", "A.csv", strings.Repeat("b", 64))
	if a == b || ra == rb {
		t.Fatalf("two contents under one key: %s %s", a, b)
	}
	c, _ := QuarantineKeys("ees", "BRGT", "A.csv.report.json", strings.Repeat("a", 64))
	if c == ra || !strings.HasPrefix(ra, ReportsRoot) || !strings.HasPrefix(a, QuarantineRoot) {
		t.Fatalf("a report shares the quarantine: %s %s %s", a, ra, c)
	}
}

func TestParseCutAndQuarantineKeys(t *testing.T) {
	k, ok := ParseCutKey("cuts/ees/mpid=BRGT/cut=abc/ees_portfolio.parquet")
	if !ok || k.Type != "ees" || k.MPID != "BRGT" || k.ID != "abc" || k.Prefix != Prefix("ees", "BRGT", "abc") || k.Marker || k.Name != "ees_portfolio.parquet" {
		t.Errorf("table key: %+v %v", k, ok)
	}
	if k, ok := ParseCutKey(MarkerKey("ees", "BRGT", "l1")); !ok || !k.Marker || k.ID != "" || k.MPID != "BRGT" {
		t.Errorf("marker key: %+v %v", k, ok)
	}
	for _, bad := range []string{"cuts/ees/BRGT/cut=a/x", "cuts/ees/mpid=BRGT/x/y", "cuts/ees/mpid=BRGT/cut=a", "inbox/ees/mpid=BRGT/cut=a/x"} {
		if _, ok := ParseCutKey(bad); ok {
			t.Errorf("%s parsed as a cut key", bad)
		}
	}
	q, _ := QuarantineKeys("mop-mtd", "MTRA", "D0150_1.dat", strings.Repeat("c", 64))
	if c, m, ok := ParseQuarantineKey(q); !ok || c != "mop-mtd" || m != "MTRA" {
		t.Errorf("%s: %s %s %v", q, c, m, ok)
	}
	if _, _, ok := ParseQuarantineKey("reports/mop-mtd/mpid=MTRA/cccc/D0150_1.dat.report.json"); ok {
		t.Error("a report key parsed as quarantine")
	}
}
