package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
)

// RulesFile is the built-in rules file's name in the definitions directory.
const RulesFile = "reconcile.yaml"

// ItemRecipient is the pseudo-item of a D-flow table that is its file's
// recipient MPID, as the ZHV names it (cut.Input.ToMPID): a registration
// service's D0204 goes to the MPAN's supplier, and states no supplier item.
const ItemRecipient = "ZHV.to"

// Rule kinds: one file each (kind_<name>.go), listed in kinds.
const (
	KindCompare         = "compare"
	KindMissing         = "missing"
	KindOrphan          = "orphan"
	KindLinked          = "linked"
	KindCustomerMissing = "customer-missing"
)

// Severities.
const (
	SevError   = "error"
	SevWarning = "warning"
)

// Rules is a reconciliation rules file (pipelines/reconcile.yaml).
type Rules struct {
	// Version names the rules' revision (it goes into every run's id).
	Version string `yaml:"version"`
	// Senders gives the DTC role code of the participant that sends each
	// cut type (registration: P), which findings name.
	Senders map[string]string `yaml:"senders"`
	// Rules are checked in this order; findings keep it.
	Rules []*Rule `yaml:"rules"`

	// Path, Raw and Hash are the file's, filled in on load.
	Path string `yaml:"-"`
	Raw  []byte `yaml:"-"`
	Hash string `yaml:"-"`

	types Types `yaml:"-"`
}

// Types are what lint checks names against: the cut types and the EES
// columns of each ees-csv cut.
type Types struct {
	Cuts cut.Types
	// EESItems are the data items each ees-csv cut's table carries.
	EESItems map[string][]string
}

// Rule is one check across participants' cuts.
type Rule struct {
	// Name identifies the rule in findings and worklists.
	Name string `yaml:"name"`
	// Kind is how it is checked: compare, missing, orphan, linked,
	// customer-missing.
	Kind string `yaml:"kind"`
	// Attribute is what is compared or looked for, for people.
	Attribute string `yaml:"attribute"`
	// Severity is error or warning; error findings make reconcile exit 1.
	Severity string `yaml:"severity"`
	// Description says what a finding means and what to do.
	Description string `yaml:"description"`

	// Authority (compare) is the authoritative statement of the attribute.
	// MPANs it does not state are not compared.
	Authority *Item `yaml:"authority"`
	// Others (compare) are the statements checked against the authority:
	// one whose value is not among the authority's values for the MPAN is
	// a finding for the participant that made it.
	Others []Item `yaml:"others"`

	// Appointed (missing) says who is appointed to each MPAN: an item
	// holding an MPID, kept in clear by the DPIA rules.
	Appointed *Item `yaml:"appointed"`
	// HolderCut (missing) is the cut type the appointed participant must
	// hold the MPAN in; one that sent no such cut has no finding (datacut
	// status says what it owes).
	HolderCut string `yaml:"holder_cut"`
	// HeldIn (missing) are the tables of HolderCut any of which holding the
	// MPAN is enough.
	HeldIn []string `yaml:"held_in"`
	// Unless (missing) leaves out MPANs for which a statement has one of
	// the values listed (unmetered supplies have no MTD).
	Unless *Filter `yaml:"unless"`

	// Known (orphan) are the tables of the cuts that know MPANs
	// (registration).
	Known []Item `yaml:"known"`
	// Held (orphan) are the tables whose MPANs some table of Known must
	// hold: each row of an MPAN none holds is a finding for its sender.
	Held []Item `yaml:"held"`

	// Links (linked) is the related MPANs' table: an MPAN listed with
	// another (Primary and Secondary) must be listed by it too.
	Links *Item `yaml:"links"`
	// Primary (linked) is the item of Links naming the primary MPAN.
	Primary string `yaml:"primary"`
	// Secondary (linked) is the item of Links naming the secondary MPAN.
	Secondary string `yaml:"secondary"`
	// Supplier (linked, optional) must state the same for MPANs that list
	// each other.
	Supplier *Item `yaml:"supplier"`

	// When (customer-missing) picks a participant's rows that need a
	// customer record: a statement with one of the values listed
	// (domestic premises).
	When *Filter `yaml:"when"`
	// Customer (customer-missing) is the table of the same participant's
	// cut that must hold the MPAN.
	Customer *Item `yaml:"customer"`
}

// Item names a statement: a cut type's table and, where a value is read,
// the data item of its column (a DTC J-ref, or ZHV.to).
type Item struct {
	// Cut is a cut type (pipelines/cuts/<name>.yaml).
	Cut string `yaml:"cut"`
	// Table is one of the tables the cut type publishes: <flow>_<group>
	// (d0204_444) or ees_portfolio.
	Table string `yaml:"table"`
	// Item is the data item read from the table: a DTC J-ref of one of its
	// columns, or ZHV.to, the D-flow file's recipient MPID. Left out where
	// a rule only asks which MPANs the table holds.
	Item string `yaml:"item"`
}

func (i Item) String() string {
	s := i.Cut + "/" + i.Table
	if i.Item != "" {
		s += "." + i.Item
	}
	return s
}

// Filter is a condition on a statement's value.
type Filter struct {
	Item `yaml:",inline"`
	// In are the values that match.
	In []string `yaml:"in"`
}

// LoadTypes reads what lint checks against from a definitions directory.
func LoadTypes(fsys fs.FS) (Types, error) {
	cts, err := cut.LoadTypes(fsys)
	if err != nil {
		return Types{}, err
	}
	t := Types{Cuts: cts, EESItems: map[string][]string{}}
	for _, ct := range cts {
		if ct.Input.Format != "ees-csv" {
			continue
		}
		cols, err := ees.LoadColumnsFS(fsys, ct.Input.Columns, dflow.DefaultCatalog())
		if err != nil {
			return Types{}, err
		}
		for _, h := range cols.Order {
			t.EESItems[ct.Name] = append(t.EESItems[ct.Name], cols.Header[h])
		}
	}
	return t, nil
}

// Load reads and lints the rules file file of fsys.
func Load(fsys fs.FS, file string, types Types) (*Rules, error) {
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	return Parse(file, b, types)
}

// Parse decodes rules strictly (an unknown key is an error) and lints them
// against the cut types and the DTC catalogue; every problem is reported
// at once at file:line:col (a *defs.Error).
func Parse(file string, b []byte, types Types) (*Rules, error) {
	r := &Rules{types: types}
	if _, err := defs.LoadBytes(file, b, r); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	r.Path, r.Raw, r.Hash = file, b, "sha256:"+hex.EncodeToString(sum[:])
	return r, nil
}

// Defaults fills in what a rule may leave out: severity error.
func (r *Rules) Defaults() {
	for _, x := range r.Rules {
		if x != nil && x.Severity == "" {
			x.Severity = SevError
		}
	}
}

var ruleNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// Validate lints the rules: names unique, kinds known, every cut, table
// and item named exists.
func (r *Rules) Validate(doc *defs.Doc) {
	root := doc.Root()
	if r.Version == "" {
		doc.Fail(defs.Path("version"), "version is required (it names the rules' revision in every run)")
	}
	for ct, role := range r.Senders {
		if r.types.Cuts.Named(ct) == nil {
			doc.Fail(defs.Path("senders", ct), "senders names cut type %q, which is not defined (cut types: %s)", ct, strings.Join(r.types.Cuts.Names(), ", "))
		}
		if len(role) != 1 {
			doc.Fail(defs.Path("senders", ct), "the sender's role of %s must be one DTC role code character (P, X, M, ...), got %q", ct, role)
		}
	}
	for _, ct := range r.types.Cuts {
		if _, ok := r.Senders[ct.Name]; !ok {
			doc.Fail(defs.Path("senders"), "senders has no role for cut type %s", ct.Name)
		}
	}
	if len(r.Rules) == 0 {
		doc.Fail(defs.Path("rules"), "rules lists no rule")
	}
	rulesNode, _ := defs.Child(root, "rules")
	seen := map[string]bool{}
	for i, x := range r.Rules {
		var n *yaml.Node
		if rulesNode != nil && i < len(rulesNode.Content) {
			n = rulesNode.Content[i]
		}
		if x == nil {
			doc.FailAt(n, "rule %d is empty", i+1)
			continue
		}
		l := &linter{doc: doc, n: n, types: r.types, rule: x}
		switch {
		case !ruleNameRE.MatchString(x.Name):
			l.fail("name", "rule %d: name %q must be lower-case letters, digits, '_' or '-', starting with a letter", i+1, x.Name)
		case seen[x.Name]:
			l.fail("name", "rule %s is named twice", x.Name)
		}
		seen[x.Name] = true
		if x.Severity != SevError && x.Severity != SevWarning {
			l.fail("severity", "rule %s: severity %q must be error or warning", x.Name, x.Severity)
		}
		k := kindNamed(x.Kind)
		if k == nil {
			l.fail("kind", "rule %s: kind %q is not one of %s", x.Name, x.Kind, strings.Join(kindNames(), ", "))
			continue
		}
		k.lint(l)
		l.unused(k.fields)
	}
}

// linter checks one rule's fields.
type linter struct {
	doc   *defs.Doc
	n     *yaml.Node
	types Types
	rule  *Rule
}

func (l *linter) at(key string) *yaml.Node {
	if v, k := defs.Child(l.n, key); v != nil {
		return k
	}
	return l.n
}

func (l *linter) fail(key, format string, a ...any) { l.doc.FailAt(l.at(key), format, a...) }

// ruleFields are the keys every kind may use.
var ruleFields = []string{"name", "kind", "attribute", "severity", "description"}

// unused fails keys of the rule its kind does not read.
func (l *linter) unused(fields []string) {
	if l.n == nil || l.n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(l.n.Content); i += 2 {
		k := l.n.Content[i].Value
		if !slices.Contains(ruleFields, k) && !slices.Contains(fields, k) {
			l.doc.FailAt(l.n.Content[i], "rule %s: %s is not a key of kind %s (it reads %s)", l.rule.Name, k, l.rule.Kind, strings.Join(fields, ", "))
		}
	}
}

// require fails when key is unset.
func (l *linter) require(key string, set bool) bool {
	if !set {
		l.fail(key, "rule %s (kind %s) needs %s", l.rule.Name, l.rule.Kind, key)
	}
	return set
}

// item checks that it names a cut type, one of its tables and, when
// needItem, an item of that table.
func (l *linter) item(key string, it Item, needItem bool) {
	ct := l.types.Cuts.Named(it.Cut)
	if ct == nil {
		l.fail(key, "rule %s: %s names cut type %q, which is not defined (cut types: %s)", l.rule.Name, key, it.Cut, strings.Join(l.types.Cuts.Names(), ", "))
		return
	}
	refs, ok := l.tableItems(ct, it.Table)
	if !ok {
		l.fail(key, "rule %s: %s names table %q, which cut type %s does not publish (its flows: %s)", l.rule.Name, key, it.Table, ct.Name, strings.Join(ct.Input.Flows, ", "))
		return
	}
	switch {
	case needItem && it.Item == "":
		l.fail(key, "rule %s: %s needs an item (a data item of table %s)", l.rule.Name, key, it.Table)
	case !needItem && it.Item != "":
		l.fail(key, "rule %s: %s reads no item (it is about which MPANs %s holds): remove item", l.rule.Name, key, it.Table)
	case it.Item == ItemRecipient && ct.Input.Format != "dflow":
		l.fail(key, "rule %s: %s is a D-flow file's recipient; %s is not a D-flow cut", l.rule.Name, ItemRecipient, ct.Name)
	case it.Item != "" && it.Item != ItemRecipient && !slices.Contains(refs, it.Item):
		l.fail(key, "rule %s: %s names item %q, which table %s does not carry (its items: %s)", l.rule.Name, key, it.Item, it.Table, strings.Join(refs, ", "))
	}
}

// tableItems are the data items of a cut type's table, if it publishes it.
func (l *linter) tableItems(ct *cut.Type, table string) ([]string, bool) {
	if ct.Input.Format == "ees-csv" {
		return l.types.EESItems[ct.Name], table == "ees_portfolio"
	}
	cat := dflow.DefaultCatalog()
	for _, id := range ct.Input.Flows {
		for _, f := range cat.Versions(id) {
			for _, g := range f.Groups {
				if cut.TableName(g) != table {
					continue
				}
				var refs []string
				for _, fd := range g.Fields {
					refs = append(refs, fd.Ref)
				}
				return refs, true
			}
		}
	}
	return nil, false
}

func (l *linter) filter(key string, f *Filter) {
	if f == nil {
		return
	}
	l.item(key, f.Item, true)
	if len(f.In) == 0 {
		l.fail(key, "rule %s: %s needs in: the values it matches", l.rule.Name, key)
	}
}

// kind is one kind of rule: its keys, its lint and its check.
type kind struct {
	name   string
	fields []string
	lint   func(l *linter)
	check  func(ctx context.Context, e *engine, r *Rule) error
}

// kinds lists the rule kinds, one file each.
var kinds = []*kind{&compareKind, &missingKind, &orphanKind, &linkedKind, &customerKind}

func kindNamed(name string) *kind {
	for _, k := range kinds {
		if k.name == name {
			return k
		}
	}
	return nil
}

func kindNames() []string {
	var out []string
	for _, k := range kinds {
		out = append(out, k.name)
	}
	return out
}
