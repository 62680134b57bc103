package cut

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/apache/arrow/go/v15/parquet/schema"

	"github.com/mhhs-sit/datacut/internal/pqpage"
)

// record_line's page starts with its delta header: blocks of 128 values
// in 4 miniblocks, 3,000 values, the first 2. Snappy keeps it literal.
var recordLineHeader = []byte{0x80, 0x01, 0x04, 0xb8, 0x17, 0x04}

// A damaged delta header is an error of every reader, before Arrow's
// decoder unpacks what it declares: a miniblock of 2^28 values took Arrow
// 13 s and 2 GiB (2^31, the most a header declares, a minute and a half).
func TestReadRefusesDamagedDeltaHeaders(t *testing.T) {
	schema, valid := damagedPagesTable(t)
	at := bytes.Index(valid, recordLineHeader)
	if at < 0 {
		t.Fatal("no record_line header in the table")
	}
	for name, header := range map[string][]byte{
		"a miniblock of 2^28 values":        {0x80, 0x80, 0x80, 0x80, 0x01, 0x01, 0x04},
		"more values than the page":         {0x80, 0x01, 0x04, 0xb9, 0x17, 0x04},
		"a block of 129 values":             {0x81, 0x01, 0x04, 0xb8, 0x17, 0x04},
		"3 miniblocks of a 128-value block": {0x80, 0x01, 0x03, 0xb8, 0x17, 0x04},
		"blocks the page does not hold":     {0x80, 0x01, 0x01, 0xb8, 0x17, 0x04, 0x00, 0x40},
	} {
		t.Run(name, func(t *testing.T) {
			data := bytes.Clone(valid)
			copy(data[at:], header)
			r, err := openTableBytes(t, data, memory.DefaultAllocator, pqarrow.ArrowReadProperties{BatchSize: 1024})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ctx := context.Background()
			if tbl, err := r.Read(ctx, nil, nil); !errors.Is(err, pqpage.ErrCorrupt) {
				if err == nil {
					tbl.Release()
				}
				t.Errorf("Read: %v, want a damaged page", err)
			}
			if rec, err := r.ReadRows(ctx, 0, []int32{0, 2999}, schema); !errors.Is(err, pqpage.ErrCorrupt) {
				if err == nil {
					rec.Release()
				}
				t.Errorf("ReadRows: %v, want a damaged page", err)
			}
			for name, column := range map[string]func(rg, c int) (file.ColumnChunkReader, error){
				"ColumnChunk": r.ColumnChunk, "Column": r.Column} {
				cr, err := column(0, 1)
				if err != nil {
					t.Fatal(err)
				}
				vals := make([]int64, 4096)
				if _, _, err := cr.(*file.Int64ColumnChunkReader).ReadBatch(4096, vals, nil, nil); err != nil || !errors.Is(cr.Err(), pqpage.ErrCorrupt) {
					t.Errorf("%s: %v, %v, want a damaged page", name, err, cr.Err())
				}
			}
		})
	}
}

// pagesOf is a page reader of pages made in memory.
type pagesOf struct {
	pages []file.Page
	i     int
}

func (p *pagesOf) SetMaxPageHeaderSize(int) {}
func (p *pagesOf) Page() file.Page          { return p.pages[p.i-1] }
func (p *pagesOf) Next() bool               { p.i++; return p.i <= len(p.pages) }
func (p *pagesOf) Err() error               { return nil }
func (p *pagesOf) Reset(parquet.BufferedReader, int64, compress.Compression, *file.CryptoContext) {
}

// The text encodings that start with delta headers are checked too: Arrow
// allocates and decodes a DELTA_LENGTH_BYTE_ARRAY page's lengths by its
// header's count (2^27 of them: 512 MiB for a page of two values).
func TestCheckedPagesRefuseDamagedDeltaText(t *testing.T) {
	descr := schema.NewColumn(schema.NewByteArrayNode("v", parquet.Repetitions.Required, -1), 0, 0)
	lengths := []byte{0x80, 0x01, 0x04, 0x02, 0x04, 0x01, 0, 0, 0, 0} // 2, 1: a delta of -1
	huge := []byte{0x80, 0x01, 0x04, 0x80, 0x80, 0x80, 0x40, 0x04, 0x01, 0, 0, 0, 0}
	prefixes := []byte{0x80, 0x01, 0x04, 0x02, 0x00, 0x00, 0, 0, 0, 0} // 0, 0
	for _, tc := range []struct {
		name string
		enc  parquet.Encoding
		page []byte
		ok   bool
	}{
		{"lengths", parquet.Encodings.DeltaLengthByteArray, append(bytes.Clone(lengths), "abc"...), true},
		{"2^27 lengths", parquet.Encodings.DeltaLengthByteArray, append(bytes.Clone(huge), "abc"...), false},
		{"prefixes and lengths", parquet.Encodings.DeltaByteArray, append(append(bytes.Clone(prefixes), lengths...), "abc"...), true},
		{"2^27 suffix lengths", parquet.Encodings.DeltaByteArray, append(append(bytes.Clone(prefixes), huge...), "abc"...), false},
		{"2^27 prefixes", parquet.Encodings.DeltaByteArray, append(append(bytes.Clone(huge), lengths...), "abc"...), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pg := file.NewDataPageV1(memory.NewBufferBytes(tc.page), 2, tc.enc, parquet.Encodings.RLE, parquet.Encodings.RLE, int32(len(tc.page)))
			cp := &checkedPages{PageReader: &pagesOf{pages: []file.Page{pg}}, descr: descr, left: 2}
			cr := file.NewColumnReader(descr, cp, memory.DefaultAllocator, nil).(*file.ByteArrayColumnChunkReader)
			vals := make([]parquet.ByteArray, 2)
			n, _, err := cr.ReadBatch(2, vals, nil, nil)
			if !tc.ok {
				if err == nil {
					err = cr.Err()
				}
				if !errors.Is(err, pqpage.ErrCorrupt) {
					t.Errorf("%v, want a damaged page", err)
				}
				return
			}
			if err != nil || n != 2 || string(vals[0]) != "ab" || string(vals[1]) != "c" {
				t.Errorf("read %d values, %v", n, err)
			}
		})
	}
}

// A page that holds more values than its chunk has left is damaged: the
// page walkers decode levels and values by a page's count.
func TestCheckedPagesBoundAPageByItsChunk(t *testing.T) {
	descr := schema.NewColumn(schema.NewInt64Node("v", parquet.Repetitions.Required, -1), 0, 0)
	plain := make([]byte, 8*3)
	pg := func() file.Page {
		return file.NewDataPageV1(memory.NewBufferBytes(plain), 3, parquet.Encodings.Plain, parquet.Encodings.RLE, parquet.Encodings.RLE, int32(len(plain)))
	}
	cp := &checkedPages{PageReader: &pagesOf{pages: []file.Page{pg(), pg()}}, descr: descr, left: 5}
	if !cp.Next() {
		t.Fatalf("the first page: %v", cp.Err())
	}
	if cp.Next() || !errors.Is(cp.Err(), errDamagedPage) {
		t.Errorf("6 values of a chunk of 5: %v, want a damaged page", cp.Err())
	}
}

// A Snappy block whose preamble declares more than its page (2^30 bytes
// here) is damaged before it is decoded: Snappy's decoder allocated what
// it declared (the fuzzer's input declared 98 MiB, up to 4 GiB can be).
func TestReadRefusesASnappyBlockLongerThanItsPage(t *testing.T) {
	schema, valid := damagedPagesTable(t)
	h, err := pqpage.Header(valid[4:]) // the first page: source_file_id's dictionary
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Clone(valid)
	copy(data[4+h.Size:], []byte{0x80, 0x80, 0x80, 0x80, 0x04})
	r, err := openTableBytes(t, data, memory.DefaultAllocator, pqarrow.ArrowReadProperties{BatchSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	errs := map[string]error{}
	if tbl, err := r.Read(ctx, nil, nil); err == nil {
		tbl.Release()
	} else {
		errs["Read"] = err
	}
	if rec, err := r.ReadRows(ctx, 0, []int32{0, 2999}, schema); err == nil {
		rec.Release()
	} else {
		errs["ReadRows"] = err
	}
	errs["EachText"] = r.EachText(0, 0, func([]byte, bool) {})
	_, errs["ColumnChunk"] = r.ColumnChunk(0, 0)
	_, errs["Column"] = r.Column(0, 0)
	runtime.ReadMemStats(&after)
	for name, err := range errs {
		if !errors.Is(err, errDamagedPage) {
			t.Errorf("%s: %v, want a damaged page", name, err)
		}
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 32<<20 {
		t.Errorf("reading the damaged table allocated %d MiB", n>>20)
	}
}

// A dictionary page counting more values than its bytes can hold, or a
// data page indexing past its dictionary, is damaged before Arrow makes
// room for them (24 bytes a text value: 2^24 values 400 MiB; a header or
// an index may say 2^31).
func TestCheckedPagesRefuseAnOvercountedDictionary(t *testing.T) {
	descr := schema.NewColumn(schema.NewByteArrayNode("v", parquet.Repetitions.Required, -1), 0, 0)
	dict := []byte{1, 0, 0, 0, 'a', 1, 0, 0, 0, 'b'}
	indices := []byte{1, 0x03, 0b10}                   // width 1, one bit-packed group: 0, 1
	far := []byte{23, 0x02, 0, 0, 0x40, 0x02, 0, 0, 0} // width 23, RLE runs of one 2^22, one 0
	for _, tc := range []struct {
		name    string
		n       int32
		indices []byte
		ok      bool
	}{{"2 values", 2, indices, true}, {"2^24 values", 1 << 24, indices, false}, {"index 2^22", 2, far, false}} {
		pages := []file.Page{
			file.NewDictionaryPage(memory.NewBufferBytes(dict), tc.n, parquet.Encodings.Plain),
			file.NewDataPageV1(memory.NewBufferBytes(tc.indices), 2, parquet.Encodings.RLEDict, parquet.Encodings.RLE, parquet.Encodings.RLE, int32(len(tc.indices))),
		}
		cp := &checkedPages{PageReader: &pagesOf{pages: pages}, descr: descr, left: 2}
		cr := file.NewColumnReader(descr, cp, memory.DefaultAllocator, nil).(*file.ByteArrayColumnChunkReader)
		vals := make([]parquet.ByteArray, 2)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		n, _, err := cr.ReadBatch(2, vals, nil, nil)
		runtime.ReadMemStats(&after)
		if err == nil {
			err = cr.Err()
		}
		switch {
		case tc.ok && (err != nil || n != 2 || string(vals[0]) != "a" || string(vals[1]) != "b"):
			t.Errorf("%s: read %d, %v", tc.name, n, err)
		case !tc.ok && !errors.Is(err, errDamagedPage):
			t.Errorf("%s: %v, want a damaged page", tc.name, err)
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > 16<<20 {
			t.Errorf("%s: %d MiB allocated", tc.name, a>>20)
		}
	}
}
