package mpan

import "testing"

func TestCheckDigitWorkedExample(t *testing.T) {
	// DOMAIN.md section 3: 101234567890 -> sum 1334, 1334 mod 11 = 3.
	got, err := Complete("101234567890")
	if err != nil || got != "1012345678903" {
		t.Fatalf("Complete = %q, %v; want 1012345678903", got, err)
	}
}

func TestRemainderTenBecomesZero(t *testing.T) {
	found := 0
	for n := uint64(0); n < 200 && found == 0; n++ {
		p := Format(10, n)[:12]
		sum := 0
		for i := 0; i < 12; i++ {
			sum += int(p[i]-'0') * weights[i]
		}
		if sum%11 == 10 {
			found++
			if CheckDigit(p) != '0' {
				t.Fatalf("prefix %s: remainder 10 must give check digit 0, got %c", p, CheckDigit(p))
			}
		}
	}
	if found == 0 {
		t.Fatal("no remainder-10 prefix in range; widen the search")
	}
}

func TestProblem(t *testing.T) {
	cases := map[string]string{
		"1012345678903":  "",
		"1012345678904":  "MPAN core check digit is wrong",
		"101234567890":   "MPAN core must be 13 digits",
		"10123456789034": "MPAN core must be 13 digits",
		"10123456789A3":  "MPAN core must be 13 digits",
	}
	for in, want := range cases {
		if got := Problem(in); got != want {
			t.Errorf("Problem(%q) = %q, want %q", in, got, want)
		}
		if got := Problem([]byte(in)); got != want {
			t.Errorf("Problem([]byte %q) = %q, want %q", in, got, want)
		}
	}
}

func TestDistributors(t *testing.T) {
	d, ok := DistributorOf("1712345678901")
	if !ok || d.MPID != "HYDE" || d.GSPGroup != "_P" || d.IDNO {
		t.Fatalf("17 = %+v %v", d, ok)
	}
	d, ok = DistributorOf("2612345678901")
	if !ok || !d.IDNO || d.GSPGroup != "" || d.MPID != "GUCL" {
		t.Fatalf("26 = %+v %v", d, ok)
	}
	if _, ok := DistributorOf("99"); ok {
		t.Fatal("99 should be unknown")
	}
	dnos, gsps := 0, map[string]bool{}
	for _, d := range Distributors() {
		if !d.IDNO {
			dnos++
			gsps[d.GSPGroup] = true
			if !IsGSPGroup(d.GSPGroup) {
				t.Errorf("%s has invalid GSP group %q", d.ID, d.GSPGroup)
			}
		}
	}
	if dnos != 14 || len(gsps) != 14 {
		t.Fatalf("want 14 DNOs over 14 GSP groups, got %d over %d", dnos, len(gsps))
	}
}

func TestFormatValid(t *testing.T) {
	for i := uint64(0); i < 1000; i++ {
		if c := Format(23, i*7919); !Valid(c) {
			t.Fatalf("Format produced invalid %s", c)
		}
	}
}
