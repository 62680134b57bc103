package plan

import (
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/pipelines"
)

func TestBuiltInPlansLint(t *testing.T) {
	plans, err := Load(pipelines.FS, builtInTypes(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sit", "uit-qualification"} {
		if plans[name] == nil {
			t.Errorf("plan %s is missing", name)
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

func TestLintErrors(t *testing.T) {
	types := builtInTypes(t)
	for _, c := range []struct{ name, yaml, want string }{
		{"unknown field", "name: x\nsi: MHSI\nsources: {cuts: [ees]}\nbogus: 1\n", "field bogus not found"},
		{"distributor reappoint", "name: x\nsi: MHSI\nsources: {cuts: [ees]}\npolicy:\n  reappoint: [distributor]\nenvironments:\n- name: E\n  participants: {supplier: [SUPA]}\n",
			"x.yaml:4: policy.reappoint: the distributor cannot be re-appointed"},
		{"bad filter value", "name: x\nsi: MHSI\nsources: {cuts: [ees]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA]}\n  demands:\n  - name: d\n    count: 2\n    filter: {segment: Q}\n",
			`x.yaml:8: environment E demand d: filter segment value "Q" is not one of S, A, U`},
		{"per role not onboarded", "name: x\nsi: MHSI\nsources: {cuts: [ees]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA]}\n  demands:\n  - name: d\n    count: 2\n    per: [mop]\n",
			"x.yaml:8: environment E demand d: per mop needs onboarded mop participants"},
		{"zero count", "name: x\nsi: MHSI\nsources: {cuts: [ees]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA]}\n  demands:\n  - name: d\n    count: 0\n",
			"x.yaml:8: environment E demand d: count must be a positive number"},
		{"OPER", "name: x\nsi: MHSI\ntest_flag: OPER\nsources: {cuts: [ees]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA]}\n",
			"x.yaml:3: test_flag"},
		{"no ees", "name: x\nsi: MHSI\nsources: {cuts: [registration]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA]}\n",
			"sources.cuts must include a cut type with universe: attributes (ees)"},
		{"unknown cut type", "name: x\nsi: MHSI\nsources: {cuts: [ees, mtd]}\nenvironments:\n- name: E\n  participants: {supplier: [SUPA]}\n",
			`x.yaml:3: sources.cuts: unknown cut type "mtd" (one of ees, mop-mtd, registration, supplier-customer)`},
		{"bad MPID", "name: x\nsi: MHSI\nsources: {cuts: [ees]}\nenvironments:\n- name: E\n  participants: {supplier: [supa1]}\n",
			`x.yaml:5: environment E: supplier "supa1" is not a 4-character MPID`},
	} {
		_, err := Decode("x.yaml", []byte(c.yaml), types)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}
