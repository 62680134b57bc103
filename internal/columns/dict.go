package columns

import (
	"encoding/binary"
	"hash/maphash"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// DictType is the type of Dictionary's arrays.
var DictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// Dictionary re-encodes a string array as int32 indices into its distinct
// values, numbered in order of first appearance: the dictionary a Parquet
// writer builds for the column, found here by a small hash table instead
// of the writer's per-value interface calls (which box every value). The
// result comes in arrays of at most chunk values (a multiple of 8), each
// starting at offset 0 and all sharing one dictionary: Arrow v15's Parquet
// writer mis-slices the indices of a nullable column past its first write
// batch (apache/arrow#39925), so a chunk must be one batch. The caller
// releases the arrays.
func Dictionary(a *array.String, chunk int) []arrow.Array {
	if chunk <= 0 || chunk%8 != 0 {
		panic("columns: dictionary chunks must be a positive multiple of 8")
	}
	n := a.Len()
	var x Dict
	x.Encode(a)
	idx := arrow.Int32Traits.CastToBytes(x.idx)
	d := &x.t
	var valid []byte
	if a.NullN() > 0 {
		valid = make([]byte, bitutil.BytesForBits(int64(n)))
		bitutil.CopyBitmap(a.NullBitmapBytes(), a.Offset(), n, valid, 0)
	}
	values := array.NewData(arrow.BinaryTypes.String, d.len(),
		[]*memory.Buffer{nil, memory.NewBufferBytes(d.offs), memory.NewBufferBytes(d.data)}, nil, 0, 0)
	defer values.Release()
	var out []arrow.Array
	for lo := 0; lo < n || lo == 0; lo += chunk {
		hi := min(lo+chunk, n)
		var vb *memory.Buffer
		nulls := 0
		if valid != nil {
			bm := valid[lo/8 : bitutil.BytesForBits(int64(hi))]
			nulls = hi - lo - bitutil.CountSetBits(bm, 0, hi-lo)
			vb = memory.NewBufferBytes(bm)
		}
		data := array.NewDataWithDictionary(DictType, hi-lo, []*memory.Buffer{vb, memory.NewBufferBytes(idx[4*lo : 4*hi])}, nulls, 0, values)
		out = append(out, array.NewDictionaryData(data))
		data.Release()
	}
	return out
}

// Dict numbers the distinct values of string arrays in order of first
// appearance, as Dictionary does, keeping its buffers from one array to
// the next (for a writer that encodes the pages itself).
type Dict struct {
	t   dictTable
	idx []int32
}

// Encode numbers a's values; what it returns (value j's number, 0 for a
// null) and Value hold until the next Encode.
func (x *Dict) Encode(a *array.String) []int32 {
	n := a.Len()
	x.t.reset(16)
	x.idx = slices.Grow(x.idx[:0], n)[:n]
	data, offs := a.ValueBytes(), a.ValueOffsets()
	base := offs[0]
	prev := int32(-1)
	var prevV []byte
	for j := 0; j < n; j++ {
		if a.IsNull(j) {
			x.idx[j] = 0 // a null's index is never read
			continue
		}
		v := data[offs[j]-base : offs[j+1]-base]
		if prev < 0 || string(v) != string(prevV) {
			prev, prevV = x.t.index(v), v
		}
		x.idx[j] = prev
	}
	return x.idx
}

// Len is the number of distinct values of the last Encode.
func (x *Dict) Len() int { return x.t.len() }

// Value is distinct value i of the last Encode.
func (x *Dict) Value(i int) []byte { return x.t.value(int32(i)) }

// dictTable numbers distinct strings: open addressing over slots holding
// index+1, the values themselves kept as Arrow string buffers.
type dictTable struct {
	slots []int32
	offs  []byte // int32 offsets, len()+1 of them
	data  []byte
}

var dictSeed = maphash.MakeSeed()

func (d *dictTable) reset(slots int) {
	if len(d.slots) >= slots {
		clear(d.slots) // kept at the size the last values needed
	} else {
		d.slots = make([]int32, slots)
	}
	d.offs = binary.LittleEndian.AppendUint32(d.offs[:0], 0)
	d.data = d.data[:0]
}

func (d *dictTable) len() int { return len(d.offs)/4 - 1 }

func (d *dictTable) value(i int32) []byte {
	lo, hi := binary.LittleEndian.Uint32(d.offs[4*i:]), binary.LittleEndian.Uint32(d.offs[4*i+4:])
	return d.data[lo:hi]
}

// index returns v's number, adding it when new.
func (d *dictTable) index(v []byte) int32 {
	mask := uint64(len(d.slots) - 1)
	for h := maphash.Bytes(dictSeed, v) & mask; ; h = (h + 1) & mask {
		s := d.slots[h]
		if s == 0 {
			i := int32(d.len())
			d.slots[h] = i + 1
			d.data = append(d.data, v...)
			d.offs = binary.LittleEndian.AppendUint32(d.offs, uint32(len(d.data)))
			if 2*d.len() > len(d.slots) {
				d.rehash()
			}
			return i
		}
		if string(d.value(s-1)) == string(v) {
			return s - 1
		}
	}
}

// rehash doubles the slots, keeping the table at most half full.
func (d *dictTable) rehash() {
	d.slots = make([]int32, 2*len(d.slots))
	mask := uint64(len(d.slots) - 1)
	for i := int32(0); i < int32(d.len()); i++ {
		h := maphash.Bytes(dictSeed, d.value(i)) & mask
		for d.slots[h] != 0 {
			h = (h + 1) & mask
		}
		d.slots[h] = i + 1
	}
}
