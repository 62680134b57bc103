package mask

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"math/rand/v2"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/brianvoe/gofakeit/v7"
)

// MethodFake replaces personal data with realistic fakes seeded by a keyed
// hash of the normalised value.
const MethodFake = "fake"

var fakeSpec = &methodSpec{
	name:    MethodFake,
	summary: "a realistic value chosen by HMAC(key, trimmed upper-cased value) through gofakeit: `name`, `phone` (Ofcom drama ranges), `email` (example.com/.org), `address_line`, `postcode` (valid UK shape; `keep_outward_code` option)",
	usedFor: "names, phones, emails, addresses, postcodes",
	details: "Values differing only in case and spacing get the same fake, and the same value gets the same fake in every item of the domain and every participant's cut. Fakes are cut to the item's width (at a word boundary where possible). Unlike `mpan` and `identifier` this is not a bijection: two values may share a fake.",
	options: []*option{{
		key: "fake",
		doc: "what to fake",
		values: []optionValue{
			{"name", "first and last name (an initial when too wide)"},
			{"phone", "a number in Ofcom's drama ranges (07700 900xxx, 01632 960xxx, ...)"},
			{"email", "first.last and a number at example.com or example.org"},
			{"address_line", "a street"},
			{"postcode", "a valid UK postcode shape"},
		},
		required: true,
		get:      func(d *Domain, _ *Rule) (string, bool) { return d.Fake, d.Fake != "" },
	}, {
		key: "keep_outward_code",
		doc: "with `fake: postcode`, `true` keeps the outward code of a 5–7 character postcode (`SW1A` of `SW1A 1AA`) and fakes the inward code only",
		get: func(d *Domain, _ *Rule) (string, bool) { return "true", d.KeepOutwardCode },
	}},
	cached:   true,
	textOnly: true,
	checkDomain: func(d *Domain) (string, string) {
		if d.KeepOutwardCode && d.Fake != "postcode" {
			return "keep_outward_code", "keep_outward_code is only for fake postcode"
		}
		return "", ""
	},
	build: func(d *Domain, key []byte) (method, error) {
		f := &fakeMethod{key: key, kind: d.Fake, keepOutwardCode: d.KeepOutwardCode}
		f.pool.New = func() any {
			pcg := rand.NewPCG(0, 0)
			return &fakeState{h: hmac.New(sha256.New, f.key), pcg: pcg, g: gofakeit.NewFaker(pcg, false)}
		}
		return f, nil
	},
}

// fakeMethod generates a realistic replacement chosen by HMAC(key, value),
// so the same original gives the same fake in every participant's cut.
type fakeMethod struct {
	key             []byte
	kind            string
	keepOutwardCode bool
	pool            sync.Pool // of *fakeState: masking goes on in several goroutines at once
}

// fakeState is what faking one value takes, kept from value to value: the
// keyed hash (reset, not made anew), its sum, the normalised value and a
// faker over a PCG seeded afresh for each value.
type fakeState struct {
	h    hash.Hash
	sum  []byte
	norm []byte
	pcg  *rand.PCG
	g    *gofakeit.Faker
}

// normalise trims, collapses white space and folds case, so "  Flat 1 " and
// "FLAT  1" mask alike.
func normalise(v []byte) string { return strings.ToUpper(strings.Join(strings.Fields(string(v)), " ")) }

// normaliseASCII is normalise for a value of ASCII bytes only (else it
// returns false): the same bytes, without making strings.
func normaliseASCII(v, dst []byte) ([]byte, bool) {
	space := false
	for _, c := range v {
		switch {
		case c >= 0x80:
			return dst, false
		case c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
			space = true
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		if space && len(dst) > 0 {
			dst = append(dst, ' ')
		}
		space = false
		dst = append(dst, c)
	}
	return dst, true
}

// faker is a faker seeded by HMAC(key, normalised v), from st.
func (f *fakeMethod) faker(st *fakeState, v []byte) *gofakeit.Faker {
	var ok bool
	if st.norm, ok = normaliseASCII(v, st.norm[:0]); !ok {
		st.norm = append(st.norm[:0], normalise(v)...)
	}
	st.h.Reset()
	st.h.Write(st.norm)
	s := st.h.Sum(st.sum[:0])
	st.sum = s
	st.pcg.Seed(binary.BigEndian.Uint64(s), binary.BigEndian.Uint64(s[8:]))
	return st.g
}

func (f *fakeMethod) mask(v []byte, width int) ([]byte, error) {
	st := f.pool.Get().(*fakeState)
	defer f.pool.Put(st)
	g := f.faker(st, v)
	var s string
	switch f.kind {
	case "name":
		s = pick(g, firstNames) + " " + pick(g, lastNames)
		if width > 0 && utf8.RuneCountInString(s) > width {
			s = pick(g, firstNames)[:1] + " " + pick(g, lastNames)
		}
	case "phone":
		r := dramaRanges[g.IntN(len(dramaRanges))]
		s = fmt.Sprintf("%s%03d", r, g.IntN(1000))
	case "email":
		local := strings.ToLower(pick(g, firstNames) + "." + pick(g, lastNames))
		local = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r == '.' {
				return r
			}
			return -1
		}, local)
		domain := []string{"@example.com", "@example.org"}[g.IntN(2)]
		s = fmt.Sprintf("%s%d%s", local, g.IntN(100), domain)
		if width > 0 && len(s) > width {
			s = fmt.Sprintf("u%d%s", g.IntN(100000), domain)
		}
	case "address_line":
		return fitBytes(appendStreet(make([]byte, 0, 32), g), width), nil
	case "postcode":
		s = fakePostcode(g, v, f.keepOutwardCode)
	}
	return []byte(fit(s, width)), nil
}

// Ofcom's numbers reserved for drama: 1000 numbers after each prefix.
var dramaRanges = []string{"07700900", "01632960", "02079460", "01134960", "01214960", "01314960", "01414960", "01614960"}

// UK postcode letters: the inward code avoids C I K M O V.
const (
	pcLetters = "ABCDEFGHJKLMNOPRSTUWYZ"
	inLetters = "ABDEFGHJLNPQRSTUWXYZ"
)

func fakePostcode(g *gofakeit.Faker, orig []byte, keepOutward bool) string {
	// The digit, then the two letters, drawn in that order.
	inward := string([]byte{byte('0' + g.IntN(10)), inLetters[g.IntN(len(inLetters))], inLetters[g.IntN(len(inLetters))]})
	if keepOutward {
		o := strings.ToUpper(strings.ReplaceAll(string(orig), " ", ""))
		if len(o) >= 5 && len(o) <= 7 {
			return o[:len(o)-3] + " " + inward
		}
	}
	l := func() byte { return pcLetters[g.IntN(len(pcLetters))] }
	d := func() byte { return byte('0' + g.IntN(10)) }
	var out []byte
	switch g.IntN(4) {
	case 0: // A9
		out = []byte{l(), d()}
	case 1: // A99
		out = []byte{l(), d(), d()}
	case 2: // AA9
		out = []byte{l(), l(), d()}
	default: // AA99
		out = []byte{l(), l(), d(), d()}
	}
	return string(out) + " " + inward
}
