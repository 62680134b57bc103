package mask

import (
	"unicode/utf8"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/brianvoe/gofakeit/v7/data"
)

// Faking a street or a name, as gofakeit's Street, FirstName and LastName
// do, drawing the same numbers in the same order from the same source, so
// the fakes are the same; but from word lists looked up once, into a
// buffer. gofakeit looks each list up in nested maps, twice, per word,
// and builds a string per part: most of the time an address line took.
// TestFakeWordsAsGofakeit compares them with gofakeit's own.

var (
	firstNames    = data.Person["first"]
	lastNames     = data.Person["last"]
	streetNumbers = data.Address["number"]
	streetPrefix  = data.Address["street_prefix"]
	streetNames   = data.Address["street_name"]
	streetSuffix  = data.Address["street_suffix"]
)

// pick is gofakeit's choice of a word of a list: IntN(len), as its
// getRandValue draws it (an empty list draws nothing and gives "").
func pick(g *gofakeit.Faker, words []string) string {
	if len(words) == 0 {
		return ""
	}
	return words[g.IntN(len(words))]
}

// appendStreet appends what g.Street() would return.
func appendStreet(dst []byte, g *gofakeit.Faker) []byte {
	withPrefix := g.IntN(2) == 0 // randIntRange(1, 2) == 1
	dst = appendStreetNumber(dst, g)
	dst = append(dst, ' ')
	if withPrefix {
		dst = append(append(dst, pick(g, streetPrefix)...), ' ')
	}
	dst = append(dst, pick(g, streetNames)...)
	return append(dst, pick(g, streetSuffix)...)
}

// appendStreetNumber is gofakeit's street number: a template's '#'s
// replaced by digits, a leading '0' by a digit 1-8 (so the number never
// starts with a zero: its TrimLeft of zeros finds none).
func appendStreetNumber(dst []byte, g *gofakeit.Faker) []byte {
	tmpl := pick(g, streetNumbers)
	start := len(dst)
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c == '#' {
			c = byte(g.IntN(10)) + '0'
		}
		dst = append(dst, c)
	}
	if len(dst) > start && dst[start] == '0' {
		dst[start] = byte(g.IntN(8)+1) + '0'
	}
	return dst
}

// fitBytes is fit of a value made as bytes.
func fitBytes(b []byte, width int) []byte {
	if width <= 0 || len(b) <= width || utf8.RuneCount(b) <= width {
		return b
	}
	return []byte(fit(string(b), width))
}
