package dflow_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// edit rewrites a generated file: the ZHV's to role code, the records of
// the groups dropped, and a trailer recounted (every body record; flow
// count: the records of the flow-count groups).
func edit(t *testing.T, data, toRole string, drop ...string) string {
	t.Helper()
	lines := linesOf(data)
	h := strings.Split(lines[0], "|")
	h[5] = toRole
	lines[0] = strings.Join(h, "|")
	f := dflow.DefaultCatalog().Flow(h[2][:5], h[2][5:])
	out := []string{lines[0]}
	flows := 0
	for _, l := range lines[1 : len(lines)-1] {
		code := l[:strings.IndexByte(l, '|')]
		dropped := false
		for _, d := range drop {
			dropped = dropped || code == d
		}
		if dropped {
			continue
		}
		if g := f.Group(code); g != nil && g.FlowCounted() {
			flows++
		}
		out = append(out, l)
	}
	out = append(out, fmt.Sprintf("ZPT|F000000001|%d||%d|20240101120001|", len(out)-1, flows))
	return strings.Join(out, "\n") + "\n"
}

func byRule(res result) map[string][]dflow.Finding {
	m := map[string][]dflow.Finding{}
	for _, in := range res.instances {
		for _, f := range in.findings {
			m[f.Rule] = append(m[f.Rule], f)
		}
	}
	for _, f := range res.file {
		m[f.Rule] = append(m[f.Rule], f)
	}
	return m
}

// TestD0155ConditionalOnRecipient: a D0155 carries the MOP's effective date
// (317) to a Meter Operator and the DC's (316, with the reading cycle 320)
// to a Data Collector; neither is rejected for the other's groups.
func TestD0155ConditionalOnRecipient(t *testing.T) {
	base := genFile(t, "D0155001", 2)
	for _, tc := range []struct {
		name, role string
		drop       []string
		errs       []string // groups reported missing as errors
		warns      []string // groups reported missing as warnings
	}{
		{"to a MOP, 317 only", "M", []string{"316", "320"}, nil, nil},
		{"to an NHHDC, 316 and 320", "D", []string{"317"}, nil, nil},
		{"to an HHDC, 316 and 320", "C", []string{"317"}, nil, nil},
		{"to a MOP without 317", "M", []string{"316", "317", "320"}, []string{"317", "317"}, nil},
		{"to an NHHDC without 316 nor 320", "D", []string{"316", "320", "317"}, []string{"320", "316", "320", "316"}, nil},
		// The catalogue text does not decide 320 for an HHDC.
		{"to an HHDC without 320", "C", []string{"317", "320"}, nil, []string{"320", "320"}},
		// A role code the corrections do not map: nothing decided.
		{"to an unknown role", "Z", []string{"316", "317", "320"}, nil, []string{"320", "316", "317", "320", "316", "317"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := read(t, edit(t, base, tc.role, tc.drop...), dflow.Options{})
			if res.broken != nil || len(res.instances) != 2 {
				t.Fatalf("broken=%v instances=%d", res.broken, len(res.instances))
			}
			got := byRule(res)
			var errs, warns []string
			for _, f := range got[dflow.RuleCardMin] {
				errs = append(errs, missing(f))
			}
			for _, f := range got[dflow.RuleCondUndecided] {
				if f.Severity != dflow.SevWarning {
					t.Errorf("undecided condition is not a warning: %s", f)
				}
				warns = append(warns, missing(f))
			}
			if fmt.Sprint(errs) != fmt.Sprint(tc.errs) || fmt.Sprint(warns) != fmt.Sprint(tc.warns) {
				t.Fatalf("errors for %v (want %v), warnings for %v (want %v); findings %v", errs, tc.errs, warns, tc.warns, got)
			}
			if res.stats.Errors != len(tc.errs) || res.stats.Warnings != len(tc.warns) {
				t.Fatalf("stats %+v", res.stats)
			}
			for _, in := range res.instances {
				if in.rejected != (len(tc.errs) > 0) {
					t.Fatalf("instance %d rejected=%v", in.ordinal, in.rejected)
				}
			}
		})
	}
}

// missing names the group a cardinality finding says is missing.
func missing(f dflow.Finding) string {
	for _, code := range []string{"316", "317", "320", "48M"} {
		if strings.Contains(f.Message, "group "+code+" (") || strings.Contains(f.Message, "child group "+code) {
			return code
		}
	}
	return "?" + f.Message
}

// TestRelatedMPANsConditionalOnIndicator: D0204's Related MPANs (48M) are
// required when the parent's Related MPAN Indicator (J2245) says T, may be
// left out for F, and an other value decides nothing (a warning).
func TestRelatedMPANsConditionalOnIndicator(t *testing.T) {
	base := genFile(t, "D0204002", 1)
	for _, tc := range []struct {
		indicator string
		errs      int
		warns     int
	}{{"T", 1, 0}, {"F", 0, 0}, {"N", 0, 1}} {
		t.Run(tc.indicator, func(t *testing.T) {
			lines := linesOf(base)
			for i, l := range lines {
				if strings.HasPrefix(l, "47M|") {
					lines[i] = "47M|" + tc.indicator + "|"
				}
			}
			res := read(t, edit(t, strings.Join(lines, "\n")+"\n", "X", "48M"), dflow.Options{})
			got := byRule(res)
			if res.broken != nil || len(got[dflow.RuleCardMin]) != tc.errs || len(got[dflow.RuleCondUndecided]) != tc.warns || res.stats.Errors != tc.errs {
				t.Fatalf("broken=%v findings %v stats %+v", res.broken, got, res.stats)
			}
			for _, fs := range got {
				for _, f := range fs {
					if strings.Contains(f.Message, "|"+tc.indicator+"|") {
						t.Fatalf("finding carries the value: %s", f)
					}
				}
			}
		})
	}
}

func TestEmbeddedCorrectionsApply(t *testing.T) {
	cat := dflow.DefaultCatalog()
	if cat.Corrections == nil || cat.Corrections.Conditional == 0 {
		t.Fatal("the embedded corrections are not applied")
	}
	for _, g := range []string{"316", "317", "320"} {
		if cat.Flow("D0155", "001").Group(g).Cond == nil {
			t.Fatalf("D0155 group %s is not conditional", g)
		}
	}
	for _, g := range []string{"315", "318"} {
		if cat.Flow("D0155", "001").Group(g).Cond != nil {
			t.Fatalf("D0155 group %s is conditional", g)
		}
	}
}

// TestCorrectionsLint: the corrections file is decoded strictly and may
// name only what the catalogue has.
func TestCorrectionsLint(t *testing.T) {
	const ok = `version: 1
roles: {M: MOP, D: NHHDC}
conditional:
  - flow: D0155
    group: "317"
    on: recipient
    required: [MOP]
    optional: [NHHDC]
    why: DTC D0155 item J0210 is the MOP's appointment.
`
	fresh := func() *dflow.Catalog {
		c, err := dflow.ParseCatalog(dflow.CatalogJSON())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := fresh().ApplyCorrections([]byte(ok)); err != nil {
		t.Fatalf("valid corrections refused: %v", err)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown key", "    why:", "    because: x\n    why:", "field because not found"},
		{"version", "version: 1", "version: 2", "version must be 1"},
		{"unknown flow", "flow: D0155", "flow: D9999", "not in DTC"},
		{"unknown group", `group: "317"`, `group: "999"`, "no version of D0155 has group 999"},
		{"no why", "why: DTC D0155 item J0210 is the MOP's appointment.", "why: because", "why must cite"},
		{"route role never a recipient", "required: [MOP]", "required: [MPAS]", `never sent to "MPAS"`},
		{"role code maps to nothing", "M: MOP", "M: MOPX", "no DTC route role"},
		{"item not in parent", "on: recipient\n    required: [MOP]\n    optional: [NHHDC]", "on: J0219\n    required: [T]", "has no item J0219"},
		{"bad on", "on: recipient", "on: sender", "on must be"},
		{"both", "optional: [NHHDC]", "optional: [MOP]", "both required and optional"},
		{"group already optional", `group: "317"`, `group: "22L"`, "already makes the group optional"},
		{"undecidable with values", "on: recipient", "on: undecidable", "lists no values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(ok, tc.from, tc.to, 1)
			if src == ok {
				t.Fatal("test edit did not apply")
			}
			err := fresh().ApplyCorrections([]byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
