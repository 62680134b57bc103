package cut

import (
	"slices"
	"sync"
	_ "unsafe" // go:linkname, below

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// pageBufferPool is Arrow v15's pool of Parquet page and level buffers
// (parquet/internal/encoding.bufferPool; go.mod pins the version, and
// TestPageBuffersGrowInPlace checks the link). Its buffers are given a
// growingAllocator in place of the Go allocator.
//
//go:linkname pageBufferPool github.com/apache/arrow/go/v15/parquet/internal/encoding.bufferPool
var pageBufferPool sync.Pool

func init() {
	pageBufferPool.New = func() any { return memory.NewResizableBuffer(&growingAllocator{}) }
}

// growingAllocator is Arrow's Go allocator, except that a buffer outgrowing
// its capacity gets a capacity at least twice as large, beyond the length
// asked for. Arrow's Parquet column writer needs this: its definition-level
// sink (encoding.PooledBufferWriter) asks for 4 bytes more than it holds on
// every RLE literal run once its length prefix is reserved, and under the
// Go allocator, which gives exactly the length asked for, each run copied
// the page's levels so far into a fresh buffer (quadratic in a page's runs:
// 8 % of an EES cut's CPU). Here those grows are amortised constant; the
// lengths, the contents and so the bytes written are the same. (Not for
// general use: Arrow's compute kernels take a buffer's Buf() to end where
// its capacity does.)
type growingAllocator struct{ memory.GoAllocator }

// Reallocate gives b[:size] when b has the capacity, as Arrow's does, and
// otherwise copies b into a fresh buffer with twice b's capacity or more.
// As with Arrow's, the bytes past b are zero; unlike Arrow's, the bytes b's
// copy covers are not cleared first (slices.Grow), and the buffer is aligned
// as the Go allocator aligns, not to 64 bytes.
func (a *growingAllocator) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := slices.Grow(b, max(size, 2*cap(b))-len(b))[:size]
	clear(nb[len(b):cap(b)]) // b's spare capacity, copied as it was
	return nb
}
