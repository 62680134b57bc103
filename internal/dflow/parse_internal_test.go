package dflow

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDaysFromCivilMatchesTime(t *testing.T) {
	for d := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() <= 9999; d = d.AddDate(0, 0, 1) {
		want := d.Unix() / 86400 // midnight: exact, negative too
		if got := daysFromCivil(d.Year(), int(d.Month()), d.Day()); got != want {
			t.Fatalf("%s: %d days, want %d", d.Format("2006-01-02"), got, want)
		}
	}
}

func TestParseIntMatchesStrconv(t *testing.T) {
	for _, s := range []string{"0", "7", "-7", "+7", "007", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "99999999999999999999", "", "-", "+", "1a", " 1", "1.0", "--1"} {
		got, ok := parseInt([]byte(s))
		want, err := strconv.ParseInt(s, 10, 64)
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("parseInt(%q) = %d, %v; strconv says %d, %v", s, got, ok, want, err)
		}
	}
}

// groupOf finds what Group finds, for every code of every flow, and
// nothing for codes a flow does not have.
func TestGroupOfMatchesGroup(t *testing.T) {
	for _, f := range DefaultCatalog().Flows {
		for _, g := range f.Groups {
			if got := f.groupOf([]byte(g.Code)); got != g {
				t.Fatalf("%s: groupOf(%q) = %v", f.Key(), g.Code, got)
			}
		}
		for _, code := range []string{"", "0", "ZZ", "ZZZ", "ZZZZ", "28", "2800"} {
			if got, want := f.groupOf([]byte(code)), f.Group(code); got != want {
				t.Fatalf("%s: groupOf(%q) = %v, want %v", f.Key(), code, got, want)
			}
		}
	}
}

// InValidSet's packed scan agrees with the set itself, for every item with
// an enumeration, on its members and on near misses.
func TestInValidSetMatchesTheSet(t *testing.T) {
	for ref, it := range DefaultCatalog().Items {
		if it.valid == nil {
			continue
		}
		probes := []string{"", "0", "00000000", "A", "a"}
		for _, v := range it.ValidSet {
			probes = append(probes, v, v+" ", v[:len(v)-1], strings.ToLower(v), v+"\x00")
		}
		for _, p := range probes {
			_, want := it.valid[p]
			if got := it.InValidSet([]byte(p)); got != want {
				t.Fatalf("%s: InValidSet(%q) = %v, want %v", ref, p, got, want)
			}
		}
	}
}
