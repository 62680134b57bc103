package plan

import (
	"errors"
	"io/fs"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/pipelines"
)

// rulesFile is the reconciliation rules file beside the plans
// (reconcile.RulesFile; plan does not import reconcile, which reads cuts).
const rulesFile = "reconcile.yaml"

// RuleIDs are the names of the reconciliation rules in fsys's
// reconcile.yaml, in file order: what policy.exclude_findings may list. A
// definitions directory without one falls back to the built-in rules.
func RuleIDs(fsys fs.FS) ([]string, error) {
	b, err := fs.ReadFile(fsys, rulesFile)
	if errors.Is(err, fs.ErrNotExist) && fsys != fs.FS(pipelines.FS) {
		b, err = fs.ReadFile(pipelines.FS, rulesFile)
	}
	if err != nil {
		return nil, err
	}
	var f struct {
		Rules []struct {
			Name string `yaml:"name"`
		} `yaml:"rules"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, err // datacut lint reports it at file:line
	}
	var out []string
	for _, r := range f.Rules {
		out = append(out, r.Name)
	}
	return out, nil
}

// builtInRuleIDs are the built-in rules' names (nil if they do not read,
// which the tests of pipelines catch).
func builtInRuleIDs() []string {
	ids, _ := RuleIDs(pipelines.FS)
	return ids
}

// validateExcludeFindings checks policy.exclude_findings: each a rule of
// the reconciliation rules, listed once.
func (p *Plan) validateExcludeFindings(doc *defs.Doc, root *yaml.Node) {
	for i, r := range p.Policy.ExcludeFindings {
		at := item(root, i, "policy", "exclude_findings")
		switch {
		case !slices.Contains(p.rules, r):
			doc.FailAt(at, "policy.exclude_findings: unknown reconciliation rule %q (one of %s: the rules of %s that datacut reconcile checks)",
				r, strings.Join(p.rules, ", "), rulesFile)
		case slices.Contains(p.Policy.ExcludeFindings[:i], r):
			doc.FailAt(at, "policy.exclude_findings lists %s twice", r)
		}
	}
}
