package plan

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/pipelines"
)

// policy.exclude_findings names reconciliation rules: an unknown one, or
// one listed twice, is refused at its value with the rules to choose from.
func TestExcludeFindingsLint(t *testing.T) {
	types := builtInTypes(t)
	p, err := Decode("x.yaml", []byte(head+"policy:\n  exclude_findings: [mtd-missing, supplier]\n"+env), types)
	if err != nil || !slices.Equal(p.Policy.ExcludeFindings, []string{"mtd-missing", "supplier"}) {
		t.Fatalf("valid rules: %v, %v", p, err)
	}
	ids, err := RuleIDs(pipelines.FS)
	if err != nil || len(ids) < 17 || ids[0] != "supplier" {
		t.Fatalf("built-in rule ids %v, %v", ids, err)
	}
	for _, c := range []struct{ name, yaml, want string }{
		{"unknown rule", head + "policy:\n  exclude_findings: [mtd-missing, mtd-mising]\n" + env,
			`x.yaml:5:35: policy.exclude_findings: unknown reconciliation rule "mtd-mising" (one of ` + strings.Join(ids, ", ") + ": the rules of reconcile.yaml"},
		{"rule twice", head + "policy:\n  exclude_findings: [orphan, orphan]\n" + env, "x.yaml:5:30: policy.exclude_findings lists orphan twice"},
		{"not a list", head + "policy:\n  exclude_findings: {orphan: 1}\n" + env, "x.yaml:5:3: cannot unmarshal !!map into []string"},
	} {
		_, err := Decode("x.yaml", []byte(c.yaml), types)
		var de *defs.Error
		if !errors.As(err, &de) || len(de.Problems) != 1 || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v, want one problem: %s", c.name, err, c.want)
		}
	}
}

// Plans in a definitions directory are checked against its own
// reconcile.yaml; one without falls back to the built-in rules.
func TestExcludeFindingsRulesOfTheDirectory(t *testing.T) {
	types := builtInTypes(t)
	plan := []byte(head + "policy: {exclude_findings: [my-rule]}\n" + env)
	own := fstest.MapFS{"plans/x.yaml": {Data: plan}, "reconcile.yaml": {Data: []byte("version: t\nrules:\n  - name: my-rule\n  - name: other\n")}}
	if _, err := Load(own, types); err != nil {
		t.Fatalf("a rule of the directory's reconcile.yaml: %v", err)
	}
	_, err := Load(fstest.MapFS{"plans/x.yaml": {Data: plan}}, types)
	if err == nil || !strings.Contains(err.Error(), `unknown reconciliation rule "my-rule" (one of supplier, mop,`) {
		t.Fatalf("no reconcile.yaml: %v, want the built-in rules listed", err)
	}
}
