package mask

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Domain is a named masking domain: items sharing a domain are masked with
// the same key, so equal values join across items (every MPAN-typed item
// shares "mpan").
type Domain struct {
	Name            string
	Method          string `yaml:"method"`
	Fake            string `yaml:"fake"`              // option of method fake (method_fake.go)
	Alphabet        string `yaml:"alphabet"`          // option of method identifier (method_identifier.go)
	KeepOutwardCode bool   `yaml:"keep_outward_code"` // option of method fake
	Sensitive       *bool  `yaml:"sensitive"`         // default: every method but keep
	Line            int    `yaml:"-"`
}

// IsSensitive says whether the domain's raw values must never appear in
// outputs, reports or logs.
func (d *Domain) IsSensitive() bool {
	if d.Sensitive != nil {
		return *d.Sensitive
	}
	return d.Method != MethodKeep
}

// Rule assigns a data item to a domain, with an optional constant.
type Rule struct {
	Ref    string
	Domain *Domain
	Value  *string // constant value for method constant
	Line   int
}

// Rules is a loaded, validated DPIA rule set.
type Rules struct {
	Version string
	Hash    string // sha256 of the file bytes
	Path    string
	Domains map[string]*Domain
	Items   map[string]*Rule
}

// Resolver finds a data item by reference: DTC J-refs from the catalogue,
// plus extra items (EES columns without a DTC item).
type Resolver func(ref string) *dflow.Item

// CatalogResolver resolves refs in the DTC catalogue and then in extra.
func CatalogResolver(cat *dflow.Catalog, extra map[string]*dflow.Item) Resolver {
	return func(ref string) *dflow.Item {
		if it := cat.Item(ref); it != nil {
			return it
		}
		return extra[ref]
	}
}

type rulesFile struct {
	Version string               `yaml:"version"`
	Domains map[string]yaml.Node `yaml:"domains"`
	Items   map[string]yaml.Node `yaml:"items"`
}

// LoadRules reads and validates a rules file; errors point at file:line.
func LoadRules(path string, resolve Resolver) (*Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	return ParseRules(filepath.Base(path), b, resolve)
}

// ParseRules validates rules from bytes named name (for messages).
func ParseRules(name string, b []byte, resolve Resolver) (*Rules, error) {
	var f rulesFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sum := sha256.Sum256(b)
	r := &Rules{Version: f.Version, Hash: "sha256:" + hex.EncodeToString(sum[:]), Path: name,
		Domains: map[string]*Domain{}, Items: map[string]*Rule{}}
	var errs []string
	fail := func(line int, format string, a ...any) {
		errs = append(errs, fmt.Sprintf("%s:%d: %s", name, line, fmt.Sprintf(format, a...)))
	}
	if strings.TrimSpace(f.Version) == "" {
		fail(1, "version: a rule set needs a version (it is recorded in every manifest)")
	}
	bad := map[string]bool{} // domains with a problem: their items are not checked
	for _, dn := range sortedKeys(f.Domains) {
		node := f.Domains[dn]
		d := &Domain{Name: dn, Line: node.Line}
		if err := decodeStrict(&node, d); err != nil {
			fail(node.Line, "domain %s: %v", dn, err)
			continue
		}
		if _, msg := checkDomain(d); msg != "" {
			fail(node.Line, "domain %s: %s", dn, msg)
			bad[dn] = true
		}
		r.Domains[dn] = d
	}
	for _, ref := range sortedKeys(f.Items) {
		node := f.Items[ref]
		rule := &Rule{Ref: ref, Line: node.Line}
		var domain string
		switch node.Kind {
		case yaml.ScalarNode:
			domain = node.Value
		case yaml.MappingNode:
			var spec struct {
				Domain string  `yaml:"domain"`
				Value  *string `yaml:"value"`
			}
			if err := decodeStrict(&node, &spec); err != nil {
				fail(node.Line, "item %s: %v", ref, err)
				continue
			}
			domain, rule.Value = spec.Domain, spec.Value
		default:
			fail(node.Line, "item %s: give a domain name or {domain: ..., value: ...}", ref)
			continue
		}
		d := r.Domains[domain]
		it := resolve(ref)
		switch {
		case d == nil:
			fail(node.Line, "item %s: unknown domain %q", ref, domain)
		case it == nil:
			fail(node.Line, "item %s: not a DTC 15.4 data item or a declared extra item", ref)
		case bad[domain]:
			rule.Domain = d
		default:
			rule.Domain = d
			if _, msg := checkRule(rule, it); msg != "" {
				fail(node.Line, "item %s (%s): %s", ref, it.Name, msg)
			}
		}
		r.Items[ref] = rule
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid rules:\n  %s", strings.Join(errs, "\n  "))
	}
	return r, nil
}

// Coverage returns the refs among refs that no rule covers, sorted. A
// pipeline refuses to start while any is missing: masking is fail-closed.
func (r *Rules) Coverage(refs []string) []string {
	var missing []string
	seen := map[string]bool{}
	for _, ref := range refs {
		if _, ok := r.Items[ref]; !ok && !seen[ref] {
			missing = append(missing, ref)
			seen[ref] = true
		}
	}
	sort.Strings(missing)
	return missing
}

// RequireCoverage is Coverage as an error naming every uncovered item.
func (r *Rules) RequireCoverage(what string, refs []string, resolve Resolver) error {
	missing := r.Coverage(refs)
	if len(missing) == 0 {
		return nil
	}
	var b strings.Builder
	for _, ref := range missing {
		name := "?"
		if it := resolve(ref); it != nil {
			name = it.Name
		}
		fmt.Fprintf(&b, "\n  %s (%s)", ref, name)
	}
	return fmt.Errorf("%s: %d data items have no masking rule in %s (add each under items: with a domain):%s", what, len(missing), r.Path, b.String())
}

// Sensitive reports whether an item's raw values must never be shown.
// Items without a rule count as sensitive.
func (r *Rules) Sensitive(ref string) bool {
	rule, ok := r.Items[ref]
	return !ok || rule.Domain.IsSensitive()
}

// FlowRefs lists every data item of the flow versions given as D0150 or
// D0150002 (all versions of an id).
func FlowRefs(cat *dflow.Catalog, flows ...string) []string {
	var refs []string
	for _, key := range flows {
		vs := cat.Versions(key[:min(5, len(key))])
		for _, f := range vs {
			if len(key) == 8 && f.Key() != key {
				continue
			}
			for _, g := range f.Groups {
				for _, fd := range g.Fields {
					refs = append(refs, fd.Ref)
				}
			}
		}
	}
	return refs
}

// decodeStrict decodes a node rejecting unknown keys; the caller adds the
// node's line, so the decoder's own (relative) line numbers are dropped.
func decodeStrict(node *yaml.Node, v any) error {
	b, err := yaml.Marshal(node)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n")
		return errors.New(strings.TrimSpace(relLine.ReplaceAllString(msg, "")))
	}
	return nil
}

var relLine = regexp.MustCompile(`line \d+: `)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
