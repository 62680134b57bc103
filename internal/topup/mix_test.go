package topup

import (
	"hash/fnv"
	"strconv"
	"testing"
)

// mixFNV is mix as hash/fnv computes it: the units of every plan depend on
// these values staying the same.
func mixFNV(seed uint64, parts ...string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	for _, s := range parts {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}

func TestMixIsFNV(t *testing.T) {
	for _, seed := range []uint64{0, 7, 1 << 63, 0xdeadbeefcafe} {
		for _, parts := range [][]string{nil, {""}, {"candidate", "national", "UIT-Q1/unmetered/supplier=HRZN"}, {"é", "", "x"}} {
			want := mixFNV(seed, parts...)
			if got := mix(seed, parts...); got != want {
				t.Errorf("mix(%d, %q) = %x, want %x", seed, parts, got, want)
			}
			for _, n := range []int{0, 9, 10, 12345, 1 << 40} {
				want := mixFNV(seed, append(parts, strconv.Itoa(n), "site")...)
				if got := seeded(seed).add(parts...).addInt(n).add("site").sum(); got != want {
					t.Errorf("seeded(%d).add(%q).addInt(%d).add(site) = %x, want %x", seed, parts, n, got, want)
				}
			}
		}
	}
}
