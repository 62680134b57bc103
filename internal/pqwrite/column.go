package pqwrite

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/arrow/go/v15/parquet/schema"

	"github.com/mhhs-sit/datacut/internal/columns"
)

// kind is how a column's values are encoded.
type kind uint8

const (
	kindText    kind = iota + 1 // BYTE_ARRAY, PLAIN
	kindDict                    // BYTE_ARRAY, dictionary
	kindInt32                   // INT32 (int32, date32), PLAIN or delta
	kindInt64                   // INT64 (int64, timestamp), PLAIN or delta
	kindBool                    // BOOLEAN, PLAIN
	kindDecimal                 // Decimal128 as FIXED_LEN_BYTE_ARRAY, PLAIN
)

// column is one leaf of the file's schema and how it is written.
type column struct {
	descr    *schema.Column
	kind     kind
	delta    bool
	nullable bool
	scale    int64 // what integers are multiplied by: timestamps in seconds are stored in milliseconds
	typeLen  int   // decimals: bytes stored per value
}

// chunk is one column chunk's encoded pages and statistics.
type chunk struct {
	rows, nulls int64
	page        []byte // the data page: definition levels (RLE, behind their length) unless required, then the values
	dict        []byte // PLAIN dictionary page, for kindDict
	dictLen     int
	min, max    []byte // plain-encoded statistics; nil when no value is present
}

// scratch is the buffers reused from chunk to chunk.
type scratch struct {
	values, dict []byte
	comp         bytes.Buffer
	dictEnc      columns.Dict
	min, max     []byte
	ints         []int64
	rle          rle
	block        [deltaBlock]uint64
}

// encode encodes arr (one row group's values of c) into s's buffers.
func (c *column) encode(arr arrow.Array, s *scratch) chunk {
	ch := chunk{rows: int64(arr.Len()), nulls: int64(arr.NullN())}
	s.values = s.values[:0]
	if c.nullable {
		s.values = s.defLevels(s.values, arr)
	}
	if s.min == nil { // an empty text is a min, and must not read as none
		s.min, s.max = make([]byte, 0, 64), make([]byte, 0, 64)
	}
	s.min, s.max = s.min[:0], s.max[:0]
	var has bool
	switch c.kind {
	case kindText:
		has = s.text(arr.(*array.String))
	case kindDict:
		has = s.dictionary(arr.(*array.String), &ch)
	case kindInt32:
		has = s.int32s(arr, c.delta)
	case kindInt64:
		has = s.int64s(arr, c.delta, c.scale)
	case kindBool:
		has = s.bools(arr.(*array.Boolean))
	case kindDecimal:
		has = s.decimals(arr.(*array.Decimal128), c.typeLen)
	}
	ch.page = s.values
	if has {
		ch.min, ch.max = s.min, s.max
	}
	return ch
}

// stats are the chunk's statistics as Arrow encodes them: min and max
// dropped past the size limit, signed by the column's sort order.
func (c *column) stats(ch chunk, props *parquet.WriterProperties) metadata.EncodedStatistics {
	var e metadata.EncodedStatistics
	if ch.min != nil {
		e.SetMax(ch.max)
		e.SetMin(ch.min)
	}
	e.SetNullCount(ch.nulls)
	e.SetDistinctCount(0) // Arrow counts no distinct values but writes the count
	e.ApplyStatSizeLimits(int(props.MaxStatsSizeFor(c.descr.Path())))
	e.Signed = c.descr.SortOrder() == schema.SortSIGNED
	return e
}

// defLevels appends a nullable column's definition levels (1 for a
// value, 0 for a null) behind their 4-byte length, as a v1 data page
// holds them.
func (s *scratch) defLevels(dst []byte, arr arrow.Array) []byte {
	at := len(dst)
	s.rle.reset(append(dst, 0, 0, 0, 0), 1)
	n := arr.Len()
	if arr.NullN() == 0 {
		s.rle.putRun(1, n)
	} else {
		for i := range n {
			v := uint64(0)
			if arr.IsValid(i) {
				v = 1
			}
			s.rle.put(v)
		}
	}
	dst = s.rle.finish()
	binary.LittleEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	return dst
}

// text is PLAIN BYTE_ARRAY: each value behind its 4-byte length. As in
// Arrow, an empty value counts in the statistics unless the array's data
// buffer is there but empty (Arrow then sees each value as nil, no value).
func (s *scratch) text(a *array.String) bool {
	offs, data := stringBuffers(a)
	counts := data != nil || a.Data().Buffers()[2] == nil
	var lo, hi []byte
	has := false
	n := a.Len()
	// Room for every value at once: one growth check instead of two a value.
	at := len(s.values)
	s.values = slices.Grow(s.values, 4*n+int(offs[n]-offs[0]))
	out := s.values[:cap(s.values)]
	nulls := a.NullN() > 0
	for i := range n {
		if nulls && a.IsNull(i) {
			continue
		}
		v := data[offs[i]:offs[i+1]]
		binary.LittleEndian.PutUint32(out[at:], uint32(len(v)))
		at += 4 + copy(out[at+4:], v)
		if !has {
			lo, hi, has = v, v, true
		} else if bytes.Compare(v, lo) < 0 {
			lo = v
		} else if bytes.Compare(v, hi) > 0 {
			hi = v
		}
	}
	s.values = out[:at]
	s.min, s.max = append(s.min, lo...), append(s.max, hi...)
	return has && counts
}

// stringBuffers are a's offsets (from its first value) and the whole
// buffer they index: ValueBytes would start at the first value's bytes.
func stringBuffers(a *array.String) ([]int32, []byte) {
	var data []byte
	if b := a.Data().Buffers()[2]; b != nil {
		data = b.Bytes()
	}
	return a.ValueOffsets(), data
}

// dictionary is a dictionary page of the distinct values in order of
// first appearance (PLAIN) and a data page of their indices: one byte of
// bit width, then the indices RLE/bit-packed.
func (s *scratch) dictionary(a *array.String, ch *chunk) bool {
	idx := s.dictEnc.Encode(a)
	s.dict = s.dict[:0]
	var lo, hi []byte
	for i := range s.dictEnc.Len() {
		v := s.dictEnc.Value(i)
		s.dict = binary.LittleEndian.AppendUint32(s.dict, uint32(len(v)))
		s.dict = append(s.dict, v...)
		if len(v) == 0 {
			continue // Arrow's statistics of a dictionary skip empty values
		}
		if lo == nil || bytes.Compare(v, lo) < 0 {
			lo = v
		}
		if hi == nil || bytes.Compare(v, hi) > 0 {
			hi = v
		}
	}
	ch.dict, ch.dictLen = s.dict, s.dictEnc.Len()
	width := dictWidth(ch.dictLen)
	s.rle.reset(append(s.values, byte(width)), width)
	if a.NullN() == 0 {
		for _, x := range idx {
			s.rle.put(uint64(x))
		}
	} else {
		for i, x := range idx {
			if a.IsValid(i) {
				s.rle.put(uint64(x))
			}
		}
	}
	s.values = s.rle.finish()
	s.min, s.max = append(s.min, lo...), append(s.max, hi...)
	return lo != nil
}

// dictWidth is the bit width of indices into a dictionary of n values,
// as Arrow's dictionary encoder has it (1 for a single value).
func dictWidth(n int) uint {
	if n <= 1 {
		return uint(n)
	}
	return uint(bits.Len32(uint32(n - 1)))
}

func (s *scratch) int32s(arr arrow.Array, delta bool) bool {
	var vals []int32
	switch a := arr.(type) {
	case *array.Int32:
		vals = a.Int32Values()
	case *array.Date32:
		vals = arrow.Int32Traits.CastFromBytes(arrow.Date32Traits.CastToBytes(a.Date32Values()))
	}
	s.ints = s.ints[:0]
	nulls := arr.NullN() > 0
	for i, v := range vals {
		if !nulls || arr.IsValid(i) {
			s.ints = append(s.ints, int64(v))
		}
	}
	return s.integers(s.ints, delta, 4)
}

func (s *scratch) int64s(arr arrow.Array, delta bool, factor int64) bool {
	var vals []int64
	switch a := arr.(type) {
	case *array.Int64:
		vals = a.Int64Values()
	case *array.Timestamp:
		vals = arrow.Int64Traits.CastFromBytes(arrow.TimestampTraits.CastToBytes(a.TimestampValues()))
	}
	if arr.NullN() > 0 || factor != 1 {
		s.ints = s.ints[:0]
		nulls := arr.NullN() > 0
		for i, v := range vals {
			if !nulls || arr.IsValid(i) {
				s.ints = append(s.ints, v*factor)
			}
		}
		vals = s.ints
	}
	return s.integers(vals, delta, 8)
}

// integers encodes the present values of an integer column, stored in
// size bytes each (4: INT32, 8: INT64), DELTA_BINARY_PACKED or PLAIN.
func (s *scratch) integers(vals []int64, delta bool, size int) bool {
	if delta {
		s.values = appendDelta(s.values, vals, &s.block)
	}
	if len(vals) == 0 {
		return false
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	put := func(dst []byte, v int64) []byte {
		if size == 4 {
			return binary.LittleEndian.AppendUint32(dst, uint32(v))
		}
		return binary.LittleEndian.AppendUint64(dst, uint64(v))
	}
	if !delta {
		for _, v := range vals {
			s.values = put(s.values, v)
		}
	}
	s.min, s.max = put(s.min, lo), put(s.max, hi)
	return true
}

// bools is PLAIN BOOLEAN: one bit per value, least significant first.
// Arrow packs the bits into a buffer of boolBits it reuses, and its last
// byte's unused bits keep what the buffer held: the bits of the values
// boolBits before (zero in the first round). They are kept here too.
func (s *scratch) bools(a *array.Boolean) bool {
	var round [boolBits / 8]byte
	var pos int
	var sawTrue, sawFalse bool
	for i := range a.Len() {
		if a.IsNull(i) {
			continue
		}
		if a.Value(i) {
			round[pos/8] |= 1 << (pos % 8)
			sawTrue = true
		} else {
			round[pos/8] &^= 1 << (pos % 8)
			sawFalse = true
		}
		if pos++; pos == boolBits {
			s.values = append(s.values, round[:]...)
			pos = 0
		}
	}
	s.values = append(s.values, round[:(pos+7)/8]...)
	if !sawTrue && !sawFalse {
		return false
	}
	s.min = append(s.min, b2i(!sawFalse))
	s.max = append(s.max, b2i(sawTrue))
	return true
}

// boolBits is the size of Arrow's PLAIN BOOLEAN encoder's buffer, in bits.
const boolBits = 1024 * 8

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// decimals are big-endian two's complement in typeLen bytes, the low end
// of the 16-byte value.
func (s *scratch) decimals(a *array.Decimal128, typeLen int) bool {
	var lo, hi decimal128.Num
	has := false
	for i := range a.Len() {
		if a.IsNull(i) {
			continue
		}
		v := a.Value(i)
		s.values = appendDecimal(s.values, v, typeLen)
		if !has {
			lo, hi, has = v, v, true
		} else if v.Less(lo) {
			lo = v
		} else if hi.Less(v) {
			hi = v
		}
	}
	if has {
		s.min = appendDecimal(s.min, lo, typeLen)
		s.max = appendDecimal(s.max, hi, typeLen)
	}
	return has
}

func appendDecimal(dst []byte, v decimal128.Num, typeLen int) []byte {
	var be [16]byte
	binary.BigEndian.PutUint64(be[:8], uint64(v.HighBits()))
	binary.BigEndian.PutUint64(be[8:], v.LowBits())
	return append(dst, be[16-typeLen:]...)
}
