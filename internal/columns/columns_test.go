package columns

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

var types = []arrow.DataType{
	arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int32,
	arrow.FixedWidthTypes.Date32, &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"},
	&arrow.Decimal128Type{Precision: 20, Scale: 3}, arrow.FixedWidthTypes.Boolean,
}

// fill appends the same random values to our column and an Arrow builder.
func fill(rng *rand.Rand, c *Column, b array.Builder, n int, nullRate float64) {
	for i := 0; i < n; i++ {
		if rng.Float64() < nullRate {
			c.AppendNull()
			b.AppendNull()
			continue
		}
		switch bb := b.(type) {
		case *array.StringBuilder:
			v := make([]byte, rng.IntN(20))
			for k := range v {
				v[k] = byte('a' + rng.IntN(26))
			}
			c.Bytes(v)
			bb.BinaryBuilder.Append(v)
		case *array.Int64Builder:
			v := rng.Int64() - 1<<62
			c.Int64(v)
			bb.Append(v)
		case *array.TimestampBuilder:
			v := rng.Int64N(1 << 40)
			c.Int64(v)
			bb.Append(arrow.Timestamp(v))
		case *array.Int32Builder:
			v := rng.Int32() - 1<<30
			c.Int32(v)
			bb.Append(v)
		case *array.Date32Builder:
			v := rng.Int32N(40000)
			c.Int32(v)
			bb.Append(arrow.Date32(v))
		case *array.Decimal128Builder:
			v := decimal128.New(rng.Int64N(3)-1, rng.Uint64())
			c.Decimal(v)
			bb.Append(v)
		case *array.BooleanBuilder:
			v := rng.IntN(2) == 1
			c.Bool(v)
			bb.Append(v)
		}
	}
}

func TestColumnsMatchArrowBuilders(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, typ := range types {
		t.Run(typ.String(), func(t *testing.T) {
			c := New(typ)
			// Several batches through one column, sized from the one
			// before; sizes cross byte boundaries of the bitmaps.
			for batch, n := range []int{0, 1, 7, 8, 9, 1000, 3, 70000, 64, 5} {
				nullRate := []float64{0, 0.3, 1}[batch%3]
				if batch%4 == 1 {
					c.SizeHint(n/2, n) // a hint too small must only cost growth
				}
				b := array.NewBuilder(memory.DefaultAllocator, typ)
				fill(rng, c, b, n, nullRate)
				if c.Len() != n {
					t.Fatalf("Len %d, want %d", c.Len(), n)
				}
				got, want := c.NewArray(), b.NewArray()
				if !array.Equal(got, want) {
					t.Fatalf("batch %d (%d values, null rate %.1f): got %v, want %v", batch, n, nullRate, got, want)
				}
				if got.NullN() != want.NullN() {
					t.Fatalf("batch %d: %d nulls, want %d", batch, got.NullN(), want.NullN())
				}
				got.Release()
				want.Release()
				b.Release()
			}
		})
	}
}

// A null slot of a fixed-width column reads as zero, and a batch holds
// only its own values, never an earlier batch's.
func TestBatchesShowNothingOld(t *testing.T) {
	c := New(arrow.PrimitiveTypes.Int64)
	for i := 0; i < 5000; i++ {
		c.Int64(0x7777777777777777)
	}
	c.NewArray().Release()
	for i := 0; i < 5000; i++ {
		c.AppendNull()
	}
	a := c.NewArray().(*array.Int64)
	defer a.Release()
	for i, v := range a.Int64Values() {
		if v != 0 {
			t.Fatalf("null slot %d holds %x from an earlier batch", i, v)
		}
	}
	s := New(arrow.BinaryTypes.String)
	s.Bytes([]byte("secret-secret-secret"))
	s.NewArray().Release()
	s.Bytes([]byte("x"))
	sa := s.NewArray().(*array.String)
	defer sa.Release()
	if len(sa.ValueBytes()) != 1 {
		t.Fatalf("string data %q, want only the new value", sa.ValueBytes())
	}
}

func TestDiscard(t *testing.T) {
	c := New(arrow.BinaryTypes.String)
	c.Bytes([]byte("dropped"))
	c.AppendNull()
	c.Discard()
	c.Bytes([]byte("kept"))
	a := c.NewArray().(*array.String)
	defer a.Release()
	if a.Len() != 1 || a.Value(0) != "kept" || a.NullN() != 0 {
		t.Fatalf("after Discard: %v", a)
	}
}

func BenchmarkAppend(b *testing.B) {
	v := []byte("S95A123456")
	b.Run("columns", func(b *testing.B) {
		c, n := New(arrow.BinaryTypes.String), New(arrow.PrimitiveTypes.Int64)
		for i := 0; i < b.N; i++ {
			c.Bytes(v)
			n.Int64(int64(i))
			if c.Len() == 65536 {
				c.NewArray().Release()
				n.NewArray().Release()
			}
		}
	})
	b.Run("arrow", func(b *testing.B) {
		c, n := array.NewStringBuilder(memory.DefaultAllocator), array.NewInt64Builder(memory.DefaultAllocator)
		for i := 0; i < b.N; i++ {
			c.BinaryBuilder.Append(v)
			n.Append(int64(i))
			if c.Len() == 65536 {
				c.NewArray().Release()
				n.NewArray().Release()
			}
		}
	})
}

// TestSizeLike: a column sized like another starts its buffers at the other's
// last batch, and one of another type is left alone.
func TestSizeLike(t *testing.T) {
	prev := New(arrow.BinaryTypes.String)
	for range 1000 {
		prev.Bytes([]byte("a value of some length"))
	}
	prev.NewArray().Release()
	c := New(arrow.BinaryTypes.String)
	c.SizeLike(prev.Sizes())
	c.Bytes([]byte("x"))
	if cap(c.data) < 22000 || cap(c.offs) < 4004 {
		t.Errorf("capacities %d and %d, want the previous batch's 22000 and 4004", cap(c.data), cap(c.offs))
	}
	d := New(arrow.PrimitiveTypes.Int64)
	d.SizeLike(prev.Sizes())
	if d.lastData != 0 {
		t.Errorf("an int64 column took a string column's sizes: %d", d.lastData)
	}
}

// TestShortBatchKeepsTheSize: a short batch (a file's tail) does not shrink
// the start of the batch after it, which is as likely to be full again.
func TestShortBatchKeepsTheSize(t *testing.T) {
	c := New(arrow.BinaryTypes.String)
	batch := func(n int) {
		for range n {
			c.Bytes([]byte("a value of some length"))
		}
		c.NewArray().Release()
	}
	batch(1000)
	batch(10)
	c.Bytes([]byte("x"))
	if cap(c.data) < 22000 || cap(c.offs) < 4004 {
		t.Errorf("after a full batch and a short one, capacities %d and %d, want the full batch's 22000 and 4004", cap(c.data), cap(c.offs))
	}
	c.NewArray().Release()
	batch(10)
	c.Bytes([]byte("x"))
	if cap(c.data) > 1000 {
		t.Errorf("after two short batches, capacity %d, want theirs", cap(c.data))
	}
}
