package cut

import (
	"strings"
	"testing"
)

// The built-in roles are the ones plans have always named, with their DTC
// role codes and route roles.
func TestBuiltinRoles(t *testing.T) {
	if got := strings.Join(Roles, ","); got != "supplier,mop,dc,da,distributor" {
		t.Fatalf("roles %s", got)
	}
	var codes []string
	for _, r := range BuiltinRoles.Roles {
		codes = append(codes, r.Name+"="+r.Code+":"+strings.Join(r.RouteRoles, "/"))
	}
	want := "supplier=X:Supplier mop=M:MOP/SMEM/AMEM dc=D:HHDC/NHHDC/SDSA/ADSA da=A:HHDA/NHHDA distributor=R:Distributor/MPAS"
	if got := strings.Join(codes, " "); got != want {
		t.Errorf("roles\n%s\nwant\n%s", got, want)
	}
}

// A roles file is linted: against itself and the catalogue's route roles,
// every problem at its line.
func TestRolesAreLinted(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"version: x\nroles:\n  - {name: supplier, code: X, route_roles: [Suplier]}\n", `roles.yaml:3:31: role supplier: the DTC catalogue routes no flow to or from "Suplier"`},
		{"version: x\nroles:\n  - {name: mop, code: M, route_roles: [MOP]}\n  - {name: mop, code: M, route_roles: [SMEM]}\n", `role "mop" is defined twice`},
		{"version: x\nroles:\n  - {name: ees, code: ee, route_roles: [MOP]}\n", `role ees: code "ee" must be one capital letter`},
		{"version: x\nroles:\n  - {name: Ees, code: E, route_roles: [MOP]}\n", `role name "Ees"`},
		{"version: x\nroles:\n  - {name: ees, code: E}\n", "role ees: no route roles"},
		{"version: x\nroles:\n  - {name: ees, code: E, route_roles: [MOP], pack: [ees]}\n", `pack`},
		{"version: x\nroles: []\n", "no roles"},
	} {
		_, err := LoadRoles("roles.yaml", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
	if s, err := LoadRoles("roles.yaml", []byte("version: x\nroles:\n  - {name: dc, code: D, route_roles: [UMSDSA]}\n")); err != nil || s.Named("dc").RouteRoles[0] != "UMSDSA" {
		t.Errorf("a valid file: %v", err)
	}
}
