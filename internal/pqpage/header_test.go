package pqpage

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// A data page header with statistics and fields parquet.thrift does not
// have (a list, a map, a double: skipped by type), then its page.
var v1Header = []byte{
	0x15, 0x00, // 1: type DATA_PAGE
	0x15, 0xc8, 0x01, // 2: uncompressed_page_size 100
	0x15, 0x64, // 3: compressed_page_size 50
	0x2c,       // 5: data_page_header
	0x15, 0x06, //   1: num_values 3
	0x15, 0x00, //   2: encoding PLAIN
	0x15, 0x06, 0x15, 0x06, // 3, 4: RLE levels
	0x1c,                 //   5: statistics
	0x18, 0x02, 'a', 'b', //     1: max "ab"
	0x18, 0x01, 'a', //     2: min "a"
	0x16, 0x02, //     3: null_count 1
	0x49, 0x25, 0x02, 0x04, //     7: a list of the i32s 1, 2
	0x00,
	0x00,
	0x4b, 0x01, 0x51, 0x02, 0x01, // 9: a map of i32 to bool, one entry
	0x17, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // 10: a double
	0x00,
}

var v2Header = []byte{
	0x15, 0x06, // 1: type DATA_PAGE_V2
	0x15, 0xc8, 0x01, // 2: uncompressed 100
	0x15, 0x64, // 3: compressed 50
	0x5c,                                           // 8: data_page_header_v2
	0x15, 0x06, 0x15, 0x00, 0x15, 0x06, 0x15, 0x00, // 1-4: values, nulls, rows, encoding
	0x15, 0x08, // 5: definition_levels_byte_length 4
	0x15, 0x00, // 6: repetition_levels_byte_length 0
	0x12, // 7: is_compressed false
	0x00,
	0x00,
}

func TestHeaderReadsSizesAndSkipsTheRest(t *testing.T) {
	h, err := Header(append(bytes.Clone(v1Header), 0xEE, 0xEE))
	if err != nil {
		t.Fatal(err)
	}
	if h != (PageHeader{Type: 0, Uncompressed: 100, Compressed: 50, ValuesCompress: true, Size: len(v1Header)}) {
		t.Errorf("v1: %+v", h)
	}
	h, err = Header(v2Header)
	if err != nil {
		t.Fatal(err)
	}
	if h != (PageHeader{Type: 3, Uncompressed: 100, Compressed: 50, Levels: 4, ValuesCompress: false, Size: len(v2Header)}) {
		t.Errorf("v2: %+v", h)
	}
	for _, hdr := range [][]byte{v1Header, v2Header} {
		for i := range hdr { // a header cut anywhere has no end
			if _, err := Header(hdr[:i]); err != ErrCorrupt {
				t.Fatalf("the first %d bytes: %v, want ErrCorrupt", i, err)
			}
		}
	}
	deep := bytes.Repeat([]byte{0x1c}, 40) // structs in structs
	if _, err := Header(append(deep, make([]byte, 41)...)); err != ErrCorrupt {
		t.Errorf("40 nested structs: %v, want ErrCorrupt", err)
	}
	negative := []byte{0x15, 0x00, 0x15, 0x01, 0x15, 0x64, 0x00} // uncompressed -1
	if _, err := Header(negative); err != ErrCorrupt {
		t.Errorf("a negative size: %v, want ErrCorrupt", err)
	}
	huge := []byte{0x19, 0xf5, 0xff, 0xff, 0xff, 0x0f} // a list of 2^32 i32s in 6 bytes
	if _, err := Header(huge); err != ErrCorrupt {
		t.Errorf("a list longer than its bytes: %v, want ErrCorrupt", err)
	}
}

func TestSnappyLenBoundsWhatABlockDeclares(t *testing.T) {
	block := binary.AppendUvarint(nil, 100)
	block = append(block, make([]byte, 8)...)
	if n, err := SnappyLen(block); n != 100 || err != nil {
		t.Errorf("%d, %v, want 100", n, err)
	}
	block = binary.AppendUvarint(nil, 1<<30)
	if _, err := SnappyLen(append(block, make([]byte, 8)...)); err != ErrCorrupt {
		t.Errorf("2^30 bytes of 13: %v, want ErrCorrupt", err)
	}
	if _, err := SnappyLen(nil); err != ErrCorrupt {
		t.Errorf("no bytes: %v, want ErrCorrupt", err)
	}
}

// Any bytes: a header or ErrCorrupt, never a panic, and a header's sizes
// are never negative nor past the bytes read.
func FuzzHeader(f *testing.F) {
	f.Add(v1Header)
	f.Add(v2Header)
	f.Add([]byte{0x19, 0xf5, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Header(b)
		if err == nil && (h.Size > len(b) || h.Uncompressed < 0 || h.Compressed < 0 || h.Levels < 0) {
			t.Fatalf("%+v of %d bytes", h, len(b))
		}
		if n, err := SnappyLen(b); err == nil && n > MaxSnappyRatio*len(b) {
			t.Fatalf("%d of %d bytes", n, len(b))
		}
	})
}
