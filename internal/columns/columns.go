// Package columns builds Arrow arrays from plain byte slices. Arrow's own
// builders cost more than the parsing they serve (an interface call, a
// reserve check and a bitmap write per value, a reallocation with zeroing
// on every growth); here an append is a slice append into buffers sized
// from the previous batch, and the finished slices become the array's
// buffers without a copy. (Recycling the buffers through a pool was
// measured too: the pooled memory raised the heap the collector paces
// against, and the run got slower and 300 MB bigger.)
package columns

import (
	"encoding/binary"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// Column accumulates one column's values; NewArray hands them to Arrow and
// starts over. The Append method must match the column's type (Bytes for
// strings, Int64 for int64 and timestamps, Int32 for dates, Decimal,
// Bool). Not safe for concurrent use.
type Column struct {
	typ   arrow.DataType
	id    arrow.Type
	width int // bytes per value; 0 for strings, -1 for booleans
	n     int
	nulls int
	valid []byte // validity bitmap, nil while there are no nulls
	offs  []byte // strings: int32 offsets, n+1 of them
	data  []byte // values (booleans: a bitmap)
	// sizes to start the next batch's buffers at: the larger of the last
	// two batches' (and an eighth), so that a file's short tail batch does not leave the
	// next file's first, full batch to grow from a small start
	lastValid, lastOffs, lastData int
	prevOffs, prevData            int // the last batch's own sizes
}

// New returns a column of an Arrow type: string, int64, int32, date32,
// timestamp, decimal128 or boolean.
func New(t arrow.DataType) *Column {
	c := &Column{typ: t, id: t.ID()}
	switch t.ID() {
	case arrow.STRING:
	case arrow.BOOL:
		c.width = -1
	default:
		c.width = t.(arrow.FixedWidthDataType).Bytes()
	}
	return c
}

// SizeHint sizes the next batch's buffers for rows values holding bytes
// bytes of strings (ignored for fixed-width types), in place of the last
// batch's sizes: for a column known to mirror another, like a masked copy.
func (c *Column) SizeHint(rows, bytes int) {
	c.lastValid, c.lastOffs = rows/8+1, 4*(rows+1)
	switch c.width {
	case 0:
		c.lastData = bytes
	case -1:
		c.lastData = rows/8 + 1
	default:
		c.lastData = rows * c.width
	}
}

// Sizes is what a column has learnt of its batches' sizes, to start another
// column of the same type at them.
type Sizes struct {
	typ                                               arrow.DataType
	lastValid, lastOffs, lastData, prevOffs, prevData int
}

// Sizes returns the sizes c would start its next batch at.
func (c *Column) Sizes() Sizes {
	return Sizes{c.typ, c.lastValid, c.lastOffs, c.lastData, c.prevOffs, c.prevData}
}

// SizeLike sizes the next batch's buffers as s says, when s is of a column
// of the same type: for a column continuing another's values in a new
// builder, like the next file's.
func (c *Column) SizeLike(s Sizes) {
	if s.typ != nil && arrow.TypeEqual(c.typ, s.typ) {
		c.lastValid, c.lastOffs, c.lastData, c.prevOffs, c.prevData = s.lastValid, s.lastOffs, s.lastData, s.prevOffs, s.prevData
	}
}

// Type is the column's Arrow type.
func (c *Column) Type() arrow.DataType { return c.typ }

// ID is the column's Arrow type id (no interface call).
func (c *Column) ID() arrow.Type { return c.id }

// Len is the number of values appended since the last NewArray.
func (c *Column) Len() int { return c.n }

func (c *Column) start() {
	if c.data == nil {
		c.begin()
	}
}

func (c *Column) begin() {
	c.data = make([]byte, 0, max(c.lastData, 256))
	if c.width == 0 {
		c.offs = binary.LittleEndian.AppendUint32(make([]byte, 0, max(c.lastOffs, 256)), 0)
	}
}

// setValid records the validity of the value about to be appended.
func (c *Column) setValid(ok bool) {
	if c.valid == nil && ok {
		return
	}
	c.mark(ok)
}

func (c *Column) mark(ok bool) {
	if c.valid == nil {
		// First null: the values so far were all valid.
		c.valid = make([]byte, 0, max(c.lastValid, c.n/8+64))
		for i := 0; i < c.n/8; i++ {
			c.valid = append(c.valid, 0xff)
		}
		if c.n%8 != 0 {
			c.valid = append(c.valid, byte(1)<<(c.n%8)-1)
		}
	}
	if c.n%8 == 0 {
		c.valid = grow(c.valid, 1)
		c.valid = append(c.valid, 0)
	}
	if ok {
		c.valid[c.n/8] |= 1 << (c.n % 8)
	} else {
		c.nulls++
	}
}

// AppendNull appends a null.
func (c *Column) AppendNull() {
	c.start()
	c.setValid(false)
	switch c.width {
	case 0:
		c.offs = binary.LittleEndian.AppendUint32(grow(c.offs, 4), uint32(len(c.data)))
	case -1:
		c.appendBit(false)
	default:
		n := len(c.data)
		c.data = grow(c.data, c.width)[:n+c.width]
		clear(c.data[n:])
	}
	c.n++
}

// Bytes appends a string value.
func (c *Column) Bytes(v []byte) {
	c.start()
	c.setValid(true)
	c.data = append(grow(c.data, len(v)), v...)
	c.offs = binary.LittleEndian.AppendUint32(grow(c.offs, 4), uint32(len(c.data)))
	c.n++
}

// Int64 appends an int64 or timestamp value.
func (c *Column) Int64(v int64) {
	c.start()
	c.setValid(true)
	c.data = binary.LittleEndian.AppendUint64(grow(c.data, 8), uint64(v))
	c.n++
}

// Int32 appends an int32 or date32 value.
func (c *Column) Int32(v int32) {
	c.start()
	c.setValid(true)
	c.data = binary.LittleEndian.AppendUint32(grow(c.data, 4), uint32(v))
	c.n++
}

// Decimal appends a decimal128 value.
func (c *Column) Decimal(v decimal128.Num) {
	c.start()
	c.setValid(true)
	c.data = binary.LittleEndian.AppendUint64(grow(c.data, 16), v.LowBits())
	c.data = binary.LittleEndian.AppendUint64(c.data, uint64(v.HighBits()))
	c.n++
}

// Bool appends a boolean value.
func (c *Column) Bool(v bool) {
	c.start()
	c.setValid(true)
	c.appendBit(v)
	c.n++
}

func (c *Column) appendBit(v bool) {
	if c.n%8 == 0 {
		c.data = append(grow(c.data, 1), 0)
	}
	if v {
		c.data[c.n/8] |= 1 << (c.n % 8)
	}
}

// NewArray returns the values appended so far as an Arrow array (the
// caller releases it) and starts an empty batch.
func (c *Column) NewArray() arrow.Array {
	c.start()
	bufs := []*memory.Buffer{nil}
	if c.valid != nil {
		bufs[0] = wrap(c.valid)
	}
	if c.width == 0 {
		bufs = append(bufs, wrap(c.offs))
	}
	bufs = append(bufs, wrap(c.data))
	d := array.NewData(c.typ, c.n, bufs, nil, c.nulls, 0)
	a := array.MakeFromData(d)
	d.Release()
	c.lastValid = max(c.lastValid, len(c.valid))
	c.lastOffs, c.prevOffs = roomy(max(len(c.offs), c.prevOffs)), len(c.offs)
	c.lastData, c.prevData = roomy(max(len(c.data), c.prevData)), len(c.data)
	c.valid, c.offs, c.data, c.n, c.nulls = nil, nil, nil, 0, 0
	return a
}

// Discard drops the values appended since the last NewArray.
func (c *Column) Discard() {
	c.valid, c.offs, c.data, c.n, c.nulls = nil, nil, nil, 0, 0
}

// roomy is a batch's size with room for a next batch a little larger: files
// of a cut are alike, not equal, and one value past the capacity copies the
// whole column.
func roomy(n int) int { return n + n/8 }

// grow makes room for n more bytes; the copy is in regrow, so that grow
// inlines into every append.
func grow(b []byte, n int) []byte {
	if len(b)+n <= cap(b) {
		return b
	}
	return regrow(b, n)
}

// regrow doubles through slices.Grow: the runtime then clears only the new
// room, where a make and a copy would clear the whole buffer first.
func regrow(b []byte, n int) []byte {
	return slices.Grow(b, len(b)+2*n)
}

func wrap(b []byte) *memory.Buffer { return memory.NewBufferBytes(b) }
