// Package pqpage decodes the values of Parquet data pages straight from
// their bytes: the RLE/bit-packed hybrid (definition levels, dictionary
// indices), PLAIN text and DELTA_BINARY_PACKED integers. Arrow's decoders
// read a value at a time through interfaces and bit readers; the load
// packs decode every lineage column of every row group of a market (10^8
// values at 10^7 MPANs), so these decode a page in tight loops instead.
// Every function checks its input and returns ErrCorrupt rather than
// reading out of bounds: pages come from files.
package pqpage

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// ErrCorrupt is returned for bytes that are not a valid encoding.
var ErrCorrupt = errors.New("parquet page: corrupt encoding")

// uvarint reads a ULEB128 integer.
func uvarint(b []byte) (uint64, int, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, ErrCorrupt
	}
	return v, n, nil
}

// Hybrid appends to dst the n values of width bits (0 to 32) of the
// RLE/bit-packed hybrid encoding in data, and returns the bytes read. A
// bit-packed run may end in padding values past n: they are not appended.
func Hybrid(data []byte, width, n int, dst []uint32) ([]uint32, int, error) {
	if width < 0 || width > 32 {
		return dst, 0, ErrCorrupt
	}
	byteWidth := (width + 7) / 8
	pos := 0
	for n > 0 {
		h, k, err := uvarint(data[pos:])
		if err != nil {
			return dst, 0, err
		}
		pos += k
		if h&1 == 0 { // an RLE run: one value repeated
			count := h >> 1
			if count == 0 || pos+byteWidth > len(data) {
				return dst, 0, ErrCorrupt
			}
			var v uint32
			for i := 0; i < byteWidth; i++ {
				v |= uint32(data[pos+i]) << (8 * i)
			}
			pos += byteWidth
			if width < 32 && v>>width != 0 {
				return dst, 0, ErrCorrupt
			}
			m := int(min(count, uint64(n)))
			for i := 0; i < m; i++ {
				dst = append(dst, v)
			}
			n -= m
			continue
		}
		groups := h >> 1                   // of 8 values
		if groups == 0 || groups > 1<<28 { // 2^31 values: more than a page holds
			return dst, 0, ErrCorrupt
		}
		size := int(groups) * width // bytes: 8 values of width bits a group
		if pos+size > len(data) {
			return dst, 0, ErrCorrupt
		}
		m := min(int(groups)*8, n) // a page's n bounds what width 0 appends
		dst = unpack32(data[pos:pos+size], width, m, dst)
		pos += size
		n -= m
	}
	return dst, pos, nil
}

// MaxIndex is the largest of the first n values (fewer if the runs end
// with data) of width bits (0 to 32) of the hybrid encoding in data, -1
// for none: a page's dictionary indices are checked before a decoder
// allocates by them. A run cut short is ErrCorrupt.
func MaxIndex(data []byte, width, n int) (int, error) {
	if width < 0 || width > 32 {
		return 0, ErrCorrupt
	}
	byteWidth := (width + 7) / 8
	top, pos := -1, 0
	for n > 0 && pos < len(data) {
		h, k, err := uvarint(data[pos:])
		if err != nil {
			return 0, err
		}
		pos += k
		if h&1 == 0 { // an RLE run
			if h>>1 == 0 || pos+byteWidth > len(data) {
				return 0, ErrCorrupt
			}
			var v uint32
			for i := 0; i < byteWidth; i++ {
				v |= uint32(data[pos+i]) << (8 * i)
			}
			pos += byteWidth
			top = max(top, int(v))
			n -= int(min(h>>1, uint64(n)))
			continue
		}
		groups := h >> 1
		if groups == 0 || groups > uint64(len(data)) {
			return 0, ErrCorrupt
		}
		size := int(groups) * width
		if pos+size > len(data) {
			return 0, ErrCorrupt
		}
		m := min(int(groups)*8, n)
		b, mask := data[pos:pos+size], uint64(1)<<width-1
		for i, bit := 0, 0; i < m; i, bit = i+1, bit+width {
			top = max(top, int(load64(b, bit>>3)>>(bit&7)&mask))
		}
		pos += size
		n -= m
	}
	return top, nil
}

// unpack32 appends m values of width bits, least significant bit first,
// from b (which holds at least m*width bits).
func unpack32(b []byte, width, m int, dst []uint32) []uint32 {
	if width == 0 {
		for i := 0; i < m; i++ {
			dst = append(dst, 0)
		}
		return dst
	}
	mask := uint64(1)<<width - 1
	bit := 0
	for i := 0; i < m; i++ {
		dst = append(dst, uint32(load64(b, bit>>3)>>(bit&7)&mask))
		bit += width
	}
	return dst
}

// load64 reads up to 8 bytes at off, little-endian, zeros past the end.
func load64(b []byte, off int) uint64 {
	if off+8 <= len(b) {
		return binary.LittleEndian.Uint64(b[off:])
	}
	var v uint64
	for i := 0; off+i < len(b) && i < 8; i++ {
		v |= uint64(b[off+i]) << (8 * i)
	}
	return v
}

// MaxDeltaBlock bounds the values of a DELTA_BINARY_PACKED block. The
// spec sets no bound; writers use 128 (Arrow, parquet-mr) to 2048. Arrow
// v15's decoder unpacks a whole miniblock at a time, past the end of the
// page as zeros, into a buffer of its size: a damaged header declaring
// 2^31 values a miniblock took it 16 GiB and a minute and a half for a
// page of 3,000 values.
const MaxDeltaBlock = 4096

// deltaHeader reads a DELTA_BINARY_PACKED header (block size, miniblocks
// per block, value count, first value) and checks the block's shape: a
// multiple of 128 values of at most MaxDeltaBlock, in miniblocks of a
// multiple of 32, and at most max values in all. pos is the bytes read.
func deltaHeader(data []byte, max int) (blockSize, minis, total uint64, first int64, pos int, err error) {
	var hdr [3]uint64
	for i := range hdr {
		v, k, err := uvarint(data[pos:])
		if err != nil {
			return 0, 0, 0, 0, 0, err
		}
		hdr[i], pos = v, pos+k
	}
	blockSize, minis, total = hdr[0], hdr[1], hdr[2]
	first, k := binary.Varint(data[pos:])
	if k <= 0 {
		return 0, 0, 0, 0, 0, ErrCorrupt
	}
	pos += k
	if blockSize == 0 || blockSize%128 != 0 || blockSize > MaxDeltaBlock || minis == 0 || blockSize%minis != 0 ||
		(blockSize/minis)%32 != 0 || max < 0 || total > uint64(max) {
		return 0, 0, 0, 0, 0, ErrCorrupt
	}
	return blockSize, minis, total, first, pos, nil
}

// DeltaSize checks a DELTA_BINARY_PACKED encoding of at most max values
// at the start of data without decoding it: its header, and that its
// blocks' bit widths are at most 64 and their bytes are there. It returns
// the bytes the encoding takes (what follows is another encoding's, in
// DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY pages). It reads each
// block's widths, not its values: a block of width 0 takes two bytes, so
// the work is that of the page's bytes.
func DeltaSize(data []byte, max int) (int, error) {
	blockSize, minis, total, _, pos, err := deltaHeader(data, max)
	if err != nil {
		return 0, err
	}
	perMini := int(blockSize / minis)
	for left := int(total) - 1; left > 0; {
		_, k := binary.Varint(data[pos:]) // the minimum delta
		if k <= 0 {
			return 0, ErrCorrupt
		}
		pos += k
		if pos+int(minis) > len(data) {
			return 0, ErrCorrupt
		}
		widths := data[pos : pos+int(minis)]
		pos += int(minis)
		for _, w := range widths {
			if left <= 0 {
				break // the block's unused miniblocks: widths only
			}
			if w > 64 {
				return 0, ErrCorrupt
			}
			if pos += perMini * int(w) / 8; pos > len(data) {
				return 0, ErrCorrupt
			}
			left -= perMini
		}
	}
	return pos, nil
}

// Delta appends to dst the values of a DELTA_BINARY_PACKED encoding of at
// most max values (header: block size, miniblocks per block, value count,
// first value; then per block its minimum delta, its miniblocks' bit
// widths and the miniblocks) and returns the bytes read. Sums wrap as
// int64; an INT32 column's values are the low 32 bits.
func Delta(data []byte, max int, dst []int64) ([]int64, int, error) {
	blockSize, minis, total, first, pos, err := deltaHeader(data, max)
	if err != nil {
		return dst, 0, err
	}
	if total == 0 {
		return dst, pos, nil
	}
	// A block takes at least its minimum delta and its widths: a count
	// beyond what the bytes can hold is corrupt (and not allocated).
	if total-1 > uint64(len(data)-pos)/(minis+1)*blockSize {
		return dst, 0, ErrCorrupt
	}
	perMini := int(blockSize / minis)
	dst = append(dst, first)
	last := first
	left := int(total) - 1
	for left > 0 {
		minDelta, k := binary.Varint(data[pos:])
		if k <= 0 {
			return dst, 0, ErrCorrupt
		}
		pos += k
		if pos+int(minis) > len(data) {
			return dst, 0, ErrCorrupt
		}
		widths := data[pos : pos+int(minis)]
		pos += int(minis)
		for _, w := range widths {
			if left == 0 {
				break // the block's unused miniblocks: widths only
			}
			width := int(w)
			if width > 64 {
				return dst, 0, ErrCorrupt
			}
			size := perMini * width / 8
			if pos+size > len(data) {
				return dst, 0, ErrCorrupt
			}
			m := min(perMini, left)
			dst, last = unpackDeltas(data[pos:pos+size], width, m, minDelta, last, dst)
			pos += size
			left -= m
		}
	}
	return dst, pos, nil
}

// unpackDeltas appends m values, each the one before plus minDelta plus
// the next delta of width bits of b.
func unpackDeltas(b []byte, width, m int, minDelta, last int64, dst []int64) ([]int64, int64) {
	switch {
	case width == 0:
		for i := 0; i < m; i++ {
			last += minDelta
			dst = append(dst, last)
		}
	case width <= 56: // a value's bits lie within one 8-byte load
		mask := uint64(1)<<width - 1
		bit := 0
		for i := 0; i < m; i++ {
			d := load64(b, bit>>3) >> (bit & 7) & mask
			last += minDelta + int64(d)
			dst = append(dst, last)
			bit += width
		}
	default:
		bit := 0
		for i := 0; i < m; i++ {
			lo := load64(b, bit>>3) >> (bit & 7)
			if s := 64 - bit&7; s < width { // the high bits from the ninth byte
				lo |= load64(b, bit>>3+8) << s
			}
			if width < 64 {
				lo &= uint64(1)<<width - 1
			}
			last += minDelta + int64(lo)
			dst = append(dst, last)
			bit += width
		}
	}
	return dst, last
}

// LevelWidth is the bit width of levels up to max.
func LevelWidth(max int16) int { return bits.Len16(uint16(max)) }
