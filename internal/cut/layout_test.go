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
