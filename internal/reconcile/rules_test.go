package reconcile

import (
	"errors"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/pipelines"
)

func testTypes(t testing.TB) Types {
	t.Helper()
	types, err := LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	return types
}

// The built-in rules load, and hold rules 1 to 8 of the issue: a rule of
// every kind.
func TestBuiltInRules(t *testing.T) {
	r := builtIn(t)
	byKind := map[string]int{}
	for _, x := range r.Rules {
		byKind[x.Kind]++
	}
	for _, k := range kindNames() {
		if byKind[k] == 0 {
			t.Errorf("the built-in rules have no rule of kind %s", k)
		}
	}
	if !strings.HasPrefix(r.Hash, "sha256:") || r.Version == "" {
		t.Fatalf("rules hash %q version %q", r.Hash, r.Version)
	}
}

const goodRules = `version: "1"
senders: {registration: P, ees: X, mop-mtd: M, supplier-customer: X}
rules:
  - name: pc
    kind: compare
    attribute: profile class
    authority: {cut: registration, table: d0204_448, item: J0071}
    others:
      - {cut: ees, table: ees_portfolio, item: J0071}
`

// Adding a comparison is YAML only: a new compare rule of any item the
// tables carry loads.
func TestRuleIsYAML(t *testing.T) {
	src := goodRules + `  - name: smets
    kind: compare
    attribute: SMETS version
    severity: warning
    authority: {cut: registration, table: d0204_91h, item: J1839}
    others:
      - {cut: ees, table: ees_portfolio, item: J0483}
`
	r, err := Parse("r.yaml", []byte(src), testTypes(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rules) != 2 || r.Rules[1].Severity != SevWarning || r.Rules[0].Severity != SevError {
		t.Fatalf("rules %+v", r.Rules)
	}
}

// Strict: unknown keys, names that do not exist in the cut definitions or
// the catalogue, and keys of another kind are refused, each at its line
// and naming the valid choices.
func TestRulesStrict(t *testing.T) {
	types := testTypes(t)
	for _, c := range []struct{ name, from, to, want string }{
		{"unknown top key", "rules:\n", "rulez: []\nrules:\n", "rulez"},
		{"unknown rule key", "    kind: compare\n", "    kind: compare\n    colour: red\n", "colour"},
		{"unknown kind", "kind: compare", "kind: comparison", "compare, missing, orphan, linked, customer-missing"},
		{"unknown cut", "{cut: ees, table", "{cut: eess, table", `cut type "eess"`},
		{"unknown table", "table: d0204_448,", "table: d0204_999,", `table "d0204_999"`},
		{"table of another cut", "table: d0204_448,", "table: d0150_288,", `table "d0150_288"`},
		{"item not in table", "item: J0071}\n    others", "item: J0084}\n    others", `item "J0084"`},
		{"key of another kind", "    others:\n", "    held_in: [d0150_288]\n    others:\n", "held_in is not a key of kind compare"},
		{"no authority", "    authority: {cut: registration, table: d0204_448, item: J0071}\n", "", "needs authority"},
		{"bad severity", "    kind: compare\n", "    kind: compare\n    severity: fatal\n", "error or warning"},
		{"bad name", "name: pc", "name: PC!", "name"},
		{"recipient of a CSV", "{cut: ees, table: ees_portfolio, item: J0071}", "{cut: ees, table: ees_portfolio, item: ZHV.to}", "not a D-flow cut"},
		{"sender role", "registration: P,", "registration: PP,", "one DTC role code"},
		{"no version", `version: "1"`, `version: ""`, "version is required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(goodRules, c.from, c.to, 1)
			if src == goodRules {
				t.Fatalf("the case changes nothing")
			}
			_, err := Parse("r.yaml", []byte(src), types)
			var de *defs.Error
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a definition error", err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "r.yaml:") {
				t.Fatalf("error %q does not say %q at a line", err, c.want)
			}
		})
	}
}

// Twice the same name is refused.
func TestRuleNamesUnique(t *testing.T) {
	src := goodRules + strings.SplitAfterN(goodRules, "rules:\n", 2)[1]
	if _, err := Parse("r.yaml", []byte(src), testTypes(t)); err == nil || !strings.Contains(err.Error(), "named twice") {
		t.Fatalf("got %v", err)
	}
}

// The rules file is outside input: no bytes make the parser panic or hang.
func FuzzParseRules(f *testing.F) {
	f.Add([]byte(goodRules))
	b, _ := pipelines.FS.ReadFile(RulesFile)
	f.Add(b)
	f.Add([]byte("rules: [~, {kind: linked}, {kind: missing, unless: {in: []}}]"))
	types := testTypes(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse("f.yaml", b, types)
		if err == nil && (r == nil || len(r.Rules) == 0) {
			t.Fatal("accepted rules without a rule")
		}
	})
}
