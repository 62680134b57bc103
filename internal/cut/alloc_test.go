package cut

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestPageBuffersGrowInPlace: the page buffers of Arrow's pool, asked for 4
// bytes more than they hold time after time (as its level encoder does),
// are copied a logarithmic number of times, not on every ask.
func TestPageBuffersGrowInPlace(t *testing.T) {
	b, ok := pageBufferPool.Get().(*memory.Buffer)
	if !ok {
		t.Fatalf("Arrow's page buffer pool gives %T", b)
	}
	b.Reserve(256)
	copies, at := 0, &b.Buf()[0]
	for range 1000 {
		b.Reserve(b.Cap() + 4)
		if p := &b.Buf()[0]; p != at {
			copies, at = copies+1, p
		}
	}
	if copies > 12 {
		t.Errorf("1000 grows by 64 bytes copied the buffer %d times", copies)
	}
	b.ResizeNoShrink(0)
	pageBufferPool.Put(b)
}

// TestPageBuffersGrowZeroed: a grown page buffer holds what it held, and
// zeros past it, as Arrow's own allocator gives, even when its spare
// capacity held bytes of an earlier use.
func TestPageBuffersGrowZeroed(t *testing.T) {
	var a growingAllocator
	b := a.Allocate(64)
	for i := range b {
		b[i] = byte(i + 1)
	}
	nb := a.Reallocate(200, b[:16])
	if len(nb) != 200 {
		t.Fatalf("length %d, want 200", len(nb))
	}
	for i, v := range nb {
		if want := byte(0); i < 16 && v != byte(i+1) || i >= 16 && v != want {
			t.Fatalf("byte %d is %d after the grow", i, v)
		}
	}
}
