package cut

import (
	"fmt"
	"regexp"

	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/pipelines"
)

// RolesFile is the role definitions' file in a definitions directory.
const RolesFile = "roles.yaml"

// RoleSet is pipelines/roles.yaml: the roles whose participants load test
// data, as data.
type RoleSet struct {
	Version string `yaml:"version"`
	Roles   []Role `yaml:"roles"`
}

// Role is one role: its name in plans and cut types, its DTC role code,
// the DTC route roles it stands for and the universe attribute naming an
// MPAN's appointee of it. A central role (a central system such as the
// EES) has no appointee: each of an environment's participants of it
// loads every MPAN allocated to the environment.
type Role struct {
	Name       string   `yaml:"name"`
	Code       string   `yaml:"code"`        // DTC role code (J0001) of its packs' D-flows
	RouteRoles []string `yaml:"route_roles"` // the catalogue's route role names
	// Appointee is the universe attribute holding an MPAN's appointee of
	// the role (supplier, mop, dc, da, distributor); none for a central role.
	Appointee string `yaml:"appointee"`
	// Central marks a central system: no appointee, no re-appointment, no
	// per key; its packs hold every MPAN of the environment. Its route
	// roles and code may be left out (its packs then carry no D-flow).
	Central bool `yaml:"central"`
}

// Defaults: nothing to fill in.
func (s *RoleSet) Defaults() {}

var (
	roleNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,29}$`)
	roleCodeRE = regexp.MustCompile(`^[A-Z]$`)
)

// Validate checks the roles against each other and the DTC catalogue.
func (s *RoleSet) Validate(doc *defs.Doc) {
	if len(s.Roles) == 0 {
		doc.Fail(defs.Path("roles"), "no roles")
	}
	routed := map[string]bool{}
	for _, f := range dflow.DefaultCatalog().Flows {
		for _, r := range f.Routes {
			routed[r.From], routed[r.To] = true, true
		}
	}
	list, _ := defs.Child(doc.Root(), "roles")
	seen := map[string]bool{}
	for i, r := range s.Roles {
		at := func(key string) *yaml.Node { // the role's key, or the nearest node present
			if list == nil || list.Kind != yaml.SequenceNode || i >= len(list.Content) {
				return doc.Key("roles")
			}
			if _, k := defs.Child(list.Content[i], key); k != nil {
				return k
			}
			return list.Content[i]
		}
		switch {
		case !roleNameRE.MatchString(r.Name):
			doc.FailAt(at("name"), "role name %q: lower-case letters, digits and '_', starting with a letter", r.Name)
		case seen[r.Name]:
			doc.FailAt(at("name"), "role %q is defined twice", r.Name)
		}
		seen[r.Name] = true
		switch {
		case r.Central && r.Appointee != "":
			doc.FailAt(at("appointee"), "role %s: a central role has no appointee (its participants load every MPAN of their environment); leave out appointee", r.Name)
		case !r.Central && !roleNameRE.MatchString(r.Appointee):
			doc.FailAt(at("appointee"), "role %s: appointee %q: the universe attribute holding an MPAN's appointee of the role (or central: true for a central system)", r.Name, r.Appointee)
		}
		if !roleCodeRE.MatchString(r.Code) && (!r.Central || r.Code != "" || len(r.RouteRoles) > 0) {
			doc.FailAt(at("code"), "role %s: code %q must be one capital letter (a DTC role code, J0001)", r.Name, r.Code)
		}
		if len(r.RouteRoles) == 0 && !r.Central {
			doc.FailAt(at("route_roles"), "role %s: no route roles (the catalogue's route role names it stands for)", r.Name)
		}
		for _, rr := range r.RouteRoles {
			if !routed[rr] {
				doc.FailAt(at("route_roles"), "role %s: the DTC catalogue routes no flow to or from %q", r.Name, rr)
			}
		}
	}
}

// LoadRoles reads and lints a role definitions file.
func LoadRoles(file string, b []byte) (*RoleSet, error) {
	s := &RoleSet{}
	if _, err := defs.LoadBytes(file, b, s); err != nil {
		return nil, err
	}
	return s, nil
}

// Named is the role called name, or nil.
func (s *RoleSet) Named(name string) *Role {
	for i := range s.Roles {
		if s.Roles[i].Name == name {
			return &s.Roles[i]
		}
	}
	return nil
}

// Names are the roles' names, in file order (the reports' order).
func (s *RoleSet) Names() []string {
	out := make([]string, len(s.Roles))
	for i, r := range s.Roles {
		out[i] = r.Name
	}
	return out
}

// names are the names of the roles central or not, in file order.
func (s *RoleSet) names(central bool) []string {
	var out []string
	for _, r := range s.Roles {
		if r.Central == central {
			out = append(out, r.Name)
		}
	}
	return out
}

// BuiltinRoles are the binary's roles, pipelines/roles.yaml.
var BuiltinRoles = mustLoadRoles()

func mustLoadRoles() *RoleSet {
	b, err := pipelines.FS.ReadFile(RolesFile)
	if err == nil {
		var s *RoleSet
		if s, err = LoadRoles("pipelines/"+RolesFile, b); err == nil {
			return s
		}
	}
	panic(fmt.Sprintf("the built-in roles: %v", err))
}

// Roles are the market roles whose appointees load test data, in report
// order (pipelines/roles.yaml): each MPAN has an appointee of each (or none,
// as an unmetered supply has no MOp). The registration service's data
// reaches participants as the distributor's.
var Roles = BuiltinRoles.names(false)

// CentralRoles are the central systems that load test data (the EES): no
// appointee; their participants load every MPAN of their environment.
var CentralRoles = BuiltinRoles.names(true)

// AllRoles are every role a plan or cut type may name: Roles, then
// CentralRoles.
var AllRoles = append(append([]string(nil), Roles...), CentralRoles...)
