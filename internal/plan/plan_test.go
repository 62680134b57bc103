package plan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/pipelines"
)

func TestBuiltInPlansLint(t *testing.T) {
	plans, err := Load(pipelines.FS, builtInTypes(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sit", "uit-qualification"} {
		p := plans[name]
		if p == nil {
			t.Fatalf("plan %s is missing", name)
		}
		if p.Path != "plans/"+name+".yaml" || len(p.Raw) == 0 || len(p.Hash) != 64 || p.TestFlag == "" || p.Policy.Fairness != "max-min" {
			t.Errorf("plan %s: path %q, %d bytes, hash %q, test flag %q, fairness %q", name, p.Path, len(p.Raw), p.Hash, p.TestFlag, p.Policy.Fairness)
		}
		if len(p.Sources.Types) != len(p.Sources.Cuts) || len(p.Packs) == 0 {
			t.Errorf("plan %s: sources %v resolved to %d types, packs %v", name, p.Sources.Cuts, len(p.Sources.Types), p.Packs)
		}
	}
}

func builtInTypes(t *testing.T) cut.Types {
	t.Helper()
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	return types
}

const head = "name: x\nsi: MHSI\nsources: {cuts: [ees]}\n"
const env = "environments:\n- name: E\n  participants: {supplier: [SUPA]}\n"

// Each problem is the only one of its plan, at the key or value to change:
// without its check the plan would decode cleanly.
func TestLintErrors(t *testing.T) {
	types := builtInTypes(t)
	for _, c := range []struct{ name, yaml, want string }{
		{"unknown key", head + "bogus: 1\n" + env,
			`x.yaml:4:1: unknown key "bogus" (known here: description, environments, name, packs, policy, seed, si, sources, test_flag)`},
		{"unknown nested key", head + env + "  demands:\n  - name: d\n    count: 2\n    filters: {segment: S}\n",
			`x.yaml:10:5: unknown key "filters" (known here: count, filter, name, per)`},
		{"type error", head + "seed: soon\n" + env, "x.yaml:4:1: cannot unmarshal !!str `soon` into uint64"},
		{"syntax error", head + env + "  demands: [\n", "x.yaml:7:"},
		{"bad name", "name: x/y\nsi: MHSI\nsources: {cuts: [ees]}\n" + env, `x.yaml:1:7: name "x/y" must be letters, digits, '.', '_' or '-'`},
		{"bad si", "name: x\nsi: MHSIX\nsources: {cuts: [ees]}\n" + env, `x.yaml:2:5: si must be the Systems Integrator's 4-character MPID (the sender of load packs), got "MHSIX"`},
		{"OPER", head + "test_flag: OPER\n" + env, `x.yaml:4:12: test_flag "OPER": load packs are test data`},
		{"no sources", "name: x\nsi: MHSI\n" + env, "x.yaml:1:1: sources.cuts must list the cut types that form the universe"},
		{"unknown cut type", "name: x\nsi: MHSI\nsources: {cuts: [ees, mtd]}\n" + env,
			`x.yaml:3:23: sources.cuts: unknown cut type "mtd" (one of ees, mop-mtd, registration, supplier-customer)`},
		{"no ees", "name: x\nsi: MHSI\nsources:\n  cuts: [registration]\n" + env,
			"x.yaml:4:3: sources.cuts must include a cut type with universe: attributes (ees)"},
		{"pin of a cut not among the sources", "name: x\nsi: MHSI\nsources:\n  cuts: [ees]\n  pins: {registration: {GUCL: 3}}\n" + env,
			`x.yaml:5:10: sources.pins: cut "registration" is not among sources.cuts (ees)`},
		{"pin of a bad MPID", "name: x\nsi: MHSI\nsources:\n  cuts: [ees]\n  pins:\n    ees: {gucl: 3}\n" + env,
			`x.yaml:6:11: sources.pins.ees: "gucl" is not a 4-character MPID`},
		{"pin of version 0", "name: x\nsi: MHSI\nsources:\n  cuts: [ees]\n  pins:\n    ees:\n      GUCL: 0\n" + env,
			"x.yaml:7:13: sources.pins.ees.GUCL: version 0: versions are numbered from 1"},
		{"pin that is not a number", "name: x\nsi: MHSI\nsources:\n  cuts: [ees]\n  pins: {ees: {GUCL: latest}}\n" + env,
			"x.yaml:5:"},
		{"unknown sources key", "name: x\nsi: MHSI\nsources:\n  cuts: [ees]\n  pin: {ees: {GUCL: 3}}\n" + env,
			`x.yaml:5:3: unknown key "pin" (known here: cuts, pins)`},
		{"fairness", head + "policy: {fairness: first-come}\n" + env, `x.yaml:4:20: policy.fairness "first-come": the only rule is max-min`},
		{"distributor reappoint", head + "policy:\n  reappoint: [mop, distributor]\n" + env,
			"x.yaml:5:20: policy.reappoint: the distributor cannot be re-appointed"},
		{"unknown reappoint role", head + "policy:\n  reappoint: [mop, meter]\n" + env, `x.yaml:5:20: policy.reappoint: unknown role "meter"`},
		// A central system (the EES) has no appointee to re-appoint or split by.
		{"central reappoint", head + "policy:\n  reappoint: [mop, ees]\n" + env, "x.yaml:5:20: policy.reappoint: ees is a central system"},
		{"per central role", head + "environments:\n- name: E\n  participants: {supplier: [SUPA], ees: [ECOE]}\n  demands:\n  - name: d\n    count: 2\n    per: [ees]\n",
			"x.yaml:10:11: environment E demand d: per ees: ees is a central system"},
		{"central pack of a D-flow cut", "name: x\nsi: MHSI\nsources: {cuts: [ees, registration]}\npacks: {ees: [registration]}\n" + env,
			"x.yaml:4:15: packs.ees: cut registration carries no flow the DTC routes to or from a ees"},
		{"packs role", head + "packs:\n  supplier: [ees]\n  meter: [ees]\n" + env, `x.yaml:6:3: packs: unknown role "meter"`},
		{"packs cut", head + "packs:\n  supplier: [ees, registration]\n" + env, `x.yaml:5:19: packs.supplier: cut "registration" is not among sources.cuts`},
		{"no environments", head, "x.yaml:1:1: a plan needs at least one environment"},
		{"environment name", head + "environments:\n- name: E F\n  participants: {supplier: [SUPA]}\n", `x.yaml:5:9: environment name "E F" must be letters`},
		{"environment twice", head + env + "- name: E\n  participants: {supplier: [SUPB]}\n", `x.yaml:7:9: environment "E" is defined twice`},
		{"no participants", head + "environments:\n- name: E\n  demands: []\n", "x.yaml:5:3: environment E lists no onboarded participants"},
		{"unknown role", head + "environments:\n- name: E\n  participants:\n    supplier: [SUPA]\n    meter: [MTRA]\n", `x.yaml:8:5: environment E: unknown role "meter"`},
		{"bad MPID", head + "environments:\n- name: E\n  participants: {supplier: [SUPA, supa1]}\n", `x.yaml:6:35: environment E: supplier "supa1" is not a 4-character MPID`},
		{"MPID twice", head + "environments:\n- name: E\n  participants: {supplier: [SUPA, SUPA]}\n", "x.yaml:6:35: environment E: supplier SUPA is listed twice"},
		{"demand name", head + env + "  demands:\n  - name: d/1\n    count: 2\n", `x.yaml:8:11: environment E: demand name "d/1" must be letters`},
		{"demand twice", head + env + "  demands:\n  - {name: d, count: 2}\n  - {name: d, count: 1}\n", "x.yaml:9:12: environment E demand d is defined twice"},
		{"zero count", head + env + "  demands:\n  - name: d\n    count: 0\n", "x.yaml:9:12: environment E demand d: count must be a positive number of units"},
		{"fractional count", head + env + "  demands:\n  - name: d\n    count: 2.5\n", "x.yaml:9:12: cannot unmarshal !!float `2.5` into int: a whole number is needed"},
		{"fractional pin", "name: x\nsi: MHSI\nsources:\n  cuts: [ees]\n  pins: {ees: {GUCL: 1.5}}\n" + env,
			"x.yaml:5:22: cannot unmarshal !!float `1.5` into int: a whole number is needed"},
		{"missing count", head + env + "  demands:\n  - name: d\n", "x.yaml:8:5: environment E demand d: count must be a positive number of units"},
		{"unknown attribute", head + env + "  demands:\n  - name: d\n    count: 2\n    filter: {colour: red}\n", `x.yaml:10:14: environment E demand d: unknown filter attribute "colour"`},
		{"bad filter value", head + env + "  demands:\n  - name: d\n    count: 2\n    filter: {segment: Q}\n",
			`x.yaml:10:23: environment E demand d: filter segment value "Q" is not one of S, A, U`},
		{"bad filter value in a list", head + env + "  demands:\n  - name: d\n    count: 2\n    filter:\n      gsp_group: [_A, _Q]\n",
			`x.yaml:11:23: environment E demand d: filter gsp_group value "_Q" is not one of _A,`},
		{"empty filter list", head + env + "  demands:\n  - name: d\n    count: 2\n    filter: {meter_type: []}\n", "x.yaml:10:14: environment E demand d: filter meter_type lists no values"},
		{"empty filter value", head + env + "  demands:\n  - name: d\n    count: 2\n    filter: {meter_type: [N, \"\"]}\n", "x.yaml:10:30: environment E demand d: filter meter_type has an empty value"},
		{"filter value not a value", head + env + "  demands:\n  - name: d\n    count: 2\n    filter: {segment: {a: b}}\n", "x.yaml:10:23: environment E demand d: filter segment: a filter value is a value or a list of values"},
		{"per twice", head + env + "  demands:\n  - name: d\n    count: 2\n    per: [supplier, supplier]\n", "x.yaml:10:21: environment E demand d: per lists supplier twice"},
		{"per role not onboarded", head + env + "  demands:\n  - name: d\n    count: 2\n    per: [supplier, mop]\n",
			"x.yaml:10:21: environment E demand d: per mop needs onboarded mop participants in the environment"},
		{"per open attribute", head + env + "  demands:\n  - name: d\n    count: 2\n    per: [meter_type]\n", "x.yaml:10:11: environment E demand d: per meter_type needs its values listed in the filter"},
		{"has unknown", head + env + "  demands:\n  - name: d\n    count: 2\n    filter: {has: [meters]}\n",
			`x.yaml:10:20: environment E demand d: filter has value "meters" is not one of customer, mtd, registration`},
		{"has data no source holds", head + env + "  demands:\n  - name: d\n    count: 2\n    filter: {has: [mtd]}\n",
			"x.yaml:10:20: environment E demand d: filter has mtd: no source cut type holds it (sources.cuts needs one with universe: mtd)"},
		{"per has", "name: x\nsi: MHSI\nsources: {cuts: [ees, mop-mtd]}\n" + env + "  demands:\n  - name: d\n    count: 2\n    filter: {has: mtd}\n    per: [has]\n",
			"x.yaml:11:11: environment E demand d: per has: has is a filter only"},
		{"pack cut not routed to the role", "name: x\nsi: MHSI\nsources: {cuts: [ees, registration]}\npacks:\n  dc: [registration]\n" + env,
			"x.yaml:5:8: packs.dc: cut registration carries no flow the DTC routes to or from a dc (D0204, D0171, D0217, D0260)"},
		{"allow_missing_data not a boolean", head + "policy: {allow_missing_data: often}\n" + env, "x.yaml:4:1: cannot unmarshal !!str `often` into bool"},
		{"per unknown", head + env + "  demands:\n  - name: d\n    count: 2\n    per: [colour]\n", `x.yaml:10:11: environment E demand d: per "colour" is neither a role`},
	} {
		_, err := Decode("x.yaml", []byte(c.yaml), types)
		var de *defs.Error
		if !errors.As(err, &de) || len(de.Problems) != 1 || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v, want one problem: %s", c.name, err, c.want)
		}
	}
}

func TestEveryProblemInFileOrder(t *testing.T) {
	_, err := Decode("x.yaml", []byte("name: x\nsi: mhsi\nsources: {cuts: [ees]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA], mop: [m1]}\n  demands:\n  - {name: d, count: 0, filter: {segment: Q}}\n"), builtInTypes(t))
	var de *defs.Error
	if !errors.As(err, &de) {
		t.Fatalf("got %v", err)
	}
	var got []string
	for _, p := range de.Problems {
		got = append(got, p.String()[:strings.Index(p.String(), ": ")])
	}
	if want := "x.yaml:2:5 x.yaml:6:42 x.yaml:8:22 x.yaml:8:43"; strings.Join(got, " ") != want {
		t.Fatalf("problems at %v, want %s:\n%v", got, want, err)
	}
}

func TestDefaults(t *testing.T) {
	p, err := Decode("x.yaml", []byte("name: x\nsi: MHSI\nsources: {cuts: [ees, registration]}\n"+env), builtInTypes(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.TestFlag != "TR01" || p.Policy.Fairness != "max-min" {
		t.Errorf("test flag %q, fairness %q", p.TestFlag, p.Policy.Fairness)
	}
	if got := strings.Join(p.Packs["supplier"], ","); got != "ees,registration" {
		t.Errorf("supplier packs %q, want the sources loaded_by names supplier for", got)
	}
	if got := strings.Join(p.Packs["distributor"], ","); got != "registration" {
		t.Errorf("distributor packs %q", got)
	}
	// A plan's packs replace the default role by role: a role it leaves
	// out (dc) keeps the default, [] gives none.
	p, err = Decode("x.yaml", []byte("name: x\nsi: MHSI\nsources: {cuts: [ees, registration, mop-mtd]}\npacks:\n  supplier: [ees]\n  distributor: []\n"+env), builtInTypes(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(p.Packs["supplier"], p.Packs["mop"], p.Packs["dc"], p.Packs["distributor"]); got != "[ees] [mop-mtd] [mop-mtd] []" {
		t.Errorf("packs supplier, mop, dc, distributor: %s", got)
	}
}

// TestReceivesByRoute: of a pack's cut, a role receives the D-flows the
// catalogue routes to or from it (D0268 to the HHDC, D0150 to the NHHDC;
// neither to a DA), and every cut of no D-flow (EES).
func TestReceivesByRoute(t *testing.T) {
	p := &Plan{Packs: map[string][]string{"dc": {"mop-mtd"}, "da": {"mop-mtd"}, "supplier": {"ees", "registration"}, "distributor": {"registration"}}}
	for _, c := range []struct {
		role string
		d    DataSet
		want bool
	}{
		{"dc", DataSet{"mop-mtd", "D0150"}, true}, {"dc", DataSet{"mop-mtd", "D0268"}, true}, {"dc", DataSet{"mop-mtd", "D0149"}, true},
		{"da", DataSet{"mop-mtd", "D0150"}, false}, {"dc", DataSet{"registration", "D0204"}, false},
		{"supplier", DataSet{"ees", ""}, true}, {"supplier", DataSet{"registration", "D0204"}, true},
		{"distributor", DataSet{"registration", "D0204"}, true}, {"distributor", DataSet{"ees", ""}, false},
	} {
		if got := p.Receives(c.role, c.d); got != c.want {
			t.Errorf("%s receives %v: %v, want %v", c.role, c.d, got, c.want)
		}
	}
}

func TestPins(t *testing.T) {
	p, err := Decode("x.yaml", []byte("name: x\nsi: MHSI\nsources:\n  cuts: [ees, registration]\n  pins:\n    registration: {GUCL: 3, LOND: 1}\n"+env), builtInTypes(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Sources.Pin("registration", "GUCL") != 3 || p.Sources.Pin("registration", "LOND") != 1 || p.Sources.Pin("ees", "GUCL") != 0 || p.Sources.Pin("registration", "EELC") != 0 {
		t.Errorf("pins %v", p.Sources.Pins)
	}
}

func TestLoad(t *testing.T) {
	types := builtInTypes(t)
	good := head + env
	plans, err := Load(fstest.MapFS{"plans/x.yaml": {Data: []byte(good)}, "plans/notes.txt": {Data: []byte("x")}}, types)
	if err != nil || len(plans) != 1 || plans["x"] == nil || plans["x"].Path != "plans/x.yaml" {
		t.Fatalf("got %v, %v", plans, err)
	}
	_, err = Load(fstest.MapFS{"plans/y.yaml": {Data: []byte(good)}, "plans/z.yaml": {Data: []byte(head + "bogus: 1\n" + env)}}, types)
	want := "2 problems:\n  plans/y.yaml:1:7: name \"x\" must match the file name \"y\"\n  plans/z.yaml:4:1: unknown key \"bogus\""
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want every file's problems: %s", err, want)
	}
	// A plans/*.yaml that cannot be read is an error, not a plan less.
	_, err = Load(fstest.MapFS{"plans/x.yaml": {Data: []byte(good)}, "plans/dir.yaml/a": {Data: []byte("x")}}, types)
	if err == nil || !strings.Contains(err.Error(), "reading plans/dir.yaml") {
		t.Fatalf("unreadable plan: %v", err)
	}
}

// The role tables come from pipelines/roles.yaml: codes and route roles by
// role, and a D-flow routed to a route role reaches that role's pack.
func TestRolesFromData(t *testing.T) {
	if len(Roles) != 5 || len(RoleCodes) != len(AllRoles) || len(RouteRoles) != len(AllRoles) || strings.Join(CentralRoles, ",") != "ees" {
		t.Fatalf("roles %v, codes %v, route roles %v", Roles, RoleCodes, RouteRoles)
	}
	for role, code := range map[string]string{"supplier": "X", "mop": "M", "dc": "D", "da": "A", "distributor": "R"} {
		if RoleCodes[role] != code {
			t.Errorf("%s: code %q, want %s", role, RoleCodes[role], code)
		}
	}
	for _, c := range []struct {
		flow, role string
		routed     bool
	}{{"D0150", "dc", true}, {"D0150", "mop", true}, {"D0204", "distributor", true}, {"D0204", "mop", false}, {"D0302", "supplier", true}, {"D0150", "ees", false}} {
		if got := FlowRouted(c.flow, c.role); got != c.routed {
			t.Errorf("%s routed to or from %s: %v, want %v", c.flow, c.role, got, c.routed)
		}
	}
}

// An environment onboards the EES, a central system, like any role; its
// pack carries the ees cut by default (the cut type's loaded_by).
func TestCentralRoleOnboarded(t *testing.T) {
	p, err := Decode("x.yaml", []byte("name: x\nsi: MHSI\nsources: {cuts: [ees, registration]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA], ees: [ECOE]}\n"), builtInTypes(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Packs["ees"]; len(got) != 1 || got[0] != "ees" {
		t.Errorf("ees packs %v, want [ees]", got)
	}
	if !p.Receives("ees", DataSet{Cut: "ees"}) || p.Receives("ees", DataSet{Cut: "registration", Flow: "D0204"}) {
		t.Error("the EES receives its cut's rows and no D-flow")
	}
}
