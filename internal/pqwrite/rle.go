package pqwrite

import "encoding/binary"

// rle is Parquet's RLE/bit-packed hybrid encoder, making the same choices
// as Arrow v15's (parquet/internal/utils.RleEncoder), so that its runs and
// literal groups, and so the bytes, are Arrow's: values are buffered eight
// at a time; eight or more equal values make a repeated run, anything else
// goes out in literal groups of eight, at most 63 groups to an indicator
// byte. Groups of eight values of any width end on a byte boundary, so the
// encoder appends whole bytes.
type rle struct {
	out       []byte
	width     uint
	buf       [8]uint64
	nbuf      int
	cur       uint64
	rep, lit  int32
	indicator int // where the open literal run's indicator byte is, or -1
}

func (r *rle) reset(out []byte, width uint) {
	*r = rle{out: out, width: width, indicator: -1}
}

func (r *rle) put(v uint64) {
	if r.cur == v {
		r.rep++
		if r.rep > 8 {
			return // a long run goes on: nothing to buffer
		}
	} else {
		if r.rep >= 8 {
			r.flushRepeated()
		}
		r.rep, r.cur = 1, v
	}
	r.buf[r.nbuf] = v
	r.nbuf++
	if r.nbuf == 8 {
		r.flushBuffered()
	}
}

// putRun puts n copies of v, as n calls of put would.
func (r *rle) putRun(v uint64, n int) {
	for ; n > 0 && (r.cur != v || r.rep < 8); n-- {
		r.put(v)
	}
	r.rep += int32(n) // past 8 equal values, put only counts
}

func (r *rle) flushBuffered() {
	if r.rep >= 8 {
		r.nbuf = 0 // the buffered values belong to the repeated run
		if r.lit != 0 {
			r.flushLiteral(true)
		}
		return
	}
	r.lit += int32(r.nbuf)
	r.flushLiteral(r.lit/8+1 >= 1<<6)
	r.rep = 0
}

func (r *rle) flushLiteral(close bool) {
	if r.indicator == -1 {
		r.indicator = len(r.out)
		r.out = append(r.out, 0)
	}
	r.out = appendPacked(r.out, r.buf[:r.nbuf], r.width)
	r.nbuf = 0
	if close {
		r.out[r.indicator] = byte((r.lit/8)<<1 | 1)
		r.indicator, r.lit = -1, 0
	}
}

func (r *rle) flushRepeated() {
	r.out = binary.AppendUvarint(r.out, uint64(uint32(r.rep<<1)))
	for i := uint(0); i < (r.width+7)/8; i++ {
		r.out = append(r.out, byte(r.cur>>(8*i)))
	}
	r.rep, r.nbuf = 0, 0
}

// finish ends the last run and returns the encoded bytes.
func (r *rle) finish() []byte {
	if r.lit > 0 || r.rep > 0 || r.nbuf > 0 {
		allRep := r.lit == 0 && (r.rep == int32(r.nbuf) || r.nbuf == 0)
		if r.rep > 0 && allRep {
			r.flushRepeated()
		} else {
			for r.nbuf != 0 && r.nbuf < 8 {
				r.buf[r.nbuf] = 0
				r.nbuf++
			}
			r.lit += int32(r.nbuf)
			r.flushLiteral(true)
			r.rep = 0
		}
	}
	return r.out
}

// appendPacked appends vals bit-packed at width bits each, least
// significant bit first; a partial last byte is padded with zeros.
func appendPacked(dst []byte, vals []uint64, width uint) []byte {
	if width == 0 {
		return dst
	}
	var acc uint64
	var n uint
	for _, v := range vals {
		if width < 64 {
			v &= 1<<width - 1
		}
		acc |= v << n
		if n+width >= 64 {
			dst = binary.LittleEndian.AppendUint64(dst, acc)
			if n > 0 {
				acc = v >> (64 - n)
			} else {
				acc = 0
			}
			n = n + width - 64
			continue
		}
		n += width
		for n >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			n -= 8
		}
	}
	for n > 0 {
		dst = append(dst, byte(acc))
		acc >>= 8
		n -= min(n, 8)
	}
	return dst
}
