package dflow

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The catalogue corrections: what the DTC says of groups in prose (a flow's
// notes, its name and routes, an item's description) and the machine-readable
// extraction records only as a minimum of 1. A project file beside the
// generated catalogue, embedded and applied to it by DefaultCatalog; never
// generated, never hand-copied catalogue data.
//
//go:embed corrections.yaml
var correctionsYAML []byte

// CorrectionsFile is the corrections file's name in this package, for
// messages and lint output.
const CorrectionsFile = "internal/dflow/corrections.yaml"

// CorrectionsYAML returns the embedded corrections file.
func CorrectionsYAML() []byte { return correctionsYAML }

// Condition makes a group's catalogue minimum depend on the file: on the
// recipient's role (from the ZHV) or on an item of the parent group's record.
// For a value in Required the catalogue minimum holds; for one in Optional the
// group may be left out; for any other value (a role code the corrections do
// not name, an empty or unlisted item) the condition cannot be decided, and a
// missing group is a warning, never an error.
type Condition struct {
	On       string   // OnRecipient, OnUndecidable, or a J-ref of the parent group
	Required []string // DTC route roles (OnRecipient) or item values
	Optional []string
	Why      string

	field int // On's position in the parent group's fields
}

// Condition kinds besides an item's J-ref.
const (
	// OnRecipient decides by the ZHV's to role code, through the
	// corrections' roles table.
	OnRecipient = "recipient"
	// OnUndecidable marks a group the DTC makes conditional on something
	// the file does not show: a missing one is always a warning.
	OnUndecidable = "undecidable"
)

// Decision is what a condition says of one parent record.
type Decision uint8

const (
	Undecided Decision = iota
	Required
	Optional
)

// Corrections are the applied corrections file.
type Corrections struct {
	Version int
	// Roles maps ZHV role codes (J0001, from Market Domain Data) to the DTC
	// route role a condition names.
	Roles map[string]string
	// Conditional counts the groups made conditional, over all versions.
	Conditional int
}

type corrFile struct {
	Version     int               `yaml:"version"`
	Roles       map[string]string `yaml:"roles"`
	Conditional []corrEntry       `yaml:"conditional"`
}

type corrEntry struct {
	Flow     string   `yaml:"flow"`
	Group    string   `yaml:"group"`
	On       string   `yaml:"on"`
	Required []string `yaml:"required"`
	Optional []string `yaml:"optional"`
	Why      string   `yaml:"why"`
}

var jRef = regexp.MustCompile(`^J[0-9]{4}$`)

// ApplyCorrections parses a corrections file strictly (unknown keys are
// refused), checks that everything it names exists in the catalogue, and
// marks the conditional groups. It is the file's lint: every error names the
// entry.
func (c *Catalog) ApplyCorrections(b []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f corrFile
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", CorrectionsFile, err)
	}
	if f.Version != 1 {
		return fmt.Errorf("%s: version must be 1, not %d", CorrectionsFile, f.Version)
	}
	routeRoles := map[string]bool{}
	for _, fl := range c.Flows {
		for _, r := range fl.Routes {
			routeRoles[r.From], routeRoles[r.To] = true, true
		}
	}
	for code, role := range f.Roles {
		if len(code) != 1 {
			return fmt.Errorf("%s: roles: role code %q must be 1 character (J0001)", CorrectionsFile, code)
		}
		if !routeRoles[role] {
			return fmt.Errorf("%s: roles: %s maps to %q, which is no DTC route role of the catalogue", CorrectionsFile, code, role)
		}
	}
	corr := &Corrections{Version: f.Version, Roles: f.Roles}
	seen := map[string]bool{}
	for i, e := range f.Conditional {
		where := fmt.Sprintf("%s: conditional[%d] (%s group %s)", CorrectionsFile, i, e.Flow, e.Group)
		if seen[e.Flow+"/"+e.Group] {
			return fmt.Errorf("%s: listed twice", where)
		}
		seen[e.Flow+"/"+e.Group] = true
		if strings.TrimSpace(e.Why) == "" || !strings.Contains(e.Why, "DTC") {
			return fmt.Errorf("%s: why must cite the DTC note, item or flow rule the condition comes from", where)
		}
		if overlap(e.Required, e.Optional) {
			return fmt.Errorf("%s: a value is both required and optional", where)
		}
		versions := c.Versions(e.Flow)
		if len(versions) == 0 {
			return fmt.Errorf("%s: flow %s is not in DTC %s", where, e.Flow, c.DTCVersion)
		}
		n := 0
		for _, fl := range versions {
			g := fl.Group(e.Group)
			if g == nil {
				continue
			}
			n++
			if g.Min < 1 {
				return fmt.Errorf("%s: version %s already makes the group optional (min %d): nothing to correct", where, fl.Version, g.Min)
			}
			cond := &Condition{On: e.On, Required: e.Required, Optional: e.Optional, Why: strings.TrimSpace(e.Why), field: -1}
			if err := c.checkCondition(cond, fl, g); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			g.Cond = cond
			corr.Conditional++
		}
		if n == 0 {
			return fmt.Errorf("%s: no version of %s has group %s", where, e.Flow, e.Group)
		}
	}
	c.Corrections = corr
	return nil
}

func (c *Catalog) checkCondition(cond *Condition, fl *Flow, g *Group) error {
	values := append(append([]string(nil), cond.Required...), cond.Optional...)
	switch {
	case cond.On == OnUndecidable:
		if len(values) > 0 {
			return errors.New("an undecidable condition lists no values")
		}
	case cond.On == OnRecipient:
		if len(values) == 0 {
			return errors.New("a recipient condition lists the route roles that require the group or may leave it out")
		}
		to := map[string]bool{}
		for _, r := range fl.Routes {
			to[r.To] = true
		}
		for _, v := range values {
			if !to[v] {
				return fmt.Errorf("version %s is never sent to %q (its routes' recipients: %s)", fl.Version, v, strings.Join(sortedKeys(to), ", "))
			}
		}
	case jRef.MatchString(cond.On):
		if g.ParentG == nil {
			return fmt.Errorf("a level-1 group has no parent record to hold %s", cond.On)
		}
		for i, f := range g.ParentG.Fields {
			if f.Ref == cond.On {
				cond.field = i
			}
		}
		if cond.field < 0 {
			return fmt.Errorf("parent group %s of version %s has no item %s", g.Parent, fl.Version, cond.On)
		}
		if len(values) == 0 {
			return fmt.Errorf("an item condition lists the values of %s that require the group or let it be left out", cond.On)
		}
		it := c.Item(cond.On)
		for _, v := range values {
			if it.valid != nil && !it.InValidSet([]byte(v)) {
				return fmt.Errorf("%q is not in the valid set of %s", v, cond.On)
			}
		}
	default:
		return fmt.Errorf("on must be %s, %s or a J-ref of the parent group, not %q", OnRecipient, OnUndecidable, cond.On)
	}
	return nil
}

// Decide says what the condition makes of the group, for a file to the
// given route role (empty when the ZHV's role code is unknown) and the
// parent record's fields.
func (cond *Condition) Decide(recipient string, parent [][]byte) Decision {
	var v string
	switch cond.On {
	case OnUndecidable:
		return Undecided
	case OnRecipient:
		v = recipient
	default:
		if cond.field < 0 || cond.field >= len(parent) {
			return Undecided
		}
		v = string(parent[cond.field])
	}
	switch {
	case v == "":
		return Undecided
	case slices.Contains(cond.Required, v):
		return Required
	case slices.Contains(cond.Optional, v):
		return Optional
	}
	return Undecided
}

// Describe says in words what the condition depends on, from our
// definitions only (never a file's values).
func (cond *Condition) Describe() string {
	switch cond.On {
	case OnUndecidable:
		return "conditional on what the file does not show"
	case OnRecipient:
		s := "required when sent to " + strings.Join(cond.Required, " or ")
		if len(cond.Required) == 0 {
			s = "required for recipients the corrections do not decide"
		}
		if len(cond.Optional) > 0 {
			s += ", optional when sent to " + strings.Join(cond.Optional, " or ")
		}
		return s
	}
	s := fmt.Sprintf("required when %s is %s", cond.On, strings.Join(cond.Required, " or "))
	if len(cond.Optional) > 0 {
		s += fmt.Sprintf(", optional when it is %s", strings.Join(cond.Optional, " or "))
	}
	return s
}

func overlap(a, b []string) bool {
	for _, v := range a {
		if slices.Contains(b, v) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
