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
	if got := strings.Join(CentralRoles, ","); got != "ees" || strings.Join(AllRoles, ",") != "supplier,mop,dc,da,distributor,ees" {
		t.Fatalf("central roles %s, all %v", got, AllRoles)
	}
	var codes []string
	for _, r := range BuiltinRoles.Roles {
		codes = append(codes, r.Name+"="+r.Code+":"+strings.Join(r.RouteRoles, "/")+"@"+r.Appointee)
	}
	want := "supplier=X:Supplier@supplier mop=M:MOP/SMEM/AMEM@mop dc=D:HHDC/NHHDC/SDSA/ADSA@dc da=A:HHDA/NHHDA@da distributor=R:Distributor/MPAS@distributor ees=:@"
	if got := strings.Join(codes, " "); got != want {
		t.Errorf("roles\n%s\nwant\n%s", got, want)
	}
}

// A roles file is linted: against itself and the catalogue's route roles,
// every problem at its line.
func TestRolesAreLinted(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"version: x\nroles:\n  - {name: supplier, appointee: supplier, code: X, route_roles: [Suplier]}\n", `roles.yaml:3:52: role supplier: the DTC catalogue routes no flow to or from "Suplier"`},
		{"version: x\nroles:\n  - {name: mop, code: M, route_roles: [MOP]}\n  - {name: mop, code: M, route_roles: [SMEM]}\n", `role "mop" is defined twice`},
		{"version: x\nroles:\n  - {name: ees, code: ee, route_roles: [MOP]}\n", `role ees: code "ee" must be one capital letter`},
		{"version: x\nroles:\n  - {name: Ees, code: E, route_roles: [MOP]}\n", `role name "Ees"`},
		{"version: x\nroles:\n  - {name: ees, code: E}\n", "role ees: no route roles"},
		{"version: x\nroles:\n  - {name: ees, code: E, route_roles: [MOP], pack: [ees]}\n", `pack`},
		{"version: x\nroles: []\n", "no roles"},
		// Every role but a central one names its appointee's attribute.
		{"version: x\nroles:\n  - {name: mop, code: M, route_roles: [MOP]}\n", `roles.yaml:3:5: role mop: appointee ""`},
		// A central role has no appointee, and D-flows need a code.
		{"version: x\nroles:\n  - {name: ees, central: true, appointee: supplier}\n", `roles.yaml:3:32: role ees: a central role has no appointee`},
		{"version: x\nroles:\n  - {name: ees, central: true, route_roles: [MOP]}\n", `role ees: code "" must be one capital letter`},
		{"version: x\nroles:\n  - {name: ees, central: true, code: ee}\n", `role ees: code "ee" must be one capital letter`},
		{"version: x\nroles:\n  - {name: ees, central: true, route_roles: [EES], code: E}\n", `routes no flow to or from "EES"`},
	} {
		_, err := LoadRoles("roles.yaml", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
	if s, err := LoadRoles("roles.yaml", []byte("version: x\nroles:\n  - {name: dc, appointee: dc, code: D, route_roles: [UMSDSA]}\n  - {name: ees, central: true}\n")); err != nil || s.Named("dc").RouteRoles[0] != "UMSDSA" || !s.Named("ees").Central {
		t.Errorf("a valid file: %v", err)
	}
}
