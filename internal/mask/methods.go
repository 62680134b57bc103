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

func (m *mpanMethod) mask(v []byte, width int) ([]byte, error) {
	return maskOne(m, v, width)
}

func (m *mpanMethod) maskAll(vs [][]byte, _ int) ([][]byte, error) {
	ls := make([]ff1.Lane, len(vs))
	for i, v := range vs {
		if p := mpan.Problem(v); p != "" {
			return nil, fmt.Errorf("cannot mask an invalid MPAN core (%s)", p)
		}
		var x uint64
		for _, c := range v[2:12] {
			x = x*10 + uint64(c-'0')
		}
		// The distributor id is the tweak: each distributor's numbers get
		// their own permutation, so equal unique numbers under different
		// ids do not mask alike.
		ls[i] = ff1.Lane{N: 10, X: x, Tweak: v[:2]}
	}
	if err := m.c.EncryptLanes(ls); err != nil {
		return nil, err
	}
	arena := make([]byte, 13*len(vs))
	out := make([][]byte, len(vs))
	for i, l := range ls {
		o := arena[13*i : 13*i+13 : 13*i+13]
		o[0], o[1] = vs[i][0], vs[i][1]
		for k, x := 11, l.X; k >= 2; k, x = k-1, x/10 {
			o[k] = byte('0' + x%10)
		}
		o[12] = mpan.CheckDigit(o)
		out[i] = o
	}
	return out, nil
}

// batchMethod is a method that masks many values at once faster than one
// by one: FF1's AES blocks of several values share the cipher's pipeline.
// out[i] is vs[i] masked.
type batchMethod interface {
	method
	maskAll(vs [][]byte, width int) ([][]byte, error)
}

// maskOne masks one value through maskAll.
func maskOne(m batchMethod, v []byte, width int) ([]byte, error) {
	out, err := m.maskAll([][]byte{v}, width)
	if err != nil {
		return nil, err
	}
	return out[0], nil
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

// chunkLimits[r] is chunkLimit/r for the radixes identifiers use (no
// division per character).
var chunkLimits = func() (l [27]uint64) {
	for _, r := range []uint64{10, 16, 26} {
		l[r] = chunkLimit / r
	}
	return l
}()

func (m *identifierMethod) mask(v []byte, width int) ([]byte, error) {
	return maskOne(m, v, width)
}

// walk is one chunk of one value waiting for FF1: x, below n, is
// enciphered over l digits until the result falls below n again.
type walk struct {
	out   []byte
	pos   []int32
	radix []uint8
	n, x  uint64
	l     int
}

func (m *identifierMethod) maskAll(vs [][]byte, _ int) ([][]byte, error) {
	size := 0
	for _, v := range vs {
		size += len(v)
	}
	// One arena each for the values, their positions and radixes: the
	// walks keep slices of them.
	arena := make([]byte, 0, size)
	posArena, radixArena := make([]int32, 0, size), make([]uint8, 0, size)
	out := make([][]byte, len(vs))
	walks := make([]walk, 0, len(vs))
	for i, v := range vs {
		arena = append(arena, v...)
		o := arena[len(arena)-len(v) : len(arena) : len(arena)]
		out[i] = o
		first := len(posArena)
		for k, c := range v {
			if r, _, ok := m.class(c); ok {
				posArena = append(posArena, int32(k))
				radixArena = append(radixArena, uint8(r))
			}
		}
		pos, radix := posArena[first:], radixArena[first:]
		// Chunk positions so each chunk's domain stays below 10^18.
		for start := 0; start < len(pos); {
			n, end := uint64(1), start
			for end < len(pos) && n <= chunkLimits[radix[end]] {
				n *= uint64(radix[end])
				end++
			}
			x := m.chunkValue(o, pos[start:end], radix[start:end])
			if n < ff1.MinDomain {
				m.setChunk(o, pos[start:end], radix[start:end], uint64(m.smallTable(n)[x]))
			} else {
				walks = append(walks, walk{out: o, pos: pos[start:end], radix: radix[start:end], n: n, x: x, l: digits(n - 1)})
			}
			start = end
		}
	}
	return out, m.cycleWalk(walks)
}

// chunkValue reads the characters at pos as one mixed-radix number.
func (m *identifierMethod) chunkValue(out []byte, pos []int32, radix []uint8) uint64 {
	var x uint64
	for i, p := range pos {
		var d uint64
		if m.hex {
			d = hexVal(out[p])
		} else {
			_, base, _ := m.class(out[p])
			d = uint64(out[p] - base)
		}
		x = x*uint64(radix[i]) + d
	}
	return x
}

// setChunk writes y over the characters at pos, each in its own class.
func (m *identifierMethod) setChunk(out []byte, pos []int32, radix []uint8, y uint64) {
	for i := len(pos) - 1; i >= 0; i-- {
		r := uint64(radix[i])
		d := byte(y % r)
		y /= r
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
}

func digits(x uint64) int {
	l := 1
	for ; x >= 10; x /= 10 {
		l++
	}
	return l
}

// cycleWalk applies FF1 over the decimal digits of each walk's n-1 until
// the result is below n, all walks side by side through EncryptLanes, and
// writes the results back. Each step is a permutation of 10^l values, so
// the walk is a permutation of [0, n); expected steps: at most 10.
func (m *identifierMethod) cycleWalk(walks []walk) error {
	lanes := make([]ff1.Lane, len(walks))
	idx := make([]int, len(walks))
	for i := range walks {
		lanes[i], idx[i] = ff1.Lane{N: walks[i].l, X: walks[i].x}, i
	}
	for len(lanes) > 0 {
		if err := m.c.EncryptLanes(lanes); err != nil {
			return err
		}
		keep := 0
		for j, l := range lanes {
			w := &walks[idx[j]]
			if l.X < w.n {
				m.setChunk(w.out, w.pos, w.radix, l.X)
				continue
			}
			lanes[keep], idx[keep] = l, idx[j]
			keep++
		}
		lanes, idx = lanes[:keep], idx[:keep]
	}
	return nil
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
