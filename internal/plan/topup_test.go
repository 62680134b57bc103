package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/defs"
)

// policy.top_up is off unless given, and then needs a limit; each problem
// is the only one of its plan, at the key or value to change.
func TestTopUpLint(t *testing.T) {
	types := builtInTypes(t)
	for _, c := range []struct{ name, yaml, want string }{
		{"empty", head + "policy:\n  top_up: {}\n" + env, "x.yaml:5:3: policy.top_up: give units (the most synthetic units of the plan), per_demand (of one demand) or both"},
		{"null", head + "policy:\n  top_up:\n" + env, "x.yaml:5:10: policy.top_up: give units"},
		{"zeros", head + "policy:\n  top_up: {units: 0, per_demand: 0}\n" + env, "x.yaml:5:3: policy.top_up: give units"},
		{"negative units", head + "policy:\n  top_up: {units: -3}\n" + env, "x.yaml:5:19: policy.top_up.units: -3: the most synthetic units of the plan is 1 or more"},
		{"negative per demand", head + "policy:\n  top_up: {units: 5, per_demand: -1}\n" + env, "x.yaml:5:34: policy.top_up.per_demand: -1: the most synthetic units of one demand is 1 or more"},
		{"fractional", head + "policy:\n  top_up: {units: 2.5}\n" + env, "x.yaml:5:19: cannot unmarshal !!float `2.5` into int: a whole number is needed"},
		{"unknown key", head + "policy:\n  top_up: {max: 5}\n" + env, `x.yaml:5:12: unknown key "max" (known here: per_demand, units)`},
	} {
		_, err := Decode("x.yaml", []byte(c.yaml), types)
		var de *defs.Error
		if !errors.As(err, &de) || len(de.Problems) != 1 || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v, want one problem: %s", c.name, err, c.want)
		}
	}
	for _, c := range []struct {
		yaml             string
		on               bool
		units, perDemand int
	}{
		{head + env, false, 0, 0},
		{head + "policy: {top_up: {units: 200}}\n" + env, true, 200, 0},
		{head + "policy: {top_up: {per_demand: 7}}\n" + env, true, 0, 7},
		{head + "policy: {top_up: {units: 50, per_demand: 7}}\n" + env, true, 50, 7},
	} {
		p, err := Decode("x.yaml", []byte(c.yaml), types)
		if err != nil {
			t.Fatal(err)
		}
		if on, u, d := p.TopUpLimits(); on != c.on || u != c.units || d != c.perDemand {
			t.Errorf("%q: top-up %v %d %d, want %v %d %d", c.yaml, on, u, d, c.on, c.units, c.perDemand)
		}
	}
}
