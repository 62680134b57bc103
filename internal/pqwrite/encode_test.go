package pqwrite

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/mhhs-sit/datacut/internal/pqpage"
)

// valuesFrom turns fuzz bytes into values of at most width bits, with
// runs: each byte pair is a value and how often it repeats.
func valuesFrom(b []byte, width uint) []uint64 {
	var vals []uint64
	for i := 0; i+1 < len(b); i += 2 {
		v := uint64(b[i]) * 0x0101010101010101
		if width < 64 {
			v &= 1<<width - 1
		}
		for range int(b[i+1]%40) + 1 {
			vals = append(vals, v)
		}
	}
	return vals
}

// The hybrid encoder's runs read back as the values put, whether put one
// by one or as runs.
func FuzzRLE(f *testing.F) {
	f.Add([]byte{1, 0, 2, 30, 3, 7, 1, 1}, uint8(2))
	f.Add([]byte{0, 39, 0, 39, 255, 0}, uint8(1))
	f.Add([]byte{9, 9, 8, 8, 7, 7, 6, 6, 5, 5}, uint8(20))
	f.Fuzz(func(t *testing.T, b []byte, w uint8) {
		width := uint(w%32) + 1 // Hybrid reads up to 32 bits
		vals := valuesFrom(b, width)
		var one, runs rle
		one.reset(nil, width)
		for _, v := range vals {
			one.put(v)
		}
		runs.reset(nil, width)
		for i := 0; i < len(vals); {
			j := i
			for j < len(vals) && vals[j] == vals[i] {
				j++
			}
			runs.putRun(vals[i], j-i)
			i = j
		}
		enc := one.finish()
		if !slices.Equal(enc, runs.finish()) {
			t.Fatal("putRun encodes differently from put")
		}
		got, _, err := pqpage.Hybrid(enc, int(width), len(vals), nil)
		if err != nil {
			t.Fatalf("%d values of width %d: %v", len(vals), width, err)
		}
		for i, v := range vals {
			if uint64(got[i]) != v {
				t.Fatalf("value %d reads back %d, put %d", i, got[i], v)
			}
		}
	})
}

// DELTA_BINARY_PACKED reads back as the values, extremes and wrapping
// deltas included.
func FuzzDelta(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		var vals []int64
		for i := 0; i+8 <= len(b); i += 8 {
			v := int64(binary.LittleEndian.Uint64(b[i:]))
			for range int(b[i]%200) + 1 {
				vals = append(vals, v)
				v += int64(b[i+1]) - 100
			}
		}
		var block [deltaBlock]uint64
		enc := appendDelta(nil, vals, &block)
		got, n, err := pqpage.Delta(enc, len(vals), nil)
		if err != nil {
			t.Fatalf("%d values: %v", len(vals), err)
		}
		if n != len(enc) || !slices.Equal(got, vals) {
			t.Fatalf("%d values read back as %d, using %d of %d bytes", len(vals), len(got), n, len(enc))
		}
	})
}
