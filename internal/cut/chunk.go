package cut

import (
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
)

// ColumnChunk returns a reader of column c of row group rg, like
// r.PF.RowGroup(rg).Column(c), that reuses the Reader's buffers: the
// chunk's bytes are read into one buffer, its pages decompressed into
// buffers kept from the chunk before, through one page reader. Reading
// every row group of a table allocated the compressed chunk twice and each
// page once, all garbage a chunk later: at 10^7 MPANs the load packs read
// every chunk of every table, and the collector's work and the page
// faults of fresh memory cost as much as the decoding.
//
// The reader and the values it yields (text values point into its pages)
// are valid until the next call of ColumnChunk on the same Reader.
func (r *Reader) ColumnChunk(rg, c int) (file.ColumnChunkReader, error) {
	pr, err := r.chunkPages(rg, c)
	if err != nil {
		return nil, err
	}
	var mem memory.Allocator
	if pr == nil { // encrypted, or needing Arrow's workaround of old writers
		if pr, err = r.PF.RowGroup(rg).GetColumnPageReader(c); err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.Key, err)
		}
		mem = r.mem
	} else {
		mem = &r.chunk.pages
	}
	cp, err := r.checkPages(pr, rg, c) // pagecheck.go
	if err != nil {
		return nil, err
	}
	return file.NewColumnReader(r.PF.MetaData().Schema.Column(c), cp, mem, r.PF.BufferPool()), nil
}

// Column returns a reader of column c of row group rg as
// r.PF.RowGroup(rg).Column(c) does, with buffers of its own (it stays
// valid while other columns are read), its pages checked before Arrow
// decodes them (pagecheck.go).
func (r *Reader) Column(rg, c int) (file.ColumnChunkReader, error) {
	if rg < 0 || rg >= r.PF.NumRowGroups() || c < 0 || c >= r.PF.MetaData().Schema.NumColumns() {
		return nil, fmt.Errorf("reading %s: no column %d of row group %d", r.Key, c, rg)
	}
	cb := &chunkBuffers{data: arena{noClear: true}}
	pr, err := r.readChunk(cb, rg, c)
	if err != nil {
		return nil, err
	}
	var mem memory.Allocator = &cb.pages
	if pr == nil {
		if pr, err = r.PF.RowGroup(rg).GetColumnPageReader(c); err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.Key, err)
		}
		mem = r.mem
	}
	cp, err := r.checkPages(pr, rg, c)
	if err != nil {
		return nil, err
	}
	return file.NewColumnReader(r.PF.MetaData().Schema.Column(c), cp, mem, r.PF.BufferPool()), nil
}

// chunkPages reads column c of row group rg into the Reader's buffers and
// returns the reader of its pages, nil for a chunk only Arrow's own reader
// reads (encrypted, or written by an old writer).
func (r *Reader) chunkPages(rg, c int) (file.PageReader, error) {
	if r.chunk == nil {
		r.chunk = chunkPool.Get().(*chunkBuffers)
	}
	return r.readChunk(r.chunk, rg, c)
}

// readChunk is chunkPages into cb. The pages' headers are checked first
// (checkChunkBytes), before the page reader allocates what they declare.
func (r *Reader) readChunk(cb *chunkBuffers, rg, c int) (file.PageReader, error) {
	md := r.PF.MetaData()
	if rg < 0 || rg >= len(md.RowGroups) || c < 0 || c >= md.Schema.NumColumns() {
		return nil, fmt.Errorf("reading %s: no column %d of row group %d", r.Key, c, rg)
	}
	col, err := md.RowGroup(rg).ColumnChunk(c)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", r.Key, err)
	}
	if col.CryptoMetadata() != nil || r.PF.WriterVersion().LessThan(metadata.Parquet816FixedVersion) {
		return nil, nil
	}
	start := col.DataPageOffset()
	if col.HasDictionaryPage() && col.DictionaryPageOffset() > 0 && start > col.DictionaryPageOffset() {
		start = col.DictionaryPageOffset()
	}
	size := col.TotalCompressedSize()
	if start < 0 || size < 0 {
		return nil, fmt.Errorf("reading %s: column chunk at %d of %d bytes", r.Key, start, size)
	}
	if int64(cap(cb.raw)) < size {
		cb.raw = make([]byte, size+size/4)
	}
	cb.src.b, cb.src.off = cb.raw[:size], 0
	if n, err := r.f.ReadAt(cb.src.b, start); err != nil && !(err == io.EOF && int64(n) == size) {
		return nil, fmt.Errorf("reading %s: %w", r.Key, err)
	}
	if err := checkChunkBytes(cb.src.b, col.Compression()); err != nil {
		return nil, fmt.Errorf("reading %s: column %s: %w", r.Key, md.Schema.Column(c).Name(), err)
	}
	cb.pages.reset()
	cb.data.reset()
	if cb.pr == nil {
		if cb.pr, err = file.NewPageReader(&cb.src, col.NumValues(), col.Compression(), &cb.data, nil); err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.Key, err)
		}
	} else {
		cb.pr.Reset(&cb.src, col.NumValues(), col.Compression(), nil)
		if err := cb.pr.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.Key, err)
		}
	}
	return cb.pr, nil
}

// chunkBuffers are ColumnChunk's buffers, kept by the Reader. The page
// reader's pages go to data, whose buffers are not cleared: a page's
// bytes are all written by its decompression (clearing them first cost
// as much as a tenth of the decompression); the decoders of a column
// reader get pages, which clears like Arrow's allocator.
type chunkBuffers struct {
	raw   []byte // the compressed chunk
	src   chunkBytes
	pr    file.PageReader
	pages arena
	data  arena
}

// chunkPool keeps the buffers of closed Readers for the next: a scan
// reads table after table, and each new Reader grew its buffers (and the
// page reader's own) again from nothing, chunk by chunk.
var chunkPool = sync.Pool{New: func() any { return &chunkBuffers{data: arena{noClear: true}} }}

// chunkBytes is a chunk's bytes as the parquet.BufferedReader a page
// reader reads.
type chunkBytes struct {
	b   []byte
	off int
}

func (s *chunkBytes) Peek(n int) ([]byte, error) {
	if rest := s.b[s.off:]; n > len(rest) {
		return rest, io.EOF
	}
	return s.b[s.off : s.off+n], nil
}

func (s *chunkBytes) Discard(n int) (int, error) {
	if rest := len(s.b) - s.off; n > rest {
		s.off = len(s.b)
		return rest, io.EOF
	}
	s.off += n
	return n, nil
}

func (s *chunkBytes) Read(p []byte) (int, error) {
	if s.off >= len(s.b) {
		return 0, io.EOF
	}
	n := copy(p, s.b[s.off:])
	s.off += n
	return n, nil
}

// arena is the memory.Allocator of one column chunk's pages and decoders:
// Free does nothing, and reset makes every buffer given since the last
// reset free for the next chunk. Buffers are handed out in the order they
// were first made, so a chunk like the one before (a dictionary page, a
// data page, a decoder's scratch) reuses them one for one. Like Arrow's
// Go allocator, it gives zeroed memory, unless noClear.
type arena struct {
	bufs    [][]byte
	used    int
	noClear bool // buffers are handed out as the last chunk left them
}

func (a *arena) reset() { a.used = 0 }

func (a *arena) Allocate(size int) []byte {
	if a.used < len(a.bufs) && cap(a.bufs[a.used]) >= size {
		b := a.bufs[a.used][:size]
		if !a.noClear {
			clear(b)
		}
		a.used++
		return b
	}
	b := make([]byte, size, size+size/4)
	if a.used < len(a.bufs) {
		a.bufs[a.used] = b // too small for this chunk: replaced
	} else {
		a.bufs = append(a.bufs, b)
	}
	a.used++
	return b
}

func (a *arena) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := a.Allocate(size)
	copy(nb, b)
	return nb
}

func (a *arena) Free([]byte) {}
