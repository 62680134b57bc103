package ff1

import (
	"crypto/cipher"
	"encoding/binary"
)

// Lanes is how many AES blocks are enciphered together. FF1's rounds are
// sequential within a value, so one value at a time leaves AES waiting on
// each block's latency (about 20 ns for AES-256); the blocks of several
// values are independent, and the AES unit pipelines them.
const Lanes = 8

// laneAES enciphers Lanes blocks at once: with AES-NI on amd64 by
// interleaving the rounds of all of them, elsewhere one by one.
type laneAES struct {
	block  cipher.Block
	xk     []byte // expanded key, round by round, for the assembly
	rounds int
}

func newLaneAES(key []byte, block cipher.Block) *laneAES {
	l := &laneAES{block: block}
	if haveAESNI {
		l.xk, l.rounds = expandKey(key)
	}
	return l
}

// encrypt enciphers the blocks in place.
func (l *laneAES) encrypt(b *[Lanes][16]byte) {
	if l.xk != nil {
		encryptLanes(&l.xk[0], l.rounds, b)
		return
	}
	for k := range b {
		l.block.Encrypt(b[k][:], b[k][:])
	}
}

// expandKey is FIPS-197's key expansion, the round keys as bytes in the
// order AESENC reads them.
func expandKey(key []byte) ([]byte, int) {
	nk := len(key) / 4
	rounds := nk + 6
	w := make([]uint32, 4*(rounds+1))
	for i := 0; i < nk; i++ {
		w[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	rcon := uint32(1)
	for i := nk; i < len(w); i++ {
		t := w[i-1]
		switch {
		case i%nk == 0:
			t = subWord(t<<8|t>>24) ^ rcon<<24
			rcon = uint32(mul(byte(rcon), 2))
		case nk > 6 && i%nk == 4:
			t = subWord(t)
		}
		w[i] = w[i-nk] ^ t
	}
	xk := make([]byte, 4*len(w))
	for i, v := range w {
		binary.BigEndian.PutUint32(xk[4*i:], v)
	}
	return xk, rounds
}

func subWord(w uint32) uint32 {
	return uint32(sbox[w>>24])<<24 | uint32(sbox[w>>16&0xff])<<16 | uint32(sbox[w>>8&0xff])<<8 | uint32(sbox[w&0xff])
}

// sbox is AES's S-box, computed: the inverse in GF(2^8), then the affine map.
var sbox = func() (s [256]byte) {
	for x := 0; x < 256; x++ {
		inv := byte(0)
		if x != 0 {
			inv = 1
			for i := 0; i < 254; i++ { // x^254 = x^-1
				inv = mul(inv, byte(x))
			}
		}
		rot := func(b byte, k int) byte { return b<<k | b>>(8-k) }
		s[x] = inv ^ rot(inv, 1) ^ rot(inv, 2) ^ rot(inv, 3) ^ rot(inv, 4) ^ 0x63
	}
	return s
}()

// mul multiplies in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.
func mul(a, b byte) byte {
	var p byte
	for ; b != 0; b >>= 1 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1b
		}
	}
	return p
}
