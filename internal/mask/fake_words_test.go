package mask

import (
	"math/rand/v2"
	"testing"

	"github.com/brianvoe/gofakeit/v7"
)

// TestFakeWordsAsGofakeit: the street and name words are gofakeit's own,
// drawn alike: for many seeds, the same text, and the faker's source left
// in the same state (the next draw agrees).
func TestFakeWordsAsGofakeit(t *testing.T) {
	fakers := func(seed uint64) (*gofakeit.Faker, *gofakeit.Faker) {
		return gofakeit.NewFaker(rand.NewPCG(seed, ^seed), false), gofakeit.NewFaker(rand.NewPCG(seed, ^seed), false)
	}
	cases := []struct {
		name string
		ref  func(*gofakeit.Faker) string
		ours func(*gofakeit.Faker) string
	}{
		{"street", (*gofakeit.Faker).Street, func(g *gofakeit.Faker) string { return string(appendStreet([]byte("x"), g)[1:]) }},
		{"first name", (*gofakeit.Faker).FirstName, func(g *gofakeit.Faker) string { return pick(g, firstNames) }},
		{"last name", (*gofakeit.Faker).LastName, func(g *gofakeit.Faker) string { return pick(g, lastNames) }},
	}
	for _, c := range cases {
		prefixed := 0
		for seed := uint64(0); seed < 20000; seed++ {
			ref, ours := fakers(seed)
			want, got := c.ref(ref), c.ours(ours)
			if got != want {
				t.Fatalf("%s, seed %d: %q, gofakeit %q", c.name, seed, got, want)
			}
			if a, b := ref.Uint64(), ours.Uint64(); a != b {
				t.Fatalf("%s, seed %d: the source was drawn differently", c.name, seed)
			}
			for _, p := range streetPrefix {
				if containsWord(want, p) {
					prefixed++
					break
				}
			}
		}
		if c.name == "street" && prefixed == 0 {
			t.Fatal("no street had a prefix: the test does not reach that branch")
		}
	}
}

func containsWord(s, w string) bool {
	for i := 0; i+len(w)+2 <= len(s); i++ {
		if s[i] == ' ' && s[i+1:i+1+len(w)] == w && s[i+1+len(w)] == ' ' {
			return true
		}
	}
	return false
}
