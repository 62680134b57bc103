package mask

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Domain is a named masking domain: items sharing a domain are masked with
// the same key, so equal values join across items (every MPAN-typed item
// shares "mpan").
type Domain struct {
	Name            string `yaml:"-"`
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

// LoadRules reads and validates a rules file; errors point at
// file:line:col (the file named by its base name).
func LoadRules(path string, resolve Resolver) (*Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	return ParseRules(filepath.Base(path), b, resolve)
}

// LoadRulesFS reads and validates the rules file file of fsys; errors
// point at file:line:col. A file that cannot be read is an error too.
func LoadRulesFS(fsys fs.FS, file string, resolve Resolver) (*Rules, error) {
	f := &rulesFile{resolve: resolve}
	if _, err := defs.Load(fsys, file, f); err != nil {
		return nil, err
	}
	return f.rules, nil
}

// ParseRules validates rules from bytes named name (for messages).
func ParseRules(name string, b []byte, resolve Resolver) (*Rules, error) {
	f := &rulesFile{resolve: resolve}
	if _, err := defs.LoadBytes(name, b, f); err != nil {
		return nil, err
	}
	return f.rules, nil
}

// rulesFile is dpia.yaml as decoded; Validate checks it against the
// methods (methods.go) and the items, and builds the Rules.
type rulesFile struct {
	Version string               `yaml:"version"`
	Domains map[string]*Domain   `yaml:"domains"`
	Items   map[string]yaml.Node `yaml:"items"` // a domain name or {domain: ..., value: ...}

	resolve Resolver
	rules   *Rules
}

// Defaults: a rules file has none; every domain and item is explicit.
func (f *rulesFile) Defaults() {}

// Validate builds f.rules, reporting every domain and item that is wrong,
// in file order.
func (f *rulesFile) Validate(doc *defs.Doc) {
	sum := sha256.Sum256(doc.Bytes)
	r := &Rules{Version: f.Version, Hash: "sha256:" + hex.EncodeToString(sum[:]), Path: doc.File,
		Domains: map[string]*Domain{}, Items: map[string]*Rule{}}
	f.rules = r
	if strings.TrimSpace(f.Version) == "" {
		doc.Fail(defs.Path("version"), "version: a rule set needs a version (it is recorded in every manifest)")
	}
	bad := map[string]bool{} // domains with a problem: their items are not checked
	domains, _ := defs.Child(doc.Root(), "domains")
	eachKey(domains, func(k, v *yaml.Node) {
		d := f.Domains[k.Value]
		if d == nil { // "name:" with nothing after it
			d = &Domain{}
		}
		d.Name, d.Line = k.Value, k.Line
		if key, msg := checkDomain(d); msg != "" {
			doc.FailAt(keyOr(v, key, k), "domain %s: %s", d.Name, msg)
			bad[d.Name] = true
		}
		r.Domains[d.Name] = d
	})
	items, _ := defs.Child(doc.Root(), "items")
	eachKey(items, func(k, v *yaml.Node) {
		ref := k.Value
		rule := &Rule{Ref: ref, Line: k.Line}
		domainNode := v // J0003: mpan
		switch v.Kind {
		case yaml.ScalarNode:
		case yaml.MappingNode:
			var spec struct {
				Domain string  `yaml:"domain"`
				Value  *string `yaml:"value"`
			}
			if !doc.Decode(v, &spec) {
				return
			}
			rule.Value = spec.Value
			if n, _ := defs.Child(v, "domain"); n != nil {
				domainNode = n
			}
		default:
			doc.FailAt(k, "item %s: give a domain name or {domain: ..., value: ...}", ref)
			return
		}
		domain := domainNode.Value
		if domainNode.Kind != yaml.ScalarNode {
			domain = ""
		}
		d := r.Domains[domain]
		it := f.resolve(ref)
		switch {
		case d == nil:
			doc.FailAt(domainNode, "item %s: unknown domain %q", ref, domain)
		case it == nil:
			doc.FailAt(k, "item %s: not a DTC 15.4 data item or a declared extra item", ref)
		case bad[domain]:
			rule.Domain = d
		default:
			rule.Domain = d
			if key, msg := checkRule(rule, it); msg != "" {
				doc.FailAt(keyOr(v, key, k), "item %s (%s): %s", ref, it.Name, msg)
			}
		}
		r.Items[ref] = rule
	})
}

// eachKey calls fn with each key and value of mapping n, in file order.
func eachKey(n *yaml.Node, fn func(k, v *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		fn(n.Content[i], n.Content[i+1])
	}
}

// keyOr is the node of key in mapping n, or else def: a problem with an
// option points at the option.
func keyOr(n *yaml.Node, key string, def *yaml.Node) *yaml.Node {
	if key != "" {
		if _, k := defs.Child(n, key); k != nil {
			return k
		}
	}
	return def
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
