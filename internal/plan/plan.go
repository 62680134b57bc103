// Package plan decodes and lints allocation plans (pipelines/plans/*.yaml):
// which published cuts form the MPAN universe, the test environments with
// their onboarded participants, what each environment asks for, and the
// policy for re-appointment and fairness.
package plan

import (
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
	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Roles whose appointees must load an MPAN, in report order.
var Roles = cut.Roles

// CentralRoles are the central systems (the EES) a plan may onboard: no
// appointee; each participant of one loads every MPAN of its environment.
var CentralRoles = cut.CentralRoles

// AllRoles are the roles a plan's participants and packs may name: Roles,
// then CentralRoles.
var AllRoles = cut.AllRoles

// RoleCodes are the DTC role codes load packs are addressed to, by role
// (pipelines/roles.yaml).
var RoleCodes = roleMap(func(r cut.Role) string { return r.Code })

// RouteRoles are the DTC route role names (the catalogue's flow routes)
// each role stands for (pipelines/roles.yaml): a role's pack carries the
// D-flows routed to or from one of them. The MOp includes the MHHS
// metering equipment managers (SMEM, AMEM), the data collector the data
// services (SDSA, ADSA); the distributor runs the registration service
// (MPAS) of its MPANs.
var RouteRoles = roleMap(func(r cut.Role) []string { return r.RouteRoles })

// Appointees name, per role, the universe attribute holding an MPAN's
// appointee of it (pipelines/roles.yaml; "" for a central role).
var Appointees = roleMap(func(r cut.Role) string { return r.Appointee })

func roleMap[T any](f func(cut.Role) T) map[string]T {
	out := map[string]T{}
	for _, r := range cut.BuiltinRoles.Roles {
		out[r.Name] = f(r)
	}
	return out
}

// HasData are the values of the has filter: the data an MPAN must have,
// each the universe kind of the source cut types that hold it.
var HasData = map[string]string{"mtd": cut.UniverseMTD, "customer": cut.UniverseCustomer, "registration": cut.UniverseLinks}

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
	"has":               {"customer", "mtd", "registration"},
}

// Plan is one allocation plan, pipelines/plans/<name>.yaml: which published
// cuts form the MPAN universe, the test environments with their onboarded
// participants, what each environment asks for, and the policy.
type Plan struct {
	// Name names the plan: letters, digits, '.', '_' or '-'. It is the
	// plan's folder in the store (allocations/<name>/) and, for plans in
	// pipelines/plans, must match the file name.
	Name string `yaml:"name"`
	// Description says what the plan is for, for people (lint and reports
	// show it).
	Description string `yaml:"description"`
	// Seed decides ties: which of equally good MPANs are chosen. The same
	// plan, seed and cuts give the same allocation.
	Seed uint64 `yaml:"seed"`
	// SI is the Systems Integrator's 4-character MPID: the sender of every
	// load pack's D-flows.
	SI string `yaml:"si"`
	// TestFlag is the ZHV test data flag of re-rendered D-flows: up to 4
	// characters, never OPER (default TR01).
	TestFlag string `yaml:"test_flag"`
	// Sources name the cut types whose latest versions form the universe,
	// and the versions pinned instead.
	Sources Sources `yaml:"sources"`
	// Policy is how the SI may re-appoint and how scarce supply is shared.
	Policy Policy `yaml:"policy"`
	// Packs maps a role (supplier, mop, dc, da, distributor) to the cut types
	// its load packs carry, each among Sources.Cuts; of a D-flow cut, only
	// the flows the catalogue routes to or from the role (D0150 to the MOp,
	// supplier, NHHDC, distributor, ...). A role left out gets the source
	// cut types whose definition lists it under loaded_by; [] gives it none.
	// A role's participants are eligible for an MPAN only if its pack will
	// hold some of the MPAN's data (see Policy.AllowMissingData).
	Packs map[string][]string `yaml:"packs"`
	// Environments are the test environments to allocate to, at least one.
	Environments []*Environment `yaml:"environments"`

	Path string `yaml:"-"` // the file the plan was read from
	Hash string `yaml:"-"` // sha256 of the file: part of the run id
	Raw  []byte `yaml:"-"` // the file's bytes

	types    cut.Types // what Sources.Cuts may name
	rules    []string  // what Policy.ExcludeFindings may name (RuleIDs)
	fileName string    // when set, Name must equal it (plans/<name>.yaml)
}

// Sources name the cut types whose latest versions form the universe, and
// the versions pinned instead.
type Sources struct {
	// Cuts are cut type names (pipelines/cuts/<name>.yaml). The latest
	// version of every MPID's cut of each (the one its latest.json names)
	// forms the universe; one of them must have universe: attributes (ees),
	// which carries the MPANs' attributes and appointments.
	Cuts []string `yaml:"cuts"`
	// Pins fix which version of an MPID's cut the universe reads instead of
	// the latest: cut type (among Cuts) → MPID → version number (1 or
	// more), e.g. {registration: {GUCL: 3}}. A run stops if a pinned
	// version does not exist; datacut prune keeps every pinned version.
	Pins map[string]map[string]int `yaml:"pins"`

	Types []*cut.Type `yaml:"-"` // the cut types Cuts names, in its order
}

// Pin is the version of mpid's cut of cutType the plan pins, 0 if none.
func (s Sources) Pin(cutType, mpid string) int { return s.Pins[cutType][mpid] }

// Policy of the allocation.
type Policy struct {
	// Reappoint lists the roles the SI may re-appoint to an onboarded
	// participant when the real appointee is not in the environment
	// (supplier, mop, dc, da; never distributor, which the MPAN fixes).
	Reappoint []string `yaml:"reappoint"`
	// Fairness is the rule for scarce supply: max-min (the default and the
	// only rule) serves the lowest fill rate first.
	Fairness string `yaml:"fairness"`
	// AllowMissingData lets a role load MPANs its pack holds no data of
	// (an MOp given an MPAN without meter technical details, say). Default
	// false: such MPANs are not eligible. The report counts, per role, the
	// MPANs given without data either way.
	AllowMissingData bool `yaml:"allow_missing_data"`
	// Share lets this plan give units other plans' latest runs hold.
	// Default false: a unit is reserved for the plan that holds it, so no
	// MPAN is loaded into two plans' environments at once.
	Share bool `yaml:"share"`
	// ExcludeFindings lists reconciliation rules (pipelines/reconcile.yaml):
	// a unit any of whose MPANs has a finding of one of them in the latest
	// reconciliation (datacut reconcile) is not eligible. The run refuses
	// to start when that reconciliation is missing or did not read the
	// cut versions the allocation reads. Default: none.
	ExcludeFindings []string `yaml:"exclude_findings"`
	// TopUp lets a run create synthetic units where the universe cannot
	// fill a demand (off when absent): after the allocation, each short
	// demand is filled with new units that satisfy its filter and whose
	// every loading role is onboarded, up to these limits (see TopUp).
	TopUp *TopUp `yaml:"top_up"`
}

// TopUp bounds the synthetic units a run may create; at least one limit
// is set, and a limit left out (or 0) does not bound.
type TopUp struct {
	// Units is the most synthetic units the whole plan may hold: a
	// positive whole number, or 0 for no plan-wide limit.
	Units int `yaml:"units"`
	// PerDemand is the most synthetic units one demand may hold, over all
	// its asks (per participant or value): a positive whole number, or 0
	// for no per-demand limit.
	PerDemand int `yaml:"per_demand"`
}

// Environment is one test environment.
type Environment struct {
	// Name names the environment (letters, digits, '.', '_' or '-'),
	// unique in the plan: load packs are filed under it.
	Name string `yaml:"name"`
	// Participants maps a role (supplier, mop, dc, da, distributor) to the
	// MPIDs onboarded in the environment for it. A role that is listed is
	// required: an MPAN whose appointee for it is not onboarded needs
	// re-appointing (Policy.Reappoint) or is not eligible.
	Participants map[string][]string `yaml:"participants"`
	// Demands are what the environment asks for.
	Demands []*Demand `yaml:"demands"`
}

// Demand asks for Count units matching Filter, per combination of the Per
// keys (roles: each onboarded participant; attributes: each value).
type Demand struct {
	// Name names the demand, unique in its environment (letters, digits,
	// '.', '_' or '-').
	Name string `yaml:"name"`
	// Filter maps an attribute (see Attributes) to the value, or list of
	// values (any of), a unit's MPANs must have; any MPAN of a unit may
	// match. has lists data an MPAN must have, all of them: mtd (meter
	// technical details), customer (customer details), registration (in a
	// registration cut); a source cut type must hold it.
	Filter map[string]Values `yaml:"filter"`
	// Count is the number of units asked for, per combination of Per: a
	// positive whole number (2.5 is an error, not 2).
	Count int `yaml:"count"`
	// Per splits the demand: by role (one ask per onboarded participant of
	// it, which must be listed in the environment) or by attribute (one ask
	// per value; attributes without a fixed set of values need them listed
	// in Filter).
	Per []string `yaml:"per"`
}

// Values is one value or a list of them (any of).
type Values []string

// UnmarshalYAML accepts a scalar or a sequence of scalars. Anything else
// decodes as no values, and Validate reports it where it is.
func (v *Values) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*v = Values{n.Value}
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*v = s
	default:
		*v = nil
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

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Decode reads and lints one plan against the cut types of its
// definitions; file names it in errors. Every problem is reported at once,
// each at file:line:col of the key or value to change (a *defs.Error).
func Decode(file string, b []byte, types cut.Types) (*Plan, error) {
	doc := defs.Parse(file, b)
	if err := doc.Err(); err != nil {
		return nil, err
	}
	p := &Plan{types: types, rules: builtInRuleIDs()}
	if !doc.Decode(doc.Root(), p) {
		return nil, doc.Err()
	}
	p.Defaults()
	p.Validate(doc)
	if err := doc.Err(); err != nil {
		return nil, err
	}
	return p.finish(doc), nil
}

// finish fills in what a valid plan derives from its file.
func (p *Plan) finish(doc *defs.Doc) *Plan {
	p.Path, p.Raw, p.Hash = doc.File, doc.Bytes, hashOf(doc.Bytes)
	if p.Packs == nil {
		p.Packs = map[string][]string{}
	}
	for role, cuts := range DefaultPacks(p.Sources.Types) {
		if _, listed := p.Packs[role]; !listed {
			p.Packs[role] = cuts
		}
	}
	return p
}

// Defaults fills in what a plan may leave out: test_flag TR01, fairness
// max-min. Packs default, role by role, once the sources are known
// (DefaultPacks).
func (p *Plan) Defaults() {
	if p.TestFlag == "" {
		p.TestFlag = "TR01"
	}
	if p.Policy.Fairness == "" {
		p.Policy.Fairness = "max-min"
	}
}

// Validate checks the plan against its cut types, each problem at the key
// or value concerned, and resolves Sources.Types.
func (p *Plan) Validate(doc *defs.Doc) {
	root := doc.Root()
	at := func(keys ...string) *yaml.Node { return nodeAt(root, keys...) }
	if p.fileName != "" && p.Name != p.fileName {
		doc.FailAt(at("name"), "name %q must match the file name %q", p.Name, p.fileName)
	} else if !nameRE.MatchString(p.Name) {
		doc.FailAt(at("name"), "name %q must be letters, digits, '.', '_' or '-' (it names the plan's folder in the store)", p.Name)
	}
	if !cut.IsMPID(p.SI) {
		doc.FailAt(at("si"), "si must be the Systems Integrator's 4-character MPID (the sender of load packs), got %q", p.SI)
	}
	if p.TestFlag == "OPER" || len(p.TestFlag) > 4 {
		doc.FailAt(at("test_flag"), "test_flag %q: load packs are test data; use a non-OPER flag of up to 4 characters such as TR01", p.TestFlag)
	}
	p.validateSources(doc, root)
	if p.Policy.Fairness != "max-min" {
		doc.FailAt(at("policy", "fairness"), "policy.fairness %q: the only rule is max-min (balance fill rates)", p.Policy.Fairness)
	}
	p.validateTopUp(doc, root)
	for i, r := range p.Policy.Reappoint {
		switch {
		case r == "distributor":
			doc.FailAt(item(root, i, "policy", "reappoint"), "policy.reappoint: the distributor cannot be re-appointed (the MPAN's first two digits fix it)")
		case contains(CentralRoles, r):
			doc.FailAt(item(root, i, "policy", "reappoint"), "policy.reappoint: %s is a central system: no MPAN has an appointee of it to re-appoint", r)
		case !contains(Roles, r):
			doc.FailAt(item(root, i, "policy", "reappoint"), "policy.reappoint: unknown role %q (one of %s)", r, strings.Join(Roles, ", "))
		}
	}
	p.validateExcludeFindings(doc, root)
	forEachKey(value(root, "packs"), func(role, vals *yaml.Node) {
		if !contains(AllRoles, role.Value) {
			doc.FailAt(role, "packs: unknown role %q (one of %s)", role.Value, strings.Join(AllRoles, ", "))
		}
		for i, c := range p.Packs[role.Value] {
			if !contains(p.Sources.Cuts, c) {
				doc.FailAt(elem(vals, i, role), "packs.%s: cut %q is not among sources.cuts", role.Value, c)
			} else if t := p.types.Named(c); t != nil && len(t.Input.Flows) > 0 && !anyRouted(t.Input.Flows, role.Value) {
				doc.FailAt(elem(vals, i, role), "packs.%s: cut %s carries no flow the DTC routes to or from a %s (%s)", role.Value, c, role.Value, strings.Join(t.Input.Flows, ", "))
			}
		}
	})
	if len(p.Environments) == 0 {
		doc.FailAt(at("environments"), "a plan needs at least one environment")
	}
	names := map[string]bool{}
	for i, e := range p.Environments {
		n := elem(value(root, "environments"), i, at("environments"))
		if names[e.Name] {
			doc.FailAt(nodeAt(n, "name"), "environment %q is defined twice", e.Name)
		}
		names[e.Name] = true
		e.validate(doc, n, p.Sources.Types)
	}
}

func (p *Plan) validateSources(doc *defs.Doc, root *yaml.Node) {
	if len(p.Sources.Cuts) == 0 {
		doc.FailAt(nodeAt(root, "sources", "cuts"), "sources.cuts must list the cut types that form the universe (some of %s)", strings.Join(p.types.Names(), ", "))
		return
	}
	attributes := false
	for i, c := range p.Sources.Cuts {
		t := p.types.Named(c)
		if t == nil {
			doc.FailAt(item(root, i, "sources", "cuts"), "sources.cuts: unknown cut type %q (one of %s)", c, strings.Join(p.types.Names(), ", "))
			continue
		}
		attributes = attributes || t.Universe == cut.UniverseAttributes
		p.Sources.Types = append(p.Sources.Types, t)
	}
	if len(p.Sources.Types) == len(p.Sources.Cuts) && !attributes {
		doc.FailAt(nodeAt(root, "sources", "cuts"), "sources.cuts must include a cut type with universe: %s (%s): it carries the MPAN attributes and appointments", cut.UniverseAttributes, strings.Join(withUniverse(p.types, cut.UniverseAttributes), ", "))
	}
	forEachKey(value(value(root, "sources"), "pins"), func(ct, mpids *yaml.Node) {
		if !contains(p.Sources.Cuts, ct.Value) {
			doc.FailAt(ct, "sources.pins: cut %q is not among sources.cuts (%s)", ct.Value, strings.Join(p.Sources.Cuts, ", "))
		}
		forEachKey(mpids, func(mpid, version *yaml.Node) {
			if !cut.IsMPID(mpid.Value) {
				doc.FailAt(mpid, "sources.pins.%s: %q is not a 4-character MPID", ct.Value, mpid.Value)
			}
			if v := p.Sources.Pins[ct.Value][mpid.Value]; v < 1 {
				doc.FailAt(version, "sources.pins.%s.%s: version %d: versions are numbered from 1", ct.Value, mpid.Value, v)
			}
		})
	})
}

// validate checks an environment; n is its node.
func (e *Environment) validate(doc *defs.Doc, n *yaml.Node, types cut.Types) {
	if !nameRE.MatchString(e.Name) {
		doc.FailAt(nodeAt(n, "name"), "environment name %q must be letters, digits, '.', '_' or '-'", e.Name)
	}
	if len(e.Participants) == 0 {
		doc.FailAt(nodeAt(n, "participants"), "environment %s lists no onboarded participants", e.Name)
	}
	forEachKey(value(n, "participants"), func(role, mpids *yaml.Node) {
		if !contains(AllRoles, role.Value) {
			doc.FailAt(role, "environment %s: unknown role %q (one of %s)", e.Name, role.Value, strings.Join(AllRoles, ", "))
		}
		seen := map[string]bool{}
		for i, m := range e.Participants[role.Value] {
			if !cut.IsMPID(m) {
				doc.FailAt(elem(mpids, i, role), "environment %s: %s %q is not a 4-character MPID", e.Name, role.Value, m)
			}
			if seen[m] {
				doc.FailAt(elem(mpids, i, role), "environment %s: %s %s is listed twice", e.Name, role.Value, m)
			}
			seen[m] = true
		}
	})
	names := map[string]bool{}
	for i, d := range e.Demands {
		dn := elem(value(n, "demands"), i, nodeAt(n, "demands"))
		where := fmt.Sprintf("environment %s demand %s", e.Name, d.Name)
		if !nameRE.MatchString(d.Name) {
			doc.FailAt(nodeAt(dn, "name"), "environment %s: demand name %q must be letters, digits, '.', '_' or '-'", e.Name, d.Name)
		}
		if names[d.Name] {
			doc.FailAt(nodeAt(dn, "name"), "%s is defined twice", where)
		}
		names[d.Name] = true
		d.validate(doc, dn, e, where, types)
	}
}

// validate checks a demand of environment e; n is its node.
func (d *Demand) validate(doc *defs.Doc, n *yaml.Node, e *Environment, where string, types cut.Types) {
	if d.Count <= 0 {
		doc.FailAt(nodeAt(n, "count"), "%s: count must be a positive number of units", where)
	}
	forEachKey(value(n, "filter"), func(attr, vals *yaml.Node) {
		allowed, known := Attributes[attr.Value]
		if !known {
			doc.FailAt(attr, "%s: unknown filter attribute %q (one of %s)", where, attr.Value, strings.Join(attributeNames(), ", "))
			return
		}
		if vals.Kind != yaml.ScalarNode && vals.Kind != yaml.SequenceNode {
			doc.FailAt(vals, "%s: filter %s: a filter value is a value or a list of values", where, attr.Value)
			return
		}
		vs := d.Filter[attr.Value]
		if len(vs) == 0 {
			doc.FailAt(attr, "%s: filter %s lists no values", where, attr.Value)
		}
		for i, v := range vs {
			vn := vals
			if vals.Kind == yaml.SequenceNode {
				vn = elem(vals, i, attr)
			}
			if allowed != nil && !contains(allowed, v) {
				doc.FailAt(vn, "%s: filter %s value %q is not one of %s", where, attr.Value, v, strings.Join(allowed, ", "))
			}
			if v == "" {
				doc.FailAt(vn, "%s: filter %s has an empty value", where, attr.Value)
			}
			if attr.Value == "has" && allowed != nil && contains(allowed, v) && len(withUniverse(types, HasData[v])) == 0 {
				doc.FailAt(vn, "%s: filter has %s: no source cut type holds it (sources.cuts needs one with universe: %s)", where, v, HasData[v])
			}
		}
	})
	per := map[string]bool{}
	for i, k := range d.Per {
		kn := elem(value(n, "per"), i, nodeAt(n, "per"))
		_, isAttr := Attributes[k]
		switch {
		case per[k]:
			doc.FailAt(kn, "%s: per lists %s twice", where, k)
		case contains(CentralRoles, k):
			doc.FailAt(kn, "%s: per %s: %s is a central system, no MPAN's appointee: each of its participants loads every MPAN of the environment", where, k, k)
		case contains(Roles, k):
			if len(e.Participants[k]) == 0 {
				doc.FailAt(kn, "%s: per %s needs onboarded %s participants in the environment", where, k, k)
			}
		case k == "has":
			doc.FailAt(kn, "%s: per has: has is a filter only (the data an MPAN must have)", where)
		case isAttr:
			if Attributes[k] == nil && len(d.Filter[k]) == 0 {
				doc.FailAt(kn, "%s: per %s needs its values listed in the filter (%s has no fixed set of values)", where, k, k)
			}
		default:
			doc.FailAt(kn, "%s: per %q is neither a role (%s) nor an attribute", where, k, strings.Join(Roles, ", "))
		}
		per[k] = true
	}
}

// nodeAt is where a problem with the value at keys under mapping n is
// shown: the value when it is there, else the nearest key or n itself.
func nodeAt(n *yaml.Node, keys ...string) *yaml.Node {
	at := n
	for _, k := range keys {
		v, key := defs.Child(n, k)
		if v == nil {
			return at
		}
		if v.Kind == yaml.ScalarNode {
			at = v
		} else {
			at = key
		}
		n = v
	}
	return at
}

// value is the value node of key in mapping n, or nil.
func value(n *yaml.Node, key string) *yaml.Node {
	v, _ := defs.Child(n, key)
	return v
}

// item is element i of the sequence at keys under n (or where the keys
// lead, see nodeAt).
func item(n *yaml.Node, i int, keys ...string) *yaml.Node {
	seq := n
	for _, k := range keys {
		seq = value(seq, k)
	}
	return elem(seq, i, nodeAt(n, keys...))
}

// elem is element i of sequence seq, or else if there is none.
func elem(seq *yaml.Node, i int, or *yaml.Node) *yaml.Node {
	if seq != nil && seq.Kind == yaml.SequenceNode && i < len(seq.Content) {
		return seq.Content[i]
	}
	return or
}

// forEachKey calls fn with each key and value node of mapping n, in file
// order (problems are reported in the order they appear).
func forEachKey(n *yaml.Node, fn func(key, value *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		fn(n.Content[i], n.Content[i+1])
	}
}

// Receives reports whether role's load packs carry data set d: its cut is
// among the role's pack cuts and, for a D-flow, the catalogue routes the
// flow to or from the role.
func (p *Plan) Receives(role string, d DataSet) bool {
	if !contains(p.Packs[role], d.Cut) {
		return false
	}
	return d.Flow == "" || FlowRouted(d.Flow, role)
}

// DataSet names one flow of one cut type (Flow "" for a cut of no D-flow,
// such as EES).
type DataSet struct{ Cut, Flow string }

// FlowRouted reports whether the catalogue routes flow (any version) to or
// from one of role's DTC route roles.
func FlowRouted(flow, role string) bool {
	for _, f := range dflow.DefaultCatalog().Versions(flow) {
		if f.Involves(RouteRoles[role]...) {
			return true
		}
	}
	return false
}

func anyRouted(flows []string, role string) bool {
	for _, f := range flows {
		if FlowRouted(f, role) {
			return true
		}
	}
	return false
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
// against the cut types defined beside them. A plan's name must match its
// file name. Every problem of every file is reported together.
func Load(fsys fs.FS, types cut.Types) (map[string]*Plan, error) {
	files, err := fs.Glob(fsys, "plans/*.yaml")
	if err != nil {
		return nil, err
	}
	rules, err := RuleIDs(fsys)
	if err != nil {
		return nil, err
	}
	out := map[string]*Plan{}
	var errs []error
	for _, f := range files {
		p := &Plan{types: types, rules: rules, fileName: strings.TrimSuffix(path.Base(f), ".yaml")}
		doc, err := defs.Load(fsys, f, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[p.Name] = p.finish(doc)
	}
	if len(errs) > 0 {
		return nil, defs.Join(errs)
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

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
