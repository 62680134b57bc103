package programme

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/pipelines"
)

func builtInTypes(t testing.TB) cut.Types {
	t.Helper()
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	return types
}

const good = `version: "2026.12-1"
organisations:
  - name: Bright Energy
    sit: true
    cohort: SIT-A
    mpids:
      - {mpid: BRGT, roles: [supplier]}
  - name: Meterworks Group
    sit: true
    mpids:
      - {mpid: MTRA, roles: [mop]}
      - {mpid: MTRB, roles: [mop]}
  - name: Horizon Supply
    sit: false
    mpids:
      - {mpid: HRZN, roles: [supplier]}
  - name: Agents United
    sit: true
    mpids:
      - {mpid: AGNT, roles: [dc, da]}
  - name: Eastern
    sit: true
    mpids:
      - {mpid: EELC, roles: [distributor, registration]}
supplies:
  supplier:
    ees: {refresh: 168h}
    supplier-customer: {due: 2027-01-29}
  mop:
    mop-mtd: {due: 2027-01-29}
  registration:
    registration: {due: 2027-02-05}
`

func load(t *testing.T, text string) *Register {
	t.Helper()
	r, err := Decode("programme.yaml", []byte(text), builtInTypes(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLoadGood(t *testing.T) {
	r := load(t, good)
	if r.Version != "2026.12-1" || len(r.Organisations) != 5 || r.MPIDCount() != 6 {
		t.Fatalf("got %+v", r)
	}
	if o := r.Org("MTRB"); o == nil || o.Name != "Meterworks Group" || !o.SIT {
		t.Fatalf("Org(MTRB) = %+v", o)
	}
	if o := r.Org("HRZN"); o == nil || o.SIT {
		t.Fatalf("Org(HRZN) = %+v, want non-SIT", o)
	}
	if r.Org("NONE") != nil {
		t.Fatal("Org of an unknown MPID is not nil")
	}
	want := []Expectation{
		{CutType: "ees", Role: "supplier", Refresh: 168 * time.Hour},
		{CutType: "supplier-customer", Role: "supplier", Due: time.Date(2027, 1, 29, 0, 0, 0, 0, time.UTC)},
	}
	got := r.Expected("BRGT")
	if len(got) != len(want) {
		t.Fatalf("Expected(BRGT) = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Expected(BRGT)[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := r.Expected("EELC"); len(got) != 1 || got[0].CutType != "registration" || got[0].Due.Day() != 5 {
		t.Fatalf("Expected(EELC) = %+v", got)
	}
	if got := r.Expected("AGNT"); len(got) != 0 {
		t.Fatalf("Expected(AGNT) = %+v, want nothing (dc and da supply no cut)", got)
	}
	if got := r.Expected("NONE"); got != nil {
		t.Fatalf("Expected(NONE) = %+v", got)
	}
}

// Every mistake is reported at its key, all at once.
func TestProblemsAtTheirKeys(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           []string // "line:col: substring"
	}{
		{"unknown key", "    cohort: SIT-A\n", "    cohort: SIT-A\n    colour: red\n", []string{"6:5: unknown key \"colour\""}},
		{"bad MPID", "{mpid: BRGT,", "{mpid: brgt,", []string{"7:10: MPID \"brgt\" must be 4 characters"}},
		{"long MPID", "{mpid: BRGT,", "{mpid: BRGTX,", []string{"7:10: MPID \"BRGTX\" must be 4 characters"}},
		{"MPID in two organisations", "{mpid: HRZN,", "{mpid: BRGT,", []string{"16:10: MPID BRGT is already an MPID of organisation \"Bright Energy\""}},
		{"MPID twice in one organisation", "{mpid: MTRB,", "{mpid: MTRA,", []string{"12:10: MPID MTRA is listed twice"}},
		{"unknown role", "[dc, da]", "[dc, hhdc]", []string{"20:34: unknown role \"hhdc\" (one of supplier, mop, dc, da, distributor, registration, ees)"}},
		{"role twice", "[dc, da]", "[dc, dc]", []string{"20:34: role dc is listed twice"}},
		{"no roles", "[dc, da]", "[]", []string{"20:22: MPID AGNT has no roles"}},
		{"unknown supplies role", "  mop:\n", "  meterop:\n", []string{"29:3: unknown role \"meterop\""}},
		{"unknown cut type", "    mop-mtd: {due", "    mop-mdt: {due", []string{"30:5: unknown cut type \"mop-mdt\" (defined: ees, mop-mtd, registration, supplier-customer)"}},
		{"due and refresh", "ees: {refresh: 168h}", "ees: {refresh: 168h, due: 2027-01-01}", []string{"27:5: supplier supplies ees: give due or refresh, not both"}},
		{"neither", "ees: {refresh: 168h}", "ees: {}", []string{"27:5: supplier supplies ees: give due (a date"}},
		{"bad duration", "refresh: 168h", "refresh: 7d", []string{"27:11: refresh \"7d\" is not a positive duration"}},
		{"negative duration", "refresh: 168h", "refresh: -1h", []string{"27:11: refresh \"-1h\" is not a positive duration"}},
		{"bad date", "{due: 2027-01-29}\n  mop", "{due: 2027-13-01}\n  mop", []string{"28:25: due \"2027-13-01\" is not a date YYYY-MM-DD"}},
		{"same name", "name: Horizon Supply", "name: Bright Energy", []string{"13:5: organisation \"Bright Energy\" is named twice"}},
		{"empty name", "name: Horizon Supply", "name: \"\"", []string{"13:5: organisation 3 has no name"}},
		{"sit missing", "    sit: false\n", "", []string{"13:5: organisation \"Horizon Supply\": say sit: true"}},
		{"no version", `version: "2026.12-1"`, `version: ""`, []string{"1:1: version is empty"}},
		{"wrong type", "sit: false", "sit: maybe", []string{"14:5: cannot unmarshal !!str `maybe` into bool"}},
		{"all at once", "{mpid: BRGT,", "{mpid: brgt,", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(good, tc.old, tc.new, 1)
			if text == good {
				t.Fatalf("%q is not in the register", tc.old)
			}
			if tc.name == "all at once" {
				text = strings.Replace(text, "[dc, da]", "[dc, hhdc]", 1)
				text = strings.Replace(text, "refresh: 168h", "refresh: 7d", 1)
				tc.want = []string{"7:10: MPID \"brgt\"", "20:34: unknown role", "27:11: refresh \"7d\""}
			}
			_, err := Decode("programme.yaml", []byte(text), builtInTypes(t))
			var de *defs.Error
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a *defs.Error", err)
			}
			if len(de.Problems) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(de.Problems), len(tc.want), err)
			}
			for i, w := range tc.want {
				if got := de.Problems[i].String(); !strings.HasPrefix(got, "programme.yaml:"+w[:strings.Index(w, ": ")]) || !strings.Contains(got, w[strings.Index(w, ": ")+2:]) {
					t.Errorf("problem %d: got %q, want %q", i, got, w)
				}
			}
		})
	}
}

func TestMaySend(t *testing.T) {
	r := load(t, good)
	for _, tc := range []struct {
		name, folder, sender, cut string
		want                      string // "" for allowed, else parts of the message
	}{
		{"own MPID", "BRGT", "BRGT", "supplier-customer", ""},
		{"refreshed cut", "BRGT", "BRGT", "ees", ""},
		{"sibling MPID", "MTRA", "MTRB", "mop-mtd", ""},
		{"registration service", "EELC", "EELC", "registration", ""},
		{"MPID of another organisation", "BRGT", "HRZN", "supplier-customer", `sender HRZN may not send for BRGT: it is an MPID of "Horizon Supply", not BRGT nor another MPID of "Bright Energy" (BRGT)`},
		{"sender not in the register", "MTRA", "ZZZZ", "mop-mtd", `sender ZZZZ may not send for MTRA: it is not in the programme register, not MTRA nor another MPID of "Meterworks Group" (MTRA, MTRB)`},
		{"unknown folder MPID", "ZZZZ", "ZZZZ", "mop-mtd", "inbox folder ZZZZ is not an MPID of the programme register"},
		{"sender field not an MPID", "BRGT", "J Sm", "ees", `the sender in the file's header is not an MPID (4 characters A-Z, 0-9), so it cannot be BRGT or another MPID of "Bright Energy"`},
		{"role does not supply the cut", "BRGT", "BRGT", "mop-mtd", `BRGT of "Bright Energy" may not send cut type mop-mtd: it needs the role mop (BRGT has roles supplier)`},
		{"sibling without the role", "MTRA", "MTRB", "registration", `MTRB of "Meterworks Group" may not send cut type registration: it needs the role registration (MTRA has roles mop, MTRB has roles mop)`},
		{"cut nobody supplies", "AGNT", "AGNT", "other", `no role supplies cut type other in the programme register (AGNT of "Agents United" may not send it)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.MaySend(tc.folder, tc.sender, tc.cut)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var se *SenderError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *SenderError", err)
			}
			wantSender := tc.sender
			if !cut.IsMPID(wantSender) {
				wantSender = "" // a header field that is not an MPID is never kept
			}
			if se.Rule != "header.sender" || se.Folder != tc.folder || se.Sender != wantSender || se.CutType != tc.cut {
				t.Errorf("got %+v", se)
			}
			if se.Error() != tc.want {
				t.Errorf("message\n got %s\nwant %s", se.Error(), tc.want)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("version: x\norganisations: [{name: a, sit: true, mpids: [{mpid: AAAA, roles: [supplier]}]}]\nsupplies: {supplier: {ees: {due: x}}}\n"))
	f.Add([]byte("supplies: {x: 1}\n"))
	f.Add([]byte("organisations: [1, {mpids: [x]}]"))
	types := builtInTypes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode("p.yaml", b, types)
		if err != nil {
			var de *defs.Error
			if !errors.As(err, &de) {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		for _, o := range r.Organisations {
			for _, m := range o.MPIDs {
				_ = r.MaySend(m.MPID, m.MPID, "ees")
				_ = r.Expected(m.MPID)
			}
		}
	})
}
