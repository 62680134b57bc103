package pqpage

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// encodeDelta is the DELTA_BINARY_PACKED encoding of vals as the Parquet
// spec gives it (blocks of 128 values in 4 miniblocks), the reference the
// decoder is checked against.
func encodeDelta(vals []int64, blockSize, minis int) []byte {
	out := binary.AppendUvarint(nil, uint64(blockSize))
	out = binary.AppendUvarint(out, uint64(minis))
	out = binary.AppendUvarint(out, uint64(len(vals)))
	if len(vals) == 0 {
		return binary.AppendVarint(out, 0)
	}
	out = binary.AppendVarint(out, vals[0])
	perMini := blockSize / minis
	for start := 1; start < len(vals); start += blockSize {
		end := min(start+blockSize, len(vals))
		deltas := make([]int64, end-start)
		for i := range deltas {
			deltas[i] = vals[start+i] - vals[start+i-1] // wraps, as the decoder's sums do
		}
		minDelta := slices.Min(deltas)
		out = binary.AppendVarint(out, minDelta)
		widths := make([]byte, minis)
		for m := 0; m < minis && m*perMini < len(deltas); m++ {
			for _, d := range deltas[m*perMini : min((m+1)*perMini, len(deltas))] {
				widths[m] = max(widths[m], byte(bits.Len64(uint64(d-minDelta))))
			}
		}
		out = append(out, widths...)
		for m := 0; m < minis && m*perMini < len(deltas); m++ {
			packed := make([]byte, perMini*int(widths[m])/8)
			for i := 0; i < perMini; i++ {
				var v uint64
				if k := m*perMini + i; k < len(deltas) {
					v = uint64(deltas[k] - minDelta)
				}
				for b := 0; b < int(widths[m]); b++ {
					if v>>b&1 == 1 {
						bit := i*int(widths[m]) + b
						packed[bit/8] |= 1 << (bit % 8)
					}
				}
			}
			out = append(out, packed...)
		}
	}
	return out
}

func TestDeltaDecodesTheSpecsEncoding(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	cases := map[string][]int64{
		"empty":       {},
		"one":         {42},
		"rising by 1": nil,
		"random":      nil,
		"extremes":    {math.MaxInt64, math.MinInt64, 0, -1, math.MaxInt64, 7, math.MinInt64},
		"dates":       nil,
	}
	for i := 0; i < 1000; i++ {
		cases["rising by 1"] = append(cases["rising by 1"], int64(i+2))
	}
	for i := 0; i < 777; i++ {
		cases["random"] = append(cases["random"], rnd.Int64N(1<<uint(rnd.IntN(62)+1))-1<<40)
		cases["dates"] = append(cases["dates"], int64(18000+rnd.IntN(400)))
	}
	for name, vals := range cases {
		for _, layout := range [][2]int{{128, 4}, {256, 8}, {128, 1}} {
			enc := encodeDelta(vals, layout[0], layout[1])
			got, used, err := Delta(append(enc, 0xEE), len(vals), nil) // a byte after: not read
			if err != nil {
				t.Fatalf("%s %v: %v", name, layout, err)
			}
			if used != len(enc) {
				t.Errorf("%s %v: read %d bytes of %d", name, layout, used, len(enc))
			}
			if size, err := DeltaSize(append(enc, 0xEE), len(vals)); size != len(enc) || err != nil {
				t.Errorf("%s %v: DeltaSize %d, %v, want %d", name, layout, size, err, len(enc))
			}
			if !slices.Equal(got, vals) && !(len(got) == 0 && len(vals) == 0) {
				t.Errorf("%s %v: decoded values differ", name, layout)
			}
		}
	}
}

// A header declaring more values than the page holds is corrupt, however
// few bytes they would take (a block of width 0 is two bytes): Delta
// allocated 2^26 values for 64 KiB of a damaged page of 3,000.
func TestDeltaBoundsItsValuesByThePage(t *testing.T) {
	data := []byte{0x80, 0x20, 0x01, 0x80, 0x80, 0x80, 0x20, 0x00} // 4096 a block, 1 miniblock, 2^26 values
	data = append(data, make([]byte, 2<<14)...)                    // 2^14 blocks of minimum delta 0, width 0
	if got, _, err := Delta(data, 3000, nil); err != ErrCorrupt || len(got) != 0 {
		t.Errorf("Delta: %d values, %v, want ErrCorrupt", len(got), err)
	}
	if _, err := DeltaSize(data, 3000); err != ErrCorrupt {
		t.Errorf("DeltaSize: %v, want ErrCorrupt", err)
	}
	if _, err := DeltaSize(data, 1<<26); err != nil {
		t.Errorf("DeltaSize of as many values as declared: %v", err)
	}
	for name, hdr := range map[string][]byte{
		"a block of 8192":            {0x80, 0x40, 0x01, 0x01, 0x00},
		"a block of 100":             {0x64, 0x01, 0x01, 0x00},
		"miniblocks of 16 values":    {0x80, 0x01, 0x08, 0x01, 0x00},
		"no miniblocks":              {0x80, 0x01, 0x00, 0x01, 0x00},
		"3 miniblocks of 128":        {0x80, 0x01, 0x03, 0x01, 0x00},
		"a width of 65":              {0x80, 0x01, 0x01, 0x02, 0x00, 0x00, 65},
		"a miniblock cut short":      {0x80, 0x01, 0x01, 0x02, 0x00, 0x00, 8, 0xff},
		"a block's widths cut short": {0x80, 0x01, 0x04, 0x02, 0x00, 0x00, 0x00},
	} {
		if _, err := DeltaSize(hdr, 100); err != ErrCorrupt {
			t.Errorf("%s: DeltaSize %v, want ErrCorrupt", name, err)
		}
		if _, _, err := Delta(hdr, 100, nil); err != ErrCorrupt {
			t.Errorf("%s: Delta %v, want ErrCorrupt", name, err)
		}
	}
}

func TestMaxIndexOfRunsAndPackedGroups(t *testing.T) {
	// width 3: an RLE run of 5 fives, then one bit-packed group of 7..0.
	data := []byte{5 << 1, 5, 1<<1 | 1}
	var packed uint32
	for i := 0; i < 8; i++ {
		packed |= uint32(7-i) << (3 * i)
	}
	data = append(data, byte(packed), byte(packed>>8), byte(packed>>16))
	for _, tc := range []struct{ n, want int }{{11, 7}, {5, 5}, {0, -1}, {100, 7}} {
		if got, err := MaxIndex(data, 3, tc.n); got != tc.want || err != nil {
			t.Errorf("of %d values: %d, %v, want %d", tc.n, got, err, tc.want)
		}
	}
	if _, err := MaxIndex(data[:4], 3, 11); err != ErrCorrupt {
		t.Errorf("a cut group: %v, want ErrCorrupt", err)
	}
	if _, err := MaxIndex(data, 33, 11); err != ErrCorrupt {
		t.Errorf("width 33: %v, want ErrCorrupt", err)
	}
}

func TestHybridRunsAndPackedGroups(t *testing.T) {
	// width 3: an RLE run of 5 fives, then one bit-packed group of 0..7.
	data := []byte{5 << 1, 5, 1<<1 | 1}
	var packed uint32
	for i := 0; i < 8; i++ {
		packed |= uint32(i) << (3 * i)
	}
	data = append(data, byte(packed), byte(packed>>8), byte(packed>>16))
	got, used, err := Hybrid(data, 3, 11, nil) // the group's last two are padding
	if err != nil {
		t.Fatal(err)
	}
	want := []uint32{5, 5, 5, 5, 5, 0, 1, 2, 3, 4, 5}
	if !slices.Equal(got, want) || used != len(data) {
		t.Errorf("got %v (%d bytes), want %v (%d)", got, used, want, len(data))
	}
	if _, _, err := Hybrid(data[:4], 3, 11, nil); err != ErrCorrupt {
		t.Errorf("a cut group: %v, want ErrCorrupt", err)
	}
}

// Any bytes: an error or values, never a panic or a runaway allocation;
// values encoded by the spec's encoder decode back.
func FuzzDelta(f *testing.F) {
	f.Add([]byte{0x80, 0x01, 0x04, 0x05, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00}, int64(5), int64(-3))
	f.Add(encodeDelta([]int64{1, 2, 3, 100, -7}, 128, 4), int64(0), int64(1))
	f.Fuzz(func(t *testing.T, data []byte, a, b int64) {
		// DeltaSize checks without decoding what Delta decodes.
		n := int(a & 0xFFFF)
		got, used, err := Delta(data, n, nil)
		size, serr := DeltaSize(data, n)
		if (err == nil) != (serr == nil) || err == nil && (size != used || len(got) > n) {
			t.Fatalf("Delta read %d bytes (%v), DeltaSize %d (%v), of %d values at most", used, err, size, serr, n)
		}
		// MaxIndex is the largest value Hybrid decodes.
		width, m := int(a&63), int(b&0xFFFF)
		vals32, _, herr := Hybrid(data, width, m, nil)
		top, merr := MaxIndex(data, width, m)
		if herr == nil {
			want := -1
			if len(vals32) > 0 {
				want = int(slices.Max(vals32))
			}
			if top != want || merr != nil {
				t.Fatalf("MaxIndex %d (%v), Hybrid's largest of %d values %d", top, merr, len(vals32), want)
			}
		}
		vals := []int64{a, b, a ^ b, a + b}
		for _, c := range data {
			vals = append(vals, vals[len(vals)-1]+int64(int8(c))*(a>>uint(c%60)))
		}
		got, _, err = Delta(encodeDelta(vals, 128, 4), len(vals), nil)
		if err != nil || !slices.Equal(got, vals) {
			t.Fatalf("round trip of %d values: %v", len(vals), err)
		}
	})
}
