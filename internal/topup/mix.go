package topup

import "strconv"

// hash is FNV-1a (64-bit, as hash/fnv) over a seed's eight bytes and then
// strings, each followed by a zero byte; sum adds a final avalanche. As a
// value it extends a prefix hashed once: an ask's candidates differ only in
// their number.
type hash uint64

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func seeded(seed uint64) hash {
	h := hash(fnvOffset)
	for i := range 8 {
		h = (h ^ hash(byte(seed>>(8*i)))) * fnvPrime
	}
	return h
}

// add hashes the parts, each followed by a zero byte.
func (h hash) add(parts ...string) hash {
	for _, s := range parts {
		for i := 0; i < len(s); i++ {
			h = (h ^ hash(s[i])) * fnvPrime
		}
		h *= fnvPrime // the zero byte
	}
	return h
}

// addInt hashes n in decimal, as add(strconv.Itoa(n)) does.
func (h hash) addInt(n int) hash {
	var b [20]byte
	d := strconv.AppendInt(b[:0], int64(n), 10)
	for _, c := range d {
		h = (h ^ hash(c)) * fnvPrime
	}
	return h * fnvPrime
}

// sum is the hash with a final avalanche: FNV's low bits are weak for a
// modulus.
func (h hash) sum() uint64 {
	x := uint64(h)
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}

// mix hashes the seed and parts.
func mix(seed uint64, parts ...string) uint64 { return seeded(seed).add(parts...).sum() }
