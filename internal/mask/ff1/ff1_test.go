package ff1

import (
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
)

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

func numerals(s string) []uint16 {
	x := make([]uint16, len(s))
	for i, c := range s {
		x[i] = uint16(strings.IndexRune(alphabet, c))
	}
	return x
}

func text(x []uint16) string {
	var b strings.Builder
	for _, d := range x {
		b.WriteByte(alphabet[d])
	}
	return b.String()
}

// NIST SP 800-38G FF1 samples 1-9.
var vectors = []struct {
	key, tweak, pt, ct string
	radix              int
}{
	{"2B7E151628AED2A6ABF7158809CF4F3C", "", "0123456789", "2433477484", 10},
	{"2B7E151628AED2A6ABF7158809CF4F3C", "39383736353433323130", "0123456789", "6124200773", 10},
	{"2B7E151628AED2A6ABF7158809CF4F3C", "3737373770717273373737", "0123456789abcdefghi", "a9tv40mll9kdu509eum", 36},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", "", "0123456789", "2830668132", 10},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", "39383736353433323130", "0123456789", "2496655549", 10},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", "3737373770717273373737", "0123456789abcdefghi", "xbj3kv35jrawxv32ysr", 36},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", "", "0123456789", "6657667009", 10},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", "39383736353433323130", "0123456789", "1001623463", 10},
	{"2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", "3737373770717273373737", "0123456789abcdefghi", "xs8a0azh2avyalyzuwd", 36},
}

func TestNISTVectors(t *testing.T) {
	for i, v := range vectors {
		key, _ := hex.DecodeString(v.key)
		tweak, _ := hex.DecodeString(v.tweak)
		c, err := New(key, v.radix)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]uint16, len(v.pt))
		if err := c.Encrypt(out, numerals(v.pt), tweak); err != nil {
			t.Fatal(err)
		}
		if text(out) != v.ct {
			t.Errorf("sample %d: encrypt = %s, want %s", i+1, text(out), v.ct)
		}
		if err := c.Decrypt(out, out, tweak); err != nil || text(out) != v.pt {
			t.Errorf("sample %d: decrypt = %s, %v", i+1, text(out), err)
		}
	}
}

func TestMinimumDomain(t *testing.T) {
	c, _ := New(make([]byte, 32), 10)
	for _, s := range []string{"12345", "1", ""} {
		if err := c.Encrypt(make([]uint16, len(s)), numerals(s), nil); !errors.Is(err, ErrDomain) {
			t.Errorf("%q: %v, want ErrDomain", s, err)
		}
	}
	if err := c.Encrypt(make([]uint16, 6), numerals("123456"), nil); err != nil {
		t.Errorf("10^6 domain refused: %v", err)
	}
	if err := c.Encrypt(make([]uint16, 40), numerals(strings.Repeat("1", 40)), nil); !errors.Is(err, ErrDomain) {
		t.Errorf("too long accepted: %v", err)
	}
	if err := c.Encrypt(make([]uint16, 6), []uint16{1, 2, 3, 4, 5, 10}, nil); err == nil {
		t.Error("numeral above radix accepted")
	}
}

// TestBijectionSmallDomain: on the full 10^6 domain every output is distinct.
func TestBijectionSmallDomain(t *testing.T) {
	c, _ := New([]byte("0123456789abcdef0123456789abcdef"), 10)
	seen := make([]bool, 1_000_000)
	x, y := make([]uint16, 6), make([]uint16, 6)
	for n := 0; n < 1_000_000; n++ {
		v := n
		for i := 5; i >= 0; i-- {
			x[i] = uint16(v % 10)
			v /= 10
		}
		c.Encrypt(y, x, nil)
		k := 0
		for _, d := range y {
			k = k*10 + int(d)
		}
		if seen[k] {
			t.Fatalf("collision at input %d", n)
		}
		seen[k] = true
	}
}

func TestConcurrentUseAgrees(t *testing.T) {
	c, _ := New([]byte("0123456789abcdef0123456789abcdef"), 10)
	want := make([]string, 2000)
	in := func(i int) []uint16 {
		x := make([]uint16, 10)
		for j := range x {
			x[j] = uint16((i*7 + j*3) % 10)
		}
		return x
	}
	for i := range want {
		out := make([]uint16, 10)
		c.Encrypt(out, in(i), nil)
		want[i] = text(out)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]uint16, 10)
			for i := range want {
				c.Encrypt(out, in(i), nil)
				if text(out) != want[i] {
					t.Errorf("concurrent result differs at %d", i)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkEncrypt10Digits(b *testing.B) {
	c, _ := New(make([]byte, 32), 10)
	x := numerals("1234567890")
	out := make([]uint16, 10)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Encrypt(out, x, nil)
	}
}
