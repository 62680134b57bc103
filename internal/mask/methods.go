package mask

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/mhhs-sit/datacut/internal/mask/ff1"
	"github.com/mhhs-sit/datacut/internal/mpan"
)

// method masks one non-empty value of an item that is width characters
// wide (0: no limit). Methods are safe for concurrent use.
type method interface {
	mask(v []byte, width int) ([]byte, error)
}

// --- keep, blank, constant, redact -----------------------------------------

type keepMethod struct{}

func (keepMethod) mask(v []byte, _ int) ([]byte, error) { return v, nil }

type blankMethod struct{}

func (blankMethod) mask([]byte, int) ([]byte, error) { return nil, nil }

type constantMethod struct{ value []byte }

func (c constantMethod) mask([]byte, int) ([]byte, error) { return c.value, nil }

// --- MPAN: FF1 on digits 3..12, distributor kept, check digit recomputed ---

type mpanMethod struct{ c *ff1.Cipher }

func newMPAN(key []byte) (*mpanMethod, error) {
	c, err := ff1.New(key, 10)
	return &mpanMethod{c: c}, err
}

func (m *mpanMethod) mask(v []byte, _ int) ([]byte, error) {
	if p := mpan.Problem(v); p != "" {
		return nil, fmt.Errorf("cannot mask an invalid MPAN core (%s)", p)
	}
	var x [10]uint16
	for i := range x {
		x[i] = uint16(v[2+i] - '0')
	}
	// The distributor id is the tweak: each distributor's numbers get their
	// own permutation, so equal unique numbers under different ids do not
	// mask alike.
	if err := m.c.Encrypt(x[:], x[:], v[:2]); err != nil {
		return nil, err
	}
	out := make([]byte, 13)
	out[0], out[1] = v[0], v[1]
	for i, d := range x {
		out[2+i] = byte('0' + d)
	}
	out[12] = mpan.CheckDigit(out)
	return out, nil
}

// --- identifiers: keyed FPE keeping length and character classes -----------

// identifierMethod permutes identifiers among all strings of the same shape:
// digits stay digits, upper-case letters upper-case letters, lower-case
// lower-case (or, with hex, hex digits stay hex digits), everything else
// stays in place. Positions are read as one mixed-radix number in [0, N)
// and permuted: FF1 over the decimal digits of N-1 with cycle walking when
// N >= 10^6 (FF1's minimum domain), a keyed table permutation below that.
// Long identifiers are split into chunks below 10^18.
type identifierMethod struct {
	c     *ff1.Cipher
	table cipher.Block // keys the small-domain permutations
	hex   bool
	small sync.Map // N -> []uint32 permutation table
}

func newIdentifier(key []byte, hex bool) (*identifierMethod, error) {
	c, err := ff1.New(key, 10)
	if err != nil {
		return nil, err
	}
	tk := sha256.Sum256(append([]byte("small-domain|"), key...))
	b, _ := aes.NewCipher(tk[:])
	return &identifierMethod{c: c, table: b, hex: hex}, nil
}

func (m *identifierMethod) class(c byte) (radix uint64, base byte, ok bool) {
	switch {
	case m.hex && c >= '0' && c <= '9':
		return 16, '0', true
	case m.hex && c >= 'A' && c <= 'F':
		return 16, 'A', true
	case m.hex && c >= 'a' && c <= 'f':
		return 16, 'a', true
	case m.hex:
		return 0, 0, false
	case c >= '0' && c <= '9':
		return 10, '0', true
	case c >= 'A' && c <= 'Z':
		return 26, 'A', true
	case c >= 'a' && c <= 'z':
		return 26, 'a', true
	}
	return 0, 0, false
}

func hexVal(c byte) uint64 {
	switch {
	case c <= '9':
		return uint64(c - '0')
	case c >= 'a':
		return uint64(c-'a') + 10
	}
	return uint64(c-'A') + 10
}

const chunkLimit = 1_000_000_000_000_000_000 // 10^18

func (m *identifierMethod) mask(v []byte, _ int) ([]byte, error) {
	out := append([]byte(nil), v...)
	var posBuf [64]int
	var radixBuf [64]uint64
	pos, radix := posBuf[:0], radixBuf[:0]
	for i, c := range v {
		if r, _, ok := m.class(c); ok {
			pos = append(pos, i)
			radix = append(radix, r)
		}
	}
	// Chunk positions so each chunk's domain stays below 10^18.
	for start := 0; start < len(pos); {
		n, end := uint64(1), start
		for end < len(pos) && n <= chunkLimit/radix[end] {
			n *= radix[end]
			end++
		}
		if err := m.permute(out, pos[start:end], radix[start:end], n); err != nil {
			return nil, err
		}
		start = end
	}
	return out, nil
}

// permute replaces the characters at pos (a chunk of domain size n).
func (m *identifierMethod) permute(out []byte, pos []int, radix []uint64, n uint64) error {
	var x uint64
	for i, p := range pos {
		var d uint64
		if m.hex {
			d = hexVal(out[p])
		} else {
			_, base, _ := m.class(out[p])
			d = uint64(out[p] - base)
		}
		x = x*radix[i] + d
	}
	var y uint64
	if n < ff1.MinDomain {
		y = uint64(m.smallTable(n)[x])
	} else {
		var err error
		if y, err = m.cycleWalk(x, n); err != nil {
			return err
		}
	}
	for i := len(pos) - 1; i >= 0; i-- {
		d := byte(y % radix[i])
		y /= radix[i]
		c := out[pos[i]]
		switch {
		case m.hex && d >= 10 && c >= 'a':
			out[pos[i]] = 'a' + d - 10
		case m.hex && d >= 10:
			out[pos[i]] = 'A' + d - 10
		case m.hex:
			out[pos[i]] = '0' + d
		default:
			_, base, _ := m.class(c)
			out[pos[i]] = base + d
		}
	}
	return nil
}

// cycleWalk applies FF1 over L = len(decimal(n-1)) digits until the result
// is below n; each step is a permutation of 10^L values, so the walk is a
// permutation of [0, n). Expected steps: at most 10.
func (m *identifierMethod) cycleWalk(x, n uint64) (uint64, error) {
	l := 1
	for p := n - 1; p >= 10; p /= 10 {
		l++
	}
	var buf [20]uint16 // n < 2^64 has at most 20 digits
	digits := buf[:l]
	for {
		for i := l - 1; i >= 0; i-- {
			digits[i] = uint16(x % 10)
			x /= 10
		}
		if err := m.c.Encrypt(digits, digits, nil); err != nil {
			return 0, err
		}
		x = 0
		for _, d := range digits {
			x = x*10 + uint64(d)
		}
		if x < n {
			return x, nil
		}
	}
}

// smallTable is a keyed permutation of [0, n) for domains too small for
// FF1: indices sorted by their AES encryption. Cached per n.
func (m *identifierMethod) smallTable(n uint64) []uint32 {
	if t, ok := m.small.Load(n); ok {
		return t.([]uint32)
	}
	type kv struct {
		k [16]byte
		i uint32
	}
	items := make([]kv, n)
	for i := range items {
		var in [16]byte
		binary.BigEndian.PutUint64(in[:8], n)
		binary.BigEndian.PutUint64(in[8:], uint64(i))
		m.table.Encrypt(items[i].k[:], in[:])
		items[i].i = uint32(i)
	}
	sort.Slice(items, func(a, b int) bool { return string(items[a].k[:]) < string(items[b].k[:]) })
	t := make([]uint32, n)
	for pos, it := range items {
		t[it.i] = uint32(pos)
	}
	actual, _ := m.small.LoadOrStore(n, t)
	return actual.([]uint32)
}

// --- realistic fakes seeded by a keyed hash of the normalised value --------

// fakeMethod generates a realistic replacement chosen by HMAC(key, value),
// so the same original gives the same fake in every participant's cut.
type fakeMethod struct {
	key             []byte
	kind            string
	keepOutwardCode bool
}

var fakeKinds = map[string]bool{"name": true, "phone": true, "email": true, "address_line": true, "postcode": true}

// normalise trims, collapses white space and folds case, so "  Flat 1 " and
// "FLAT  1" mask alike.
func normalise(v []byte) string { return strings.ToUpper(strings.Join(strings.Fields(string(v)), " ")) }

func (f *fakeMethod) faker(v []byte) *gofakeit.Faker {
	h := hmac.New(sha256.New, f.key)
	h.Write([]byte(normalise(v)))
	s := h.Sum(nil)
	return gofakeit.NewFaker(rand.NewPCG(binary.BigEndian.Uint64(s), binary.BigEndian.Uint64(s[8:])), false)
}

func (f *fakeMethod) mask(v []byte, width int) ([]byte, error) {
	g := f.faker(v)
	var s string
	switch f.kind {
	case "name":
		s = g.FirstName() + " " + g.LastName()
		if width > 0 && utf8.RuneCountInString(s) > width {
			s = g.FirstName()[:1] + " " + g.LastName()
		}
	case "phone":
		r := dramaRanges[g.IntN(len(dramaRanges))]
		s = fmt.Sprintf("%s%03d", r, g.IntN(1000))
	case "email":
		local := strings.ToLower(g.FirstName() + "." + g.LastName())
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
		s = g.Street()
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
	inward := fmt.Sprintf("%d%c%c", g.IntN(10), inLetters[g.IntN(len(inLetters))], inLetters[g.IntN(len(inLetters))])
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

// fit cuts s to width characters at a word boundary where possible.
func fit(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)[:width]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > width/2 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut)
}

// redactMethod replaces free text with a marker.
type redactMethod struct{}

func (redactMethod) mask(_ []byte, width int) ([]byte, error) {
	return []byte(fit("REDACTED", width)), nil
}
