package cut

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/schema"

	"github.com/mhhs-sit/datacut/internal/pqpage"
)

// Arrow v15's decoders trust what a page says of itself: a
// DELTA_BINARY_PACKED miniblock is unpacked whole, past the page's end as
// zeros, into a buffer of the size its header declares
// (parquet/internal/encoding/delta_bit_packing.go, unpackNextMini); a
// DELTA_LENGTH_BYTE_ARRAY page's lengths are allocated and decoded by its
// header's count (delta_length_byte_array.go, SetData); a dictionary is
// given room for its header's count, and decoded up to a data page's
// largest index into a slice of that length (typed_encoder.gen.go,
// NewDictConverter, ensure); Snappy allocates the length a block
// declares. A damaged delta header of a 3,000-row page made Read spend a
// minute and a half and gigabytes on it. Every chunk Arrow decodes for
// the Reader is checked first, its page headers by checkChunkBytes and
// its pages by checkedPages: Arrow's work is then that of the chunk's
// bytes and the values its footer counts.

// errDamagedPage: a page that cannot be right.
var errDamagedPage = errors.New("a damaged page")

// checkedPages is a column chunk's page reader that refuses a data page
// holding more values than its chunk has left, whose delta encodings (the
// headers, block shapes and the blocks' bytes) are not sound or whose
// dictionary indices are past its dictionary, and a dictionary page
// counting more values than its bytes hold. The error names the column,
// never the page's bytes; a column reader reading through it stops with
// the error in its Err.
type checkedPages struct {
	file.PageReader
	descr *schema.Column
	left  int64 // the values the chunk's footer counts, less the pages'
	dict  int   // the values of the chunk's dictionary
	err   error
}

func (r *Reader) checkPages(pr file.PageReader, rg, c int) (*checkedPages, error) {
	col, err := r.PF.MetaData().RowGroup(rg).ColumnChunk(c)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", r.Key, err)
	}
	return &checkedPages{PageReader: pr, descr: r.PF.MetaData().Schema.Column(c), left: col.NumValues()}, nil
}

func (p *checkedPages) Next() bool {
	if p.err != nil || !p.PageReader.Next() {
		return false
	}
	if err := p.check(p.PageReader.Page()); err != nil {
		p.err = fmt.Errorf("column %s: %w", p.descr.Name(), err)
		return false
	}
	return true
}

func (p *checkedPages) Err() error {
	if p.err != nil {
		return p.err
	}
	return p.PageReader.Err()
}

func (p *checkedPages) check(pg file.Page) error {
	var n int64
	if dp, ok := pg.(file.DataPage); ok {
		if n = int64(dp.NumValues()); n < 0 || n > p.left {
			return fmt.Errorf("%w: %d values, %d left in its column chunk", errDamagedPage, n, p.left)
		}
	}
	var values []byte // the page's values, after its levels
	switch pg := pg.(type) {
	case *file.DataPageV1:
		if !valuesChecked(parquet.Encoding(pg.Encoding())) {
			break
		}
		// The levels before the values, as Arrow's level decoders read them.
		values = pg.Data()
		for _, l := range []struct {
			max int16
			enc parquet.Encoding
		}{{p.descr.MaxRepetitionLevel(), parquet.Encoding(pg.RepetitionLevelEncoding())},
			{p.descr.MaxDefinitionLevel(), parquet.Encoding(pg.DefinitionLevelEncoding())}} {
			if l.max == 0 {
				continue
			}
			size := (n*int64(bits.Len16(uint16(l.max))) + 7) / 8 // BIT_PACKED
			if l.enc == parquet.Encodings.RLE {
				if len(values) < 4 {
					return errDamagedPage
				}
				values, size = values[4:], int64(binary.LittleEndian.Uint32(values))
			}
			if size > int64(len(values)) {
				return errDamagedPage
			}
			values = values[size:]
		}
	case *file.DataPageV2:
		if !valuesChecked(parquet.Encoding(pg.Encoding())) {
			break
		}
		levels := int64(pg.RepetitionLevelByteLen()) + int64(pg.DefinitionLevelByteLen())
		if pg.RepetitionLevelByteLen() < 0 || pg.DefinitionLevelByteLen() < 0 || levels > int64(len(pg.Data())) {
			return errDamagedPage
		}
		values = pg.Data()[levels:]
	case *file.DictionaryPage:
		// Arrow makes room for the count its header gives (24 bytes a
		// text value: 48 GiB for 2^31) before it decodes a value; a PLAIN
		// value takes 4 bytes at least (a text's length, an INT32).
		size := map[parquet.Type]int64{parquet.Types.Int64: 8, parquet.Types.Double: 8, parquet.Types.Int96: 12,
			parquet.Types.FixedLenByteArray: int64(max(1, p.descr.TypeLength()))}[p.descr.PhysicalType()]
		n := int64(pg.NumValues())
		if n < 0 || n*max(size, 4) > int64(len(pg.Data())) {
			return fmt.Errorf("%w: a dictionary of %d values in %d bytes", errDamagedPage, n, len(pg.Data()))
		}
		p.dict = int(n)
		return nil
	default:
		return nil
	}
	p.left -= n
	if values == nil {
		return nil
	}
	var err error
	switch k := 0; parquet.Encoding(pg.Encoding()) {
	case parquet.Encodings.DeltaBinaryPacked, parquet.Encodings.DeltaLengthByteArray:
		_, err = pqpage.DeltaSize(values, int(n))
	case parquet.Encodings.DeltaByteArray: // prefix lengths, then the suffixes' lengths
		if k, err = pqpage.DeltaSize(values, int(n)); err == nil {
			_, err = pqpage.DeltaSize(values[k:], int(n))
		}
	case parquet.Encodings.RLEDict, parquet.Encodings.PlainDict:
		// Arrow decodes a dictionary up to the largest index of a batch,
		// into a slice of that length (ByteArrayDictConverter.ensure): an
		// index of 2^31 took 48 GiB. Every index is in the dictionary.
		if len(values) == 0 {
			break // no values: every row null
		}
		var top int
		if top, err = pqpage.MaxIndex(values[1:], int(values[0]), int(n)); err == nil && top >= p.dict {
			err = fmt.Errorf("an index past the dictionary's %d values", p.dict)
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errDamagedPage, err)
	}
	return nil
}

// valuesChecked: the encodings whose values check reads, past the levels.
func valuesChecked(e parquet.Encoding) bool {
	return deltaEncoded(e) || e == parquet.Encodings.RLEDict || e == parquet.Encodings.PlainDict
}

// deltaEncoded: the encodings whose values start with a delta header.
func deltaEncoded(e parquet.Encoding) bool {
	return e == parquet.Encodings.DeltaBinaryPacked || e == parquet.Encodings.DeltaLengthByteArray ||
		e == parquet.Encodings.DeltaByteArray
}

// checkChunk checks the page headers of column c of row group rg
// (checkChunkBytes) and reads every page through checkedPages: Read calls
// it before Arrow's own readers (which read the pages afresh, where
// nothing can be put in front of them) decode the chunk.
func (r *Reader) checkChunk(rg, c int) error {
	pr, err := r.chunkPages(rg, c)
	if err != nil {
		return err
	}
	if pr == nil {
		if pr, err = r.PF.RowGroup(rg).GetColumnPageReader(c); err != nil {
			return fmt.Errorf("reading %s: %w", r.Key, err)
		}
	}
	cp, err := r.checkPages(pr, rg, c)
	if err != nil {
		return err
	}
	for cp.Next() {
	}
	if err := cp.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", r.Key, err)
	}
	return nil
}

// checkChunkBytes walks the page headers of a column chunk's bytes before
// Arrow's page reader reads them: it allocates a page's uncompressed size
// as its header says, and its Snappy decoder allocates what the block's
// own preamble says (up to 4 GiB) when that is more. A page whose header
// does not parse, whose bytes run past the chunk, or whose Snappy block
// declares another size than its header, or more than Snappy can encode
// in its bytes, is damaged. Other codecs' blocks are left to Arrow: the
// tables here are Snappy.
func checkChunkBytes(b []byte, codec compress.Compression) error {
	for len(b) > 0 {
		h, err := pqpage.Header(b)
		if err != nil {
			return fmt.Errorf("%w: its header: %w", errDamagedPage, err)
		}
		b = b[h.Size:]
		if int(h.Compressed) > len(b) {
			return fmt.Errorf("%w: %d bytes, %d left in its column chunk", errDamagedPage, h.Compressed, len(b))
		}
		page, want := b[:h.Compressed], int64(h.Uncompressed)
		b = b[h.Compressed:]
		if h.Type == 3 { // data v2: levels before the values, never compressed
			if h.Levels > int64(len(page)) {
				return fmt.Errorf("%w: levels past the page", errDamagedPage)
			}
			if !h.ValuesCompress {
				continue
			}
			page, want = page[h.Levels:], want-h.Levels
		}
		switch codec {
		case compress.Codecs.Uncompressed:
			if want != int64(len(page)) {
				return fmt.Errorf("%w: %d bytes of %d uncompressed", errDamagedPage, len(page), want)
			}
		case compress.Codecs.Snappy:
			if n, err := pqpage.SnappyLen(page); err != nil || int64(n) != want {
				return fmt.Errorf("%w: a Snappy block that does not declare its %d bytes", errDamagedPage, want)
			}
		}
	}
	return nil
}
