package mask

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/brianvoe/gofakeit/v7"
)

// TestEveryMethodIsComplete: each listed method carries what the rules,
// the masker and the reference need.
func TestEveryMethodIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range methods {
		if m.name == "" || seen[m.name] {
			t.Errorf("method %q: no name or listed twice", m.name)
		}
		seen[m.name] = true
		for what, s := range map[string]string{"summary": m.summary, "usedFor": m.usedFor} {
			if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "|\n") {
				t.Errorf("method %s: %s must be one non-empty line with no '|' (it goes in a table): %q", m.name, what, s)
			}
		}
		if m.build == nil {
			t.Errorf("method %s has no constructor", m.name)
		}
		if m.perInstance && !m.cached {
			t.Errorf("method %s: perInstance needs cached", m.name)
		}
		if m.onlyMPAN && !m.mpanItems {
			t.Errorf("method %s: onlyMPAN needs mpanItems", m.name)
		}
		for _, o := range m.options {
			if o.key == "" || o.doc == "" || o.get == nil || strings.Contains(o.doc, "\n") {
				t.Errorf("method %s: option %q needs a key, a one-line doc and get", m.name, o.key)
			}
			for _, v := range o.values {
				if v.value == "" || v.doc == "" {
					t.Errorf("method %s: option %s: value %q needs a doc", m.name, o.key, v.value)
				}
			}
		}
	}
	for _, name := range []string{MethodKeep, MethodBlank, MethodConstant, MethodRedact, MethodMPAN, MethodIdentifier, MethodFake} {
		if methodNamed(name) == nil {
			t.Errorf("Method constant %q is not listed", name)
		}
	}
}

var oneOf = regexp.MustCompile(`unknown method "scramble" \(one of ([^)]*)\)`)

// TestUnknownMethodListsTheMethods: the error names exactly the listed
// methods, in order.
func TestUnknownMethodListsTheMethods(t *testing.T) {
	res, _ := testResolver(t)
	_, err := ParseRules("r.yaml", []byte("version: x\ndomains:\n  d: {method: scramble}\n"), res)
	if err == nil {
		t.Fatal("an unknown method was accepted")
	}
	sm := oneOf.FindStringSubmatch(err.Error())
	var want []string
	for _, m := range methods {
		want = append(want, m.name)
	}
	if sm == nil || sm[1] != strings.Join(want, ", ") {
		t.Fatalf("got %v, want the methods %s", err, strings.Join(want, ", "))
	}
}

var onlyFor = regexp.MustCompile(`: (\w+) is only for methods? ([a-z, ]+)$`)

// TestOptionOnTheWrongMethod: every option given to every method that
// does not take it is refused, naming the methods that do.
func TestOptionOnTheWrongMethod(t *testing.T) {
	res, _ := testResolver(t)
	keys := map[string]bool{}
	for _, m := range methods {
		for _, o := range m.options {
			if keys[o.key] {
				continue
			}
			keys[o.key] = true
			var takers []string
			for _, tm := range methods {
				if slices.ContainsFunc(tm.options, func(x *option) bool { return x.key == o.key }) {
					takers = append(takers, tm.name)
				}
			}
			value := "true"
			if len(o.values) > 0 {
				value = o.values[0].value
			}
			for _, wrong := range methods {
				if slices.Contains(takers, wrong.name) {
					continue
				}
				domain := "{method: " + wrong.name
				for _, req := range wrong.options {
					if req.required {
						domain += ", " + req.key + ": " + req.values[0].value
					}
				}
				item, ref := "d", "J0375"
				if wrong.onlyMPAN {
					ref = "J0003"
				}
				if o.perItem {
					item = "{domain: d, " + o.key + ": " + value + "}"
				} else {
					domain += ", " + o.key + ": " + value
				}
				src := "version: x\ndomains:\n  d: " + domain + "}\nitems:\n  " + ref + ": " + item + "\n"
				_, err := ParseRules("r.yaml", []byte(src), res)
				if err == nil {
					t.Errorf("%s on method %s accepted:\n%s", o.key, wrong.name, src)
					continue
				}
				sm := onlyFor.FindStringSubmatch(err.Error())
				if sm == nil || sm[1] != o.key || sm[2] != strings.Join(takers, ", ") {
					t.Errorf("%s on method %s: got %v, want it to name %s", o.key, wrong.name, err, strings.Join(takers, ", "))
				}
			}
		}
	}
	if len(keys) == 0 {
		t.Fatal("no options listed")
	}
}

// reverseMethod is a method this test adds to the list.
type reverseMethod struct{}

func (reverseMethod) mask(v []byte, _ int) ([]byte, error) {
	out := slices.Clone(v)
	slices.Reverse(out)
	return out, nil
}

// TestAMethodIsOneUnit: listing a method is all it takes for the rules to
// accept it, the masker to use it, its errors to name it and the reference
// to describe it.
func TestAMethodIsOneUnit(t *testing.T) {
	saved := methods
	defer func() { methods = saved }()
	methods = append(slices.Clone(methods), &methodSpec{
		name:     "reverse",
		summary:  "the value backwards",
		usedFor:  "this test",
		options:  []*option{identifierSpec.option("alphabet")},
		textOnly: true,
		build:    func(*Domain, []byte) (method, error) { return reverseMethod{}, nil },
	})
	res, _ := testResolver(t)
	rules, err := ParseRules("r.yaml", []byte("version: x\ndomains:\n  r: {method: reverse, alphabet: hex}\nitems:\n  J0375: r\n"), res)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ParseKey(testKeyHex)
	m, err := New(rules, k, res)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustMask(t, m, "J0375", "Jane"); got != "enaJ" {
		t.Errorf("reverse masked Jane to %q", got)
	}
	for src, want := range map[string]string{
		"version: x\ndomains:\n  d: {method: scramble}\n":                    "one of keep, blank, constant, redact, mpan, identifier, fake, reverse)",
		"version: x\ndomains:\n  d: {method: mpan, alphabet: hex}\n":         "alphabet is only for methods identifier, reverse",
		"version: x\ndomains:\n  d: {method: reverse}\nitems:\n  J0848: d\n": "method reverse needs a text item",
	} {
		if _, err := ParseRules("r.yaml", []byte(src), res); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", src, err, want)
		}
	}
	var b bytes.Buffer
	if err := WriteMethodsReference(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| [`reverse`](#reverse) | the value backwards | `alphabet` | no | this test |") || !strings.Contains(b.String(), "## `reverse`") {
		t.Errorf("the reference does not describe the new method")
	}
}

// FuzzNormaliseASCII: the fake method's ASCII fast path normalises as
// normalise does, and the pooled HMAC and faker fake as a new one would.
func FuzzNormaliseASCII(f *testing.F) {
	for _, s := range []string{"", " ", "  Flat 1 ", "FLAT  1", "a\tb\r\nc\v\fd", "x\u00a0y", "élan", "\xff", "Ab1-2 z"} {
		f.Add([]byte(s))
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	fm := fakeSpec.build
	f.Fuzz(func(t *testing.T, v []byte) {
		if got, ok := normaliseASCII(v, nil); ok && string(got) != normalise(v) {
			t.Fatalf("%q: %q, normalise %q", v, got, normalise(v))
		}
		m, _ := fm(&Domain{Fake: "address_line"}, key)
		m.(*fakeMethod).mask([]byte("another value"), 0) // the pooled state used before
		out, _ := m.(*fakeMethod).mask(v, 0)
		h := hmac.New(sha256.New, key)
		h.Write([]byte(normalise(v)))
		s := h.Sum(nil)
		g := gofakeit.NewFaker(rand.NewPCG(binary.BigEndian.Uint64(s), binary.BigEndian.Uint64(s[8:])), false)
		if want := g.Street(); string(out) != want {
			t.Fatalf("%q: %q, a new faker %q", v, out, want)
		}
	})
}

// TestFakePostcodeInward: the inward code is the digit and two letters the
// faker draws, in that order (as fmt made it before).
func TestFakePostcodeInward(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		g := gofakeit.NewFaker(rand.NewPCG(seed, seed), false)
		h := gofakeit.NewFaker(rand.NewPCG(seed, seed), false)
		got := fakePostcode(g, []byte("SW1A 1AA"), seed%2 == 0)
		inward := fmt.Sprintf("%d%c%c", h.IntN(10), inLetters[h.IntN(len(inLetters))], inLetters[h.IntN(len(inLetters))])
		if !strings.HasSuffix(got, " "+inward) {
			t.Fatalf("seed %d: %q, want inward %q", seed, got, inward)
		}
	}
}
