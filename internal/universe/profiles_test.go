package universe

import "testing"

// Profiles keeps each profile as symbols and gives back its values,
// whether it was appended or built, and a value is one symbol however many
// profiles hold it.
func TestProfilesKeepValues(t *testing.T) {
	var p Profiles
	a := Profile{Segment: "S", GSP: "_A", Supplier: "SUPA"}
	b := Profile{Segment: "S", GSP: "_B", Supplier: "SUPA", MOp: "MOPA"}
	if i, j := p.Append(a), p.Append(b); i != 0 || j != 1 || p.Len() != 2 {
		t.Fatalf("appended as %d and %d, %d profiles: want 0, 1 and 2", i, j, p.Len())
	}
	if p.At(0) != a || p.At(1) != b {
		t.Fatalf("profiles %v %v, want %v %v", p.At(0), p.At(1), a, b)
	}
	if len(p.sym.vals) != 6 { // "", S, _A, _B, SUPA, MOPA: each once
		t.Errorf("%d symbols %q, want 6", len(p.sym.vals), p.sym.vals)
	}
	// A built table (values, no map yet) takes more.
	built := Profiles{sym: symbols{vals: p.sym.vals}, keys: p.keys}
	c := Profile{Segment: "A", GSP: "_A", Supplier: "SUPZ"}
	if i := built.Append(c); built.At(i) != c || built.At(0) != a || built.At(1) != b {
		t.Fatalf("after a build, profiles %v %v %v", built.At(0), built.At(1), built.At(i))
	}
}
