package mask

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"sort"
	"sync"

	"github.com/mhhs-sit/datacut/internal/mask/ff1"
)

// MethodIdentifier masks identifiers: keyed FPE keeping length and
// character classes.
const MethodIdentifier = "identifier"

var identifierSpec = &methodSpec{
	name:    MethodIdentifier,
	summary: "keyed permutation of all strings of the same shape: digits stay digits, letters letters (case kept), separators in place, or hex stays hex; FF1 with cycle walking when the domain is at least 10^6, a keyed table permutation below that; bijective",
	usedFor: "meter ids, outstation ids, timing device, SIM serial, ESME id, UPRN",
	details: "Long identifiers are masked in chunks of fewer than 10^18 combinations each. Two identifiers never mask alike, so they still join across items of the domain and across participants.",
	options: []*option{{
		key:    "alphabet",
		doc:    "which characters are permuted; without it digits and letters (each in its class)",
		values: []optionValue{{"hex", "hex digits stay hex digits (either case), everything else stays in place: ESME ids like `0A-1B-2C-3D-4E-5F-60-7A`"}},
		get:    func(d *Domain, _ *Rule) (string, bool) { return d.Alphabet, d.Alphabet != "" },
	}},
	cached:      true,
	perInstance: true,
	textOnly:    true,
	build: func(d *Domain, key []byte) (method, error) {
		return newIdentifier(key, d.Alphabet == "hex")
	},
}

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
