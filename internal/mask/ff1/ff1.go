// Package ff1 implements NIST SP 800-38G FF1 format-preserving encryption
// with AES, for the short numeral strings identifiers are made of. It keeps
// every number in uint64 arithmetic, so the half-length domain radix^ceil(n/2)
// must stay below 2^56 (radix 10: up to 32 numerals). A Cipher is safe for
// concurrent use: the AES block is stateless and all scratch is per call.
package ff1

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// MinDomain is the smallest radix^n FF1 may be used on (SP 800-38G rev 1).
const MinDomain = 1_000_000

const maxHalf = 1 << 56

// Cipher is FF1 for one key and radix.
type Cipher struct {
	block cipher.Block
	radix uint64
	// ep[n][t] is E(P) for n numerals and a tweak of t bytes: P is the
	// same in every round and every call of that shape, so it is
	// encrypted once.
	ep [maxPrepared + 1][maxPreparedTweak + 1][16]byte
	// shapes[n] are the split and sizes for n numerals (ok false: n is
	// outside this implementation's domain).
	shapes [maxPrepared + 1]shape
	lanes  *laneAES
}

type shape struct {
	ok         bool
	u          int
	mu, mv     uint64 // radix^u, radix^v
	modU, modV modulus
	b, d       int
}

const maxPrepared, maxPreparedTweak = 64, 8

// New returns FF1 with an AES-128/192/256 key.
func New(key []byte, radix int) (*Cipher, error) {
	if radix < 2 || radix > 1<<16 {
		return nil, fmt.Errorf("ff1: radix %d outside 2..65536", radix)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("ff1: %w", err)
	}
	c := &Cipher{block: b, radix: uint64(radix), lanes: newLaneAES(key, b)}
	for n := 2; n <= maxPrepared; n++ {
		if u, _, mu, mv, err := c.check(make([]uint16, n)); err == nil {
			for t := 0; t <= maxPreparedTweak; t++ {
				p, _, _ := c.params(n, t, mv)
				c.block.Encrypt(c.ep[n][t][:], p[:])
			}
			_, b, d := c.params(n, 0, mv) // b and d depend on n alone
			c.shapes[n] = shape{ok: true, u: u, mu: mu, mv: mv, modU: newModulus(mu), modV: newModulus(mv), b: b, d: d}
		}
	}
	return c, nil
}

// ErrDomain is returned for inputs whose domain is too small or too large.
var ErrDomain = errors.New("ff1: domain out of range")

// pow returns radix^k, or 0 when it reaches maxHalf.
func (c *Cipher) pow(k int) uint64 {
	p := uint64(1)
	for i := 0; i < k; i++ {
		hi, lo := bits.Mul64(p, c.radix)
		if hi != 0 || lo >= maxHalf {
			return 0
		}
		p = lo
	}
	return p
}

// check validates a numeral string and returns u, v and radix^u, radix^v.
func (c *Cipher) check(x []uint16) (u, v int, mu, mv uint64, err error) {
	n := len(x)
	if n < 2 {
		return 0, 0, 0, 0, fmt.Errorf("%w: need at least 2 numerals", ErrDomain)
	}
	u, v = n/2, n-n/2
	mu, mv = c.pow(u), c.pow(v)
	if mv == 0 {
		return 0, 0, 0, 0, fmt.Errorf("%w: %d numerals of radix %d exceed this implementation", ErrDomain, n, c.radix)
	}
	if hi, lo := bits.Mul64(mu, mv); hi == 0 && lo < MinDomain {
		return 0, 0, 0, 0, fmt.Errorf("%w: radix^n = %d is below the minimum %d", ErrDomain, lo, MinDomain)
	}
	for _, d := range x {
		if uint64(d) >= c.radix {
			return 0, 0, 0, 0, fmt.Errorf("ff1: numeral %d not below radix %d", d, c.radix)
		}
	}
	return u, v, mu, mv, nil
}

func (c *Cipher) num(x []uint16) uint64 {
	var n uint64
	for _, d := range x {
		n = n*c.radix + uint64(d)
	}
	return n
}

func (c *Cipher) str(dst []uint16, n uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = uint16(n % c.radix)
		n /= c.radix
	}
}

// scratch is one call's working memory: the AES block sees slices of it
// (a stack array passed to the interface would escape once per block), so
// it is pooled rather than allocated per call.
type scratch struct {
	ep, r, blk [16]byte
	q          []byte
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// oneBlock says whether Q is a single block: T || 0…0 || [i] || [NUM(B)]
// in b bytes. Then prepare has already XORed the tweak into E(P), and
// each round only XORs in its own bytes.
func oneBlock(t, b int) bool { return t+1+b <= 16 }

// round computes y mod radix^m for round i over numeral value nb.
func (c *Cipher) round(sc *scratch, tweak []byte, i int, nb uint64, b, d int, mod uint64) uint64 {
	// PRF(P || Q) = CBC-MAC: R = E(E(P) xor Q_1) xor Q_2 ...
	sc.r = sc.ep
	if oneBlock(len(tweak), b) {
		sc.r[15-b] ^= byte(i)
		for k := 0; k < b; k++ {
			sc.r[15-k] ^= byte(nb >> (8 * k))
		}
		c.block.Encrypt(sc.r[:], sc.r[:])
		return c.output(sc, d, mod)
	}
	q := append(sc.q[:0], tweak...)
	pad := (-len(tweak) - b - 1) % 16
	if pad < 0 {
		pad += 16
	}
	for k := 0; k < pad; k++ {
		q = append(q, 0)
	}
	q = append(q, byte(i))
	for k := b - 1; k >= 0; k-- {
		q = append(q, byte(nb>>(8*k)))
	}
	sc.q = q
	for off := 0; off < len(q); off += 16 {
		for k := 0; k < 16; k++ {
			sc.r[k] ^= q[off+k]
		}
		c.block.Encrypt(sc.r[:], sc.r[:])
	}
	return c.output(sc, d, mod)
}

// output expands R to d bytes and returns y = NUM(S) mod radix^m.
func (c *Cipher) output(sc *scratch, d int, mod uint64) uint64 {
	// S = R || E(R xor [1]) || E(R xor [2]) ..., first d bytes; y = NUM(S) mod radix^m.
	if d == 8 { // the usual case (b <= 4): one word, one division
		return binary.BigEndian.Uint64(sc.r[:8]) % mod
	}
	var y uint64
	for j := 0; j*16 < d; j++ {
		sc.blk = sc.r
		if j > 0 {
			sc.blk[15] ^= byte(j)
			sc.blk[14] ^= byte(j >> 8)
			c.block.Encrypt(sc.blk[:], sc.blk[:])
		}
		for k := 0; k < 16 && j*16+k < d; k++ {
			y = (y<<8 | uint64(sc.blk[k])) % mod
		}
	}
	return y
}

func (c *Cipher) params(n, t int, mv uint64) (p [16]byte, b, d int) {
	// b = ceil(ceil(v*log2(radix))/8): bytes to hold radix^v - 1.
	b = (bits.Len64(mv-1) + 7) / 8
	if b == 0 {
		b = 1
	}
	d = 4*((b+3)/4) + 4
	p = [16]byte{1, 2, 1, byte(c.radix >> 16), byte(c.radix >> 8), byte(c.radix), 10, byte(n / 2 % 256)}
	binary.BigEndian.PutUint32(p[8:], uint32(n))
	binary.BigEndian.PutUint32(p[12:], uint32(t))
	return p, b, d
}

// prepare takes a scratch with E(P) for n numerals and the tweak (XORed
// with the tweak when Q is one block); release it with scratchPool.Put.
func (c *Cipher) prepare(p *[16]byte, n int, tweak []byte, b int) *scratch {
	sc := scratchPool.Get().(*scratch)
	if t := len(tweak); t <= maxPreparedTweak && n <= maxPrepared {
		sc.ep = c.ep[n][t]
	} else {
		sc.blk = *p // p itself would escape to the heap through the interface
		c.block.Encrypt(sc.ep[:], sc.blk[:])
	}
	if oneBlock(len(tweak), b) {
		for k, tb := range tweak {
			sc.ep[k] ^= tb
		}
	}
	return sc
}

// Encrypt enciphers numerals x into dst (len(dst) == len(x); may alias x).
func (c *Cipher) Encrypt(dst, x []uint16, tweak []byte) error {
	u, _, mu, mv, err := c.check(x)
	if err != nil {
		return err
	}
	p, b, d := c.params(len(x), len(tweak), mv)
	sc := c.prepare(&p, len(x), tweak, b)
	defer scratchPool.Put(sc)
	na, nb := c.num(x[:u]), c.num(x[u:])
	for i := 0; i < 10; i++ {
		m := mu
		if i%2 == 1 {
			m = mv
		}
		// na < m and y < m: this round's half is always the one that
		// has m's length, so (na + y) mod m needs no division.
		cc := na + c.round(sc, tweak, i, nb, b, d, m)
		if cc >= m {
			cc -= m
		}
		na, nb = nb, cc
	}
	c.str(dst[:u], na)
	c.str(dst[u:len(x)], nb)
	return nil
}

// Decrypt inverts Encrypt.
func (c *Cipher) Decrypt(dst, x []uint16, tweak []byte) error {
	u, _, mu, mv, err := c.check(x)
	if err != nil {
		return err
	}
	p, b, d := c.params(len(x), len(tweak), mv)
	sc := c.prepare(&p, len(x), tweak, b)
	defer scratchPool.Put(sc)
	na, nb := c.num(x[:u]), c.num(x[u:])
	for i := 9; i >= 0; i-- {
		m := mu
		if i%2 == 1 {
			m = mv
		}
		y := c.round(sc, tweak, i, na, b, d, m)
		cc := (nb%m + m - y) % m
		nb, na = na, cc
	}
	c.str(dst[:u], na)
	c.str(dst[u:len(x)], nb)
	return nil
}
