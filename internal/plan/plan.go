// Package plan decodes and lints allocation plans (pipelines/plans/*.yaml):
// which published cuts form the MPAN universe, the test environments with
// their onboarded participants, what each environment asks for, and the
// policy for re-appointment and fairness.
package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/cut"
)

// Roles whose appointees must load an MPAN, in report order.
var Roles = cut.Roles

// RoleCodes are the DTC role codes load packs are addressed to.
var RoleCodes = map[string]string{"supplier": "X", "mop": "M", "dc": "D", "da": "A", "distributor": "R"}

// Attributes a demand can filter on or split by, with the values each
// accepts (nil: any non-empty value).
var Attributes = map[string][]string{
	"segment":           {"S", "A", "U"},
	"gsp_group":         {"_A", "_B", "_C", "_D", "_E", "_F", "_G", "_H", "_J", "_K", "_L", "_M", "_N", "_P"},
	"distributor":       nil,
	"measurement_class": {"A", "B", "C", "D", "E", "F", "G"},
	"profile_class":     {"00", "01", "02", "03", "04", "05", "06", "07", "08"},
	"energised":         {"true", "false"},
	"domestic":          {"true", "false"},
	"meter_type":        nil,
	"smets":             {"1", "2", "none"},
	"linked":            {"true", "false"},
}

// Plan is one allocation plan.
type Plan struct {
	Name         string              `yaml:"name"`
	Description  string              `yaml:"description"`
	Seed         uint64              `yaml:"seed"`
	SI           string              `yaml:"si"`
	TestFlag     string              `yaml:"test_flag"`
	Sources      Sources             `yaml:"sources"`
	Policy       Policy              `yaml:"policy"`
	Packs        map[string][]string `yaml:"packs"`
	Environments []*Environment      `yaml:"environments"`

	Path string `yaml:"-"`
	Hash string `yaml:"-"` // sha256 of the file: part of the run id
	Raw  []byte `yaml:"-"`
}

// Sources name the cut types whose latest complete cuts form the universe.
type Sources struct {
	Cuts []string `yaml:"cuts"`

	Types []*cut.Type `yaml:"-"` // the cut types Cuts names, in its order
}

// Policy of the allocation.
type Policy struct {
	// Reappoint lists the roles the SI may re-appoint to an onboarded
	// participant when the real appointee is not in the environment.
	Reappoint []string `yaml:"reappoint"`
	// Fairness is the rule for scarce supply; max-min is the only one.
	Fairness string `yaml:"fairness"`
}

// Environment is one test environment.
type Environment struct {
	Name         string              `yaml:"name"`
	Participants map[string][]string `yaml:"participants"`
	Demands      []*Demand           `yaml:"demands"`
	Line         int                 `yaml:"-"`
}

// Demand asks for Count units matching Filter, per combination of the Per
// keys (roles: each onboarded participant; attributes: each value).
type Demand struct {
	Name   string            `yaml:"name"`
	Filter map[string]Values `yaml:"filter"`
	Count  int               `yaml:"count"`
	Per    []string          `yaml:"per"`
	Line   int               `yaml:"-"`
}

// Values is one value or a list of them (any of).
type Values []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (v *Values) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*v = Values{n.Value}
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*v = s
		return nil
	}
	return fmt.Errorf("line %d: a filter value is a value or a list of values", n.Line)
}

// setLines records where each environment and demand is in the file, for
// lint messages.
func (p *Plan) setLines(doc *yaml.Node) {
	envs := child(doc, "environments")
	for i, e := range p.Environments {
		if envs == nil || i >= len(envs.Content) {
			break
		}
		e.Line = envs.Content[i].Line
		ds := child(envs.Content[i], "demands")
		for j, d := range e.Demands {
			if ds != nil && j < len(ds.Content) {
				d.Line = ds.Content[j].Line
			}
		}
	}
}

// child is the value node of key in a mapping node (or document).
func child(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Environment returns the named environment, or nil.
func (p *Plan) Environment(name string) *Environment {
	for _, e := range p.Environments {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// MayReappoint reports whether the policy lets the SI re-appoint role.
func (p *Plan) MayReappoint(role string) bool {
	for _, r := range p.Policy.Reappoint {
		if r == role {
			return true
		}
	}
	return false
}

// Onboarded reports whether mpid is onboarded in the environment for role,
// and whether the environment requires the role at all.
func (e *Environment) Onboarded(role, mpid string) (ok, required bool) {
	list, required := e.Participants[role]
	for _, m := range list {
		if m == mpid {
			return true, required
		}
	}
	return false, required
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	mpidRE = regexp.MustCompile(`^[A-Z0-9]{4}$`)
)

// Decode reads and lints one plan against the cut types of its definitions.
// All problems are reported together, each at file:line, with what to
// change.
func Decode(file string, b []byte, types cut.Types) (*Plan, error) {
	p := &Plan{Path: file, Raw: b}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	var node yaml.Node
	yaml.Unmarshal(b, &node)
	p.setLines(&node)
	p.Hash = hashOf(b)
	var errs []string
	fail := func(line int, format string, a ...any) {
		errs = append(errs, fmt.Sprintf("%s:%d: %s", file, line, fmt.Sprintf(format, a...)))
	}
	top := func(key string) int { return keyLine(&node, key) }
	if !nameRE.MatchString(p.Name) {
		fail(top("name"), "name %q must be letters, digits, '.', '_' or '-' (it names the plan's folder in the store)", p.Name)
	}
	if !mpidRE.MatchString(p.SI) {
		fail(top("si"), "si must be the Systems Integrator's 4-character MPID (the sender of load packs), got %q", p.SI)
	}
	if p.TestFlag == "" {
		p.TestFlag = "TR01"
	}
	if p.TestFlag == "OPER" || len(p.TestFlag) > 4 {
		fail(top("test_flag"), "test_flag %q: load packs are test data; use a non-OPER flag of up to 4 characters such as TR01", p.TestFlag)
	}
	if len(p.Sources.Cuts) == 0 {
		fail(top("sources"), "sources.cuts must list the cut types that form the universe (some of %s)", strings.Join(types.Names(), ", "))
	}
	attributes := false
	for _, c := range p.Sources.Cuts {
		t := types.Named(c)
		if t == nil {
			fail(top("sources"), "sources.cuts: unknown cut type %q (one of %s)", c, strings.Join(types.Names(), ", "))
			continue
		}
		attributes = attributes || t.Universe == cut.UniverseAttributes
		p.Sources.Types = append(p.Sources.Types, t)
	}
	if len(p.Sources.Types) == len(p.Sources.Cuts) && !attributes {
		fail(top("sources"), "sources.cuts must include a cut type with universe: %s (%s): it carries the MPAN attributes and appointments", cut.UniverseAttributes, strings.Join(withUniverse(types, cut.UniverseAttributes), ", "))
	}
	if p.Policy.Fairness == "" {
		p.Policy.Fairness = "max-min"
	}
	if p.Policy.Fairness != "max-min" {
		fail(top("policy"), "policy.fairness %q: the only rule is max-min (balance fill rates)", p.Policy.Fairness)
	}
	for _, r := range p.Policy.Reappoint {
		switch {
		case r == "distributor":
			fail(top("policy"), "policy.reappoint: the distributor cannot be re-appointed (the MPAN's first two digits fix it)")
		case !contains(Roles, r):
			fail(top("policy"), "policy.reappoint: unknown role %q (one of %s)", r, strings.Join(Roles, ", "))
		}
	}
	for role, cuts := range p.Packs {
		if !contains(Roles, role) {
			fail(top("packs"), "packs: unknown role %q (one of %s)", role, strings.Join(Roles, ", "))
		}
		for _, c := range cuts {
			if !contains(p.Sources.Cuts, c) {
				fail(top("packs"), "packs.%s: cut %q is not among sources.cuts", role, c)
			}
		}
	}
	if len(p.Environments) == 0 {
		fail(top("environments"), "a plan needs at least one environment")
	}
	envs := map[string]bool{}
	for _, e := range p.Environments {
		if !nameRE.MatchString(e.Name) {
			fail(e.Line, "environment name %q must be letters, digits, '.', '_' or '-'", e.Name)
		}
		if envs[e.Name] {
			fail(e.Line, "environment %q is defined twice", e.Name)
		}
		envs[e.Name] = true
		if len(e.Participants) == 0 {
			fail(e.Line, "environment %s lists no onboarded participants", e.Name)
		}
		for role, ms := range e.Participants {
			if !contains(Roles, role) {
				fail(e.Line, "environment %s: unknown role %q (one of %s)", e.Name, role, strings.Join(Roles, ", "))
			}
			seen := map[string]bool{}
			for _, m := range ms {
				if !mpidRE.MatchString(m) {
					fail(e.Line, "environment %s: %s %q is not a 4-character MPID", e.Name, role, m)
				}
				if seen[m] {
					fail(e.Line, "environment %s: %s %s is listed twice", e.Name, role, m)
				}
				seen[m] = true
			}
		}
		demands := map[string]bool{}
		for _, d := range e.Demands {
			where := fmt.Sprintf("environment %s demand %s", e.Name, d.Name)
			if !nameRE.MatchString(d.Name) {
				fail(d.Line, "environment %s: demand name %q must be letters, digits, '.', '_' or '-'", e.Name, d.Name)
			}
			if demands[d.Name] {
				fail(d.Line, "%s is defined twice", where)
			}
			demands[d.Name] = true
			if d.Count <= 0 {
				fail(d.Line, "%s: count must be a positive number of units", where)
			}
			for attr, vs := range d.Filter {
				allowed, known := Attributes[attr]
				if !known {
					fail(d.Line, "%s: unknown filter attribute %q (one of %s)", where, attr, strings.Join(attributeNames(), ", "))
					continue
				}
				if len(vs) == 0 {
					fail(d.Line, "%s: filter %s lists no values", where, attr)
				}
				for _, v := range vs {
					if allowed != nil && !contains(allowed, v) {
						fail(d.Line, "%s: filter %s value %q is not one of %s", where, attr, v, strings.Join(allowed, ", "))
					}
					if v == "" {
						fail(d.Line, "%s: filter %s has an empty value", where, attr)
					}
				}
			}
			per := map[string]bool{}
			for _, k := range d.Per {
				_, isAttr := Attributes[k]
				switch {
				case per[k]:
					fail(d.Line, "%s: per lists %s twice", where, k)
				case contains(Roles, k):
					if len(e.Participants[k]) == 0 {
						fail(d.Line, "%s: per %s needs onboarded %s participants in the environment", where, k, k)
					}
				case isAttr:
					if Attributes[k] == nil && len(d.Filter[k]) == 0 {
						fail(d.Line, "%s: per %s needs its values listed in the filter (%s has no fixed set of values)", where, k, k)
					}
				default:
					fail(d.Line, "%s: per %q is neither a role (%s) nor an attribute", where, k, strings.Join(Roles, ", "))
				}
				per[k] = true
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid plan:\n  %s", strings.Join(errs, "\n  "))
	}
	if p.Packs == nil {
		p.Packs = DefaultPacks(p.Sources.Types)
	}
	return p, nil
}

// DefaultPacks says which cut types each role loads, among the sources: the
// roles each cut type's definition lists under loaded_by.
func DefaultPacks(sources []*cut.Type) map[string][]string {
	byName := append([]*cut.Type(nil), sources...)
	sort.Slice(byName, func(i, j int) bool { return byName[i].Name < byName[j].Name })
	out := map[string][]string{}
	for _, t := range byName {
		for _, role := range t.LoadedBy {
			out[role] = append(out[role], t.Name)
		}
	}
	return out
}

// Load reads and lints every plan in plans/ of a definitions file system,
// against the cut types defined beside them.
func Load(defs fs.FS, types cut.Types) (map[string]*Plan, error) {
	files, err := fs.Glob(defs, "plans/*.yaml")
	if err != nil {
		return nil, err
	}
	out := map[string]*Plan{}
	var errs []string
	for _, f := range files {
		b, err := fs.ReadFile(defs, f)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		p, err := Decode(f, b, types)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if want := strings.TrimSuffix(path.Base(f), ".yaml"); p.Name != want {
			errs = append(errs, fmt.Sprintf("%s:%d: name %q must match the file name %q", f, 1, p.Name, want))
		}
		out[p.Name] = p
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
}

// withUniverse names the cut types that give the universe what.
func withUniverse(types cut.Types, what string) []string {
	var out []string
	for _, t := range types {
		if t.Universe == what {
			out = append(out, t.Name)
		}
	}
	return out
}

func attributeNames() []string {
	var n []string
	for k := range Attributes {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// keyLine is the line of a top-level key in a YAML document (1 if absent).
func keyLine(doc *yaml.Node, key string) int {
	if len(doc.Content) == 0 {
		return 1
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i].Line
		}
	}
	return 1
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
