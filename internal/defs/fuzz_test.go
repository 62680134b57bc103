package defs

import (
	"testing"
	"testing/fstest"
)

// Definition files are edited by people: no input may panic the loader,
// and a failure is always an *Error with positions.
func FuzzLoad(f *testing.F) {
	f.Add("name: a\ninput:\n  format: dflow\n")
	f.Add("name: a\ninput: [\n")
	f.Add("items:\n  J0003:\n    domian: mpan\n")
	f.Add("- a\n- b\n")
	f.Add("")
	f.Add("name: &a [*a]\n")
	f.Fuzz(func(t *testing.T, text string) {
		var s sample
		_, err := Load(fstest.MapFS{"x.yaml": {Data: []byte(text)}}, "x.yaml", &s)
		if err == nil {
			return
		}
		if _, ok := err.(*Error); !ok {
			t.Fatalf("%T: %v", err, err)
		}
		for _, p := range err.(*Error).Problems {
			if p.Line < 1 || p.Col < 1 || p.File != "x.yaml" {
				t.Fatalf("problem without a position: %+v", p)
			}
		}
	})
}
