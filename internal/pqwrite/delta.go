package pqwrite

import (
	"encoding/binary"
	"math/bits"
)

// DELTA_BINARY_PACKED as Arrow v15 writes it (parquet/internal/encoding
// deltaBitPackEncoder): blocks of 128 deltas in 4 miniblocks of 32; a
// miniblock past the last delta is not written and keeps width 0.
const (
	deltaBlock     = 128
	deltaMiniBlock = 32
	deltaMinis     = deltaBlock / deltaMiniBlock
)

// appendDelta appends vals DELTA_BINARY_PACKED; scratch holds a block's
// deltas between calls.
func appendDelta(dst []byte, vals []int64, scratch *[deltaBlock]uint64) []byte {
	var first int64
	if len(vals) > 0 {
		first = vals[0]
	}
	dst = binary.AppendUvarint(dst, deltaBlock)
	dst = binary.AppendUvarint(dst, deltaMinis)
	dst = binary.AppendUvarint(dst, uint64(len(vals)))
	dst = binary.AppendVarint(dst, first)
	for i := 1; i < len(vals); i += deltaBlock {
		end := min(i+deltaBlock, len(vals))
		dst = appendDeltaBlock(dst, vals[i-1:end], scratch)
	}
	return dst
}

// appendDeltaBlock writes the block of the deltas between consecutive
// values of vals (at most deltaBlock+1 values).
func appendDeltaBlock(dst []byte, vals []int64, d *[deltaBlock]uint64) []byte {
	n := len(vals) - 1
	minDelta := int64(1<<63 - 1)
	for i := range n {
		delta := vals[i+1] - vals[i]
		d[i] = uint64(delta)
		minDelta = min(minDelta, delta)
	}
	dst = binary.AppendVarint(dst, minDelta)
	widths := len(dst)
	dst = append(dst, make([]byte, deltaMinis)...)
	for m := 0; m*deltaMiniBlock < n; m++ {
		mini := d[m*deltaMiniBlock : min((m+1)*deltaMiniBlock, n)]
		var spread uint64
		for j := range mini {
			mini[j] -= uint64(minDelta)
			spread = max(spread, mini[j])
		}
		width := uint(bits.Len64(spread))
		dst[widths+m] = byte(width)
		var full [deltaMiniBlock]uint64 // the last miniblock is padded with zeros
		copy(full[:], mini)
		dst = appendPacked(dst, full[:], width)
	}
	return dst
}
