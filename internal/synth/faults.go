package synth

import "github.com/mhhs-sit/datacut/internal/dflow"

// Fault kinds, each with the rule the validator must report.
var faultKinds = []struct{ kind, rule string }{
	{"check-digit", dflow.RuleMPANCheck},
	{"invalid-date", dflow.RuleDate},
	{"field-count", dflow.RuleFieldCount},
	{"missing-group", dflow.RuleCardMin},
}

// corrupt damages the unit starting at recs[unit] (records before it are
// context) with fault kind k, falling back to a bad check digit when the
// unit offers nothing for the kind.
func corrupt(recs []rec, unit, k int) ([]rec, Fault) {
	out := make([]rec, len(recs))
	for i, r := range recs {
		out[i] = rec{g: r.g, fields: append([][]byte(nil), r.fields...)}
	}
	switch faultKinds[k].kind {
	case "invalid-date":
		for i := unit; i < len(out); i++ {
			for j, fd := range out[i].g.Fields {
				if fd.Format.Kind == dflow.KindDate && len(out[i].fields[j]) == 8 {
					out[i].fields[j] = []byte("20230231")
					return out, Fault{Kind: "invalid-date", Rule: dflow.RuleDate}
				}
			}
		}
	case "field-count":
		out[unit].fields = append(out[unit].fields, []byte("X"))
		return out, Fault{Kind: "field-count", Rule: dflow.RuleFieldCount}
	case "missing-group":
		// Drop the first mandatory child (without children of its own).
		for i := unit + 1; i < len(out); i++ {
			g := out[i].g
			if g.Min >= 1 && len(g.Children) == 0 && countOf(out, g) == 1 {
				return append(out[:i], out[i+1:]...), Fault{Kind: "missing-group", Rule: dflow.RuleCardMin}
			}
		}
	}
	for j, fd := range out[unit].g.Fields {
		if fd.Ref == "J0003" {
			c := append([]byte(nil), out[unit].fields[j]...)
			c[12] = '0' + (c[12]-'0'+1)%10
			out[unit].fields[j] = c
		}
	}
	return out, Fault{Kind: "check-digit", Rule: dflow.RuleMPANCheck}
}

func countOf(recs []rec, g *dflow.Group) int {
	n := 0
	for _, r := range recs {
		if r.g == g {
			n++
		}
	}
	return n
}
