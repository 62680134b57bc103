package pqpage

import (
	"encoding/binary"
)

// PageHeader is what a Parquet page header (Thrift compact protocol) says
// of the page's size: enough to check its compressed bytes before a
// decoder allocates what they declare.
type PageHeader struct {
	Type         int32 // 0 data, 2 dictionary, 3 data v2 (parquet.thrift's PageType)
	Uncompressed int32 // the page's bytes once decompressed
	Compressed   int32 // the page's bytes after its header
	// Of a v2 data page: the levels' bytes, never compressed, before the
	// values; whether the values are compressed (Thrift's default: yes).
	Levels         int64
	ValuesCompress bool
	Size           int // the header's own bytes
}

// compact protocol types
const (
	tStop, tTrue, tFalse, tByte, tI16, tI32, tI64, tDouble, tBinary, tList, tSet, tMap, tStruct = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
)

// maxDepth bounds the nesting of structs and containers a header may have
// (parquet.thrift's statistics are two deep).
const maxDepth = 16

type thrift struct {
	b   []byte
	pos int
}

func (t *thrift) byte() (byte, error) {
	if t.pos >= len(t.b) {
		return 0, ErrCorrupt
	}
	t.pos++
	return t.b[t.pos-1], nil
}

func (t *thrift) uvarint() (uint64, error) {
	v, k := binary.Uvarint(t.b[t.pos:])
	if k <= 0 {
		return 0, ErrCorrupt
	}
	t.pos += k
	return v, nil
}

func (t *thrift) i32() (int32, error) {
	v, err := t.uvarint()
	if err != nil || v > 1<<32-1 {
		return 0, ErrCorrupt
	}
	return int32(uint32(v>>1) ^ -uint32(v&1)), nil
}

// field reads a field's header: its type (tStop at the struct's end) and id.
func (t *thrift) field(last int16) (typ byte, id int16, err error) {
	b, err := t.byte()
	if err != nil || b == tStop {
		return tStop, 0, err
	}
	typ = b & 0x0f
	if d := b >> 4; d != 0 {
		return typ, last + int16(d), nil
	}
	v, err := t.uvarint()
	if err != nil || v > 1<<16-1 {
		return 0, 0, ErrCorrupt
	}
	return typ, int16(uint16(v>>1) ^ -uint16(v&1)), nil
}

// skip passes over a value of type typ (a bool of a container when elem).
func (t *thrift) skip(typ byte, depth int, elem bool) error {
	if depth > maxDepth {
		return ErrCorrupt
	}
	var err error
	switch typ {
	case tTrue, tFalse:
		if elem { // a container's booleans take a byte each
			_, err = t.byte()
		}
	case tByte:
		_, err = t.byte()
	case tI16, tI32, tI64:
		_, err = t.uvarint()
	case tDouble:
		if len(t.b)-t.pos < 8 {
			return ErrCorrupt
		}
		t.pos += 8
	case tBinary:
		var n uint64
		if n, err = t.uvarint(); err != nil || n > uint64(len(t.b)-t.pos) {
			return ErrCorrupt
		}
		t.pos += int(n)
	case tList, tSet:
		var h byte
		if h, err = t.byte(); err != nil {
			return err
		}
		n := uint64(h >> 4)
		if n == 15 {
			if n, err = t.uvarint(); err != nil {
				return err
			}
		}
		if n > uint64(len(t.b)-t.pos) { // every element takes a byte at least
			return ErrCorrupt
		}
		for i := uint64(0); i < n && err == nil; i++ {
			err = t.skip(h&0x0f, depth+1, true)
		}
	case tMap:
		var n uint64
		if n, err = t.uvarint(); err != nil || n == 0 {
			return err
		}
		var kv byte
		if kv, err = t.byte(); err != nil {
			return err
		}
		if n > uint64(len(t.b)-t.pos)/2 {
			return ErrCorrupt
		}
		for i := uint64(0); i < n && err == nil; i++ {
			if err = t.skip(kv>>4, depth+1, true); err == nil {
				err = t.skip(kv&0x0f, depth+1, true)
			}
		}
	case tStruct:
		return t.fields(depth+1, func(typ byte, _ int16) error { return t.skip(typ, depth+1, false) })
	default:
		err = ErrCorrupt
	}
	return err
}

// fields calls fn for each field of a struct, up to its stop; fn reads or
// skips the field's value.
func (t *thrift) fields(depth int, fn func(typ byte, id int16) error) error {
	if depth > maxDepth {
		return ErrCorrupt
	}
	var id int16
	for {
		typ, next, err := t.field(id)
		if err != nil {
			return err
		}
		if typ == tStop {
			return nil
		}
		if err := fn(typ, next); err != nil {
			return err
		}
		id = next
	}
}

// Header reads the page header at the start of b.
func Header(b []byte) (PageHeader, error) {
	t := &thrift{b: b}
	h := PageHeader{Type: -1, Uncompressed: -1, Compressed: -1, ValuesCompress: true}
	var rep, def int32
	err := t.fields(0, func(typ byte, id int16) error {
		var err error
		switch {
		case id == 1 && typ == tI32:
			h.Type, err = t.i32()
		case id == 2 && typ == tI32:
			h.Uncompressed, err = t.i32()
		case id == 3 && typ == tI32:
			h.Compressed, err = t.i32()
		case id == 8 && typ == tStruct: // data_page_header_v2
			err = t.fields(1, func(typ byte, id int16) error {
				var err error
				switch {
				case id == 5 && typ == tI32:
					def, err = t.i32()
				case id == 6 && typ == tI32:
					rep, err = t.i32()
				case id == 7 && (typ == tTrue || typ == tFalse):
					h.ValuesCompress = typ == tTrue
				default:
					err = t.skip(typ, 2, false)
				}
				return err
			})
		default:
			err = t.skip(typ, 1, false)
		}
		return err
	})
	if err != nil {
		return PageHeader{}, err
	}
	if h.Type < 0 || h.Uncompressed < 0 || h.Compressed < 0 || rep < 0 || def < 0 {
		return PageHeader{}, ErrCorrupt
	}
	h.Levels, h.Size = int64(rep)+int64(def), t.pos
	return h, nil
}

// SnappyLen is the length a Snappy block declares it decodes to (its
// preamble): the Snappy decoder allocates that much when the buffer it is
// given is smaller. A block decodes to at most MaxSnappyRatio times its
// bytes (a 3-byte copy yields 64), so a longer one is corrupt.
func SnappyLen(b []byte) (int, error) {
	v, k := binary.Uvarint(b)
	if k <= 0 || v > uint64(MaxSnappyRatio*len(b)) || v > 1<<31-1 {
		return 0, ErrCorrupt
	}
	return int(v), nil
}

// MaxSnappyRatio bounds the bytes a Snappy block decodes to by its own.
const MaxSnappyRatio = 22
