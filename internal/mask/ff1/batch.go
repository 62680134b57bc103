package ff1

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Lane is one value for EncryptLanes: X, a number below radix^N, read as
// N numerals, is enciphered under Tweak.
type Lane struct {
	N     int
	X     uint64
	Tweak []byte
}

// EncryptLanes replaces each lane's X by its encryption, as Encrypt would
// encipher X's N numerals, Lanes values at a time: their rounds run side
// by side and their AES blocks go through the cipher together. Lanes of
// a shape the fast path does not cover (long tweaks, several blocks of Q)
// take Encrypt's path.
func (c *Cipher) EncryptLanes(ls []Lane) error {
	var blk [Lanes][16]byte
	var st [Lanes]laneState
	for len(ls) > 0 {
		k := min(Lanes, len(ls))
		group := ls[:k]
		ls = ls[k:]
		active := 0
		for j := range group {
			l := &group[j]
			fast, err := c.fastLane(l)
			if err != nil {
				return err
			}
			if !fast {
				if err := c.slowLane(l); err != nil {
					return err
				}
				continue
			}
			sh := &c.shapes[l.N]
			st[active] = laneState{lane: l, sh: sh, na: l.X / sh.mv, nb: l.X % sh.mv, ep: c.ep[l.N][len(l.Tweak)]}
			for i, tb := range l.Tweak {
				st[active].ep[i] ^= tb
			}
			active++
		}
		for i := 0; i < 10; i++ {
			for j := 0; j < active; j++ {
				// Q's last b+1 bytes are [i] and NUM(B) in b bytes (b <= 7,
				// as radix^v < 2^56): one 8-byte XOR.
				s := &st[j]
				blk[j] = s.ep
				q := binary.BigEndian.Uint64(s.ep[8:]) ^ (uint64(i)<<(8*s.sh.b) | s.nb)
				binary.BigEndian.PutUint64(blk[j][8:], q)
			}
			c.lanes.encrypt(&blk)
			for j := 0; j < active; j++ {
				s := &st[j]
				m := &s.sh.modU
				if i%2 == 1 {
					m = &s.sh.modV
				}
				cc := s.na + roundY(&blk[j], s.sh.d, m)
				if cc >= m.m {
					cc -= m.m
				}
				s.na, s.nb = s.nb, cc
			}
		}
		for j := 0; j < active; j++ {
			s := &st[j]
			s.lane.X = s.na*s.sh.mv + s.nb
		}
	}
	return nil
}

type laneState struct {
	lane   *Lane
	sh     *shape
	na, nb uint64
	ep     [16]byte // E(P) with the tweak folded in
}

// fastLane checks a lane and says whether its shape takes the fast path.
func (c *Cipher) fastLane(l *Lane) (bool, error) {
	if l.N < 2 || l.N > maxPrepared || !c.shapes[l.N].ok {
		return false, nil // Encrypt reports what is wrong
	}
	sh := &c.shapes[l.N]
	hi, lo := bits.Mul64(sh.mu, sh.mv)
	if hi != 0 {
		return false, fmt.Errorf("%w: %d^%d does not fit a lane's 64 bits", ErrDomain, c.radix, l.N)
	}
	if l.X >= lo {
		return false, fmt.Errorf("ff1: %d is not below %d^%d", l.X, c.radix, l.N)
	}
	return len(l.Tweak) <= maxPreparedTweak && oneBlock(len(l.Tweak), sh.b) && sh.d <= 16, nil
}

// slowLane enciphers one lane through Encrypt's numerals.
func (c *Cipher) slowLane(l *Lane) error {
	if l.N < 2 || l.N > 64 {
		return fmt.Errorf("%w: %d numerals", ErrDomain, l.N)
	}
	var buf [64]uint16
	x := buf[:l.N]
	c.str(x, l.X)
	if err := c.Encrypt(x, x, l.Tweak); err != nil {
		return err
	}
	l.X = c.num(x)
	return nil
}

// roundY is y = NUM(S) mod m for the first d bytes of R (d <= 16: S is R).
func roundY(r *[16]byte, d int, m *modulus) uint64 {
	if d == 8 {
		return m.reduce(binary.BigEndian.Uint64(r[:8]))
	}
	var y uint64
	for k := 0; k < d; k++ {
		y = (y<<8 | uint64(r[k])) % m.m
	}
	return y
}

// modulus reduces by m with a multiplication instead of a division:
// with magic = floor((2^64-1)/m), hi(x*magic) falls short of x/m by less
// than 1+1/m, so the remainder left is below 3m.
type modulus struct{ m, magic uint64 }

func newModulus(m uint64) modulus { return modulus{m: m, magic: ^uint64(0) / m} }

func (m *modulus) reduce(x uint64) uint64 {
	q, _ := bits.Mul64(x, m.magic)
	r := x - q*m.m
	if r >= m.m {
		r -= m.m
	}
	if r >= m.m {
		r -= m.m
	}
	return r
}
