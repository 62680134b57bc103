package allocation

import (
	"context"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/compute"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// takeColumn returns col's values at indices, in their order. Text,
// 64-bit integers, dates and booleans (every column type of a cut) are
// copied straight into buffers of the exact size; Arrow's take kernel
// sizes a text column's value buffer by the whole input, which for a pack
// taking a few rows of a row group's union cost more than the decoding.
func takeColumn(ctx context.Context, col arrow.Array, indices []int32) (arrow.Array, error) {
	n := len(indices)
	var nulls *memory.Buffer
	nullN := 0
	if col.NullN() > 0 {
		bits := make([]byte, bitutil.BytesForBits(int64(n)))
		for i, x := range indices {
			if col.IsValid(int(x)) {
				bitutil.SetBit(bits, i)
			} else {
				nullN++
			}
		}
		if nullN > 0 {
			nulls = memory.NewBufferBytes(bits)
		}
	}
	var buffers []*memory.Buffer
	switch c := col.(type) {
	case *array.String:
		offs := make([]int32, n+1)
		size := 0
		for i, x := range indices {
			size += c.ValueLen(int(x))
			offs[i+1] = int32(size)
		}
		data := make([]byte, 0, size)
		for _, x := range indices {
			data = append(data, c.Value(int(x))...)
		}
		buffers = []*memory.Buffer{nulls, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs)), memory.NewBufferBytes(data)}
	case *array.Int64:
		vals, out := c.Int64Values(), make([]int64, n)
		for i, x := range indices {
			out[i] = vals[x]
		}
		buffers = []*memory.Buffer{nulls, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(out))}
	case *array.Date32:
		vals, out := c.Date32Values(), make([]arrow.Date32, n)
		for i, x := range indices {
			out[i] = vals[x]
		}
		buffers = []*memory.Buffer{nulls, memory.NewBufferBytes(arrow.Date32Traits.CastToBytes(out))}
	case *array.Boolean:
		bits := make([]byte, bitutil.BytesForBits(int64(n)))
		for i, x := range indices {
			if c.Value(int(x)) {
				bitutil.SetBit(bits, i)
			}
		}
		buffers = []*memory.Buffer{nulls, memory.NewBufferBytes(bits)}
	default:
		b := array.NewInt32Builder(memory.DefaultAllocator)
		defer b.Release()
		b.AppendValues(indices, nil)
		idx := b.NewArray()
		defer idx.Release()
		return compute.TakeArray(ctx, col, idx)
	}
	if nulls == nil {
		nullN = 0
	}
	d := array.NewData(col.DataType(), n, buffers, nil, nullN, 0)
	defer d.Release()
	return array.MakeFromData(d), nil
}
