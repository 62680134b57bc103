package ff1

import (
	"crypto/aes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/big"
	"math/rand/v2"
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

// reference is FF1 written straight from SP 800-38G (Algorithm 7) with
// big integers and a full CBC-MAC over P || Q, for checking the fast paths
// (prepared E(P), one-block Q with the tweak folded in) on tweak lengths
// the NIST samples do not reach.
func reference(t *testing.T, key []byte, radix int, x []uint16, tweak []byte) []uint16 {
	blk, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	n, tl := len(x), len(tweak)
	u, v := n/2, n-n/2
	rad := big.NewInt(int64(radix))
	num := func(d []uint16) *big.Int {
		z := new(big.Int)
		for _, c := range d {
			z.Mul(z, rad).Add(z, big.NewInt(int64(c)))
		}
		return z
	}
	str := func(z *big.Int, m int) []uint16 {
		out := make([]uint16, m)
		z = new(big.Int).Set(z)
		r := new(big.Int)
		for i := m - 1; i >= 0; i-- {
			z.DivMod(z, rad, r)
			out[i] = uint16(r.Int64())
		}
		return out
	}
	b := (new(big.Int).Sub(new(big.Int).Exp(rad, big.NewInt(int64(v)), nil), big.NewInt(1)).BitLen() + 7) / 8
	d := 4*((b+3)/4) + 4
	p := []byte{1, 2, 1, byte(radix >> 16), byte(radix >> 8), byte(radix), 10, byte(u)}
	p = binary.BigEndian.AppendUint32(p, uint32(n))
	p = binary.BigEndian.AppendUint32(p, uint32(tl))
	a, bb := x[:u], x[u:]
	for i := 0; i < 10; i++ {
		q := append([]byte{}, tweak...)
		q = append(q, make([]byte, ((-tl-b-1)%16+16)%16)...)
		q = append(q, byte(i))
		nb := num(bb).FillBytes(make([]byte, b))
		q = append(q, nb...)
		r := make([]byte, 16)
		for off, msg := 0, append(append([]byte{}, p...), q...); off < len(msg); off += 16 {
			for k := 0; k < 16; k++ {
				r[k] ^= msg[off+k]
			}
			blk.Encrypt(r, r)
		}
		s := append([]byte{}, r...)
		for j := 1; len(s) < d; j++ {
			e := append([]byte{}, r...)
			binary.BigEndian.PutUint64(e[8:], binary.BigEndian.Uint64(e[8:])^uint64(j))
			blk.Encrypt(e, e)
			s = append(s, e...)
		}
		y := new(big.Int).SetBytes(s[:d])
		m := u
		if i%2 == 1 {
			m = v
		}
		mod := new(big.Int).Exp(rad, big.NewInt(int64(m)), nil)
		c := new(big.Int).Add(num(a), y)
		c.Mod(c, mod)
		a, bb = bb, str(c, m)
	}
	return append(append([]uint16{}, a...), bb...)
}

func TestMatchesReferenceOnEveryTweakLength(t *testing.T) {
	for _, v := range vectors { // the reference itself is FF1
		key, _ := hex.DecodeString(v.key)
		tweak, _ := hex.DecodeString(v.tweak)
		if got := text(reference(t, key, v.radix, numerals(v.pt), tweak)); got != v.ct {
			t.Fatalf("reference gives %s for NIST %s, want %s", got, v.pt, v.ct)
		}
	}
	key, _ := hex.DecodeString("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
	rng := rand.New(rand.NewPCG(7, 8))
	for _, radix := range []int{10, 36} {
		c, err := New(key, radix)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{6, 10, 13, 19, 24} {
			for tl := 0; tl <= 20; tl++ {
				x := make([]uint16, n)
				for k := range x {
					x[k] = uint16(rng.IntN(radix))
				}
				tweak := make([]byte, tl)
				for k := range tweak {
					tweak[k] = byte(rng.IntN(256))
				}
				got := make([]uint16, n)
				if err := c.Encrypt(got, x, tweak); err != nil {
					if errors.Is(err, ErrDomain) {
						continue
					}
					t.Fatal(err)
				}
				if want := reference(t, key, radix, x, tweak); text(got) != text(want) {
					t.Fatalf("radix %d, %d numerals, tweak %d bytes: %s, want %s", radix, n, tl, text(got), text(want))
				}
			}
		}
	}
}
