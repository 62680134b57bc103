package allocation

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// A pack's rows are spooled to disk as they are collected, so the memory a
// run needs does not grow with the allocation. Each source's collector
// appends to one spool file of its own, whatever the number of packs and
// tables (a file per pack, table and source cost a file creation and an
// open per table at every flush), segments of one pack's table each, in
// row order, each of the rows of one source file:
//
//	uint16 length + bytes of the source file id
//	uint64 length, then an Arrow IPC record batch message of one record
//
// and keeps the list of each pack's table's segments; a D-flow file of the
// pack (one source file's rows) reads only its own segments. A segment's
// schema is not in the file: a table's schema message is encoded once per
// source and kept in memory with the readers decoding it (schemaDecoders),
// shared by every segment of the table. A segment holds a few rows, and
// its schema (every column's D-flow metadata) was most of its bytes and of
// the work to write and read it.

// spoolBudget is the bytes of rows a source's collector holds before it
// writes them out. 16 MiB: the 3·10^7 market's national packs took 81 s
// and 180 MB of live heap with it, 90 s and 289 MB with 48 MiB (more
// segments, but fewer pending records to walk and cache).
const spoolBudget = 16 << 20

// columnOverhead is what a pending record's column holds besides its
// buffers' bytes (its array, array data and buffer headers), counted
// against the budget: a large market's row groups give each pack records of
// a few rows, whose headers outweighed their values uncounted.
const columnOverhead = 384

// spoolKey names a pack's table in a source's collector.
type spoolKey struct {
	pack  int
	table string // cut/table
}

// sourceSpool buffers one source's rows for the packs and writes them out
// whenever they pass the budget, and at the end.
type sourceSpool struct {
	path    string // the source's spool file, made at the first flush
	src     int
	ids     *sourceFileIDs // the source file ids of its segments
	f       *os.File
	w       *bufio.Writer
	off     int64 // bytes written so far
	pending map[spoolKey][]arrow.Record
	bytes   int64
	budget  int64
	rows    map[spoolKey]int64     // written so far
	segs    map[spoolKey][]segment // written so far, in order
	enc     map[string]*segmentEncoder
}

func newSourceSpool(dir string, src int) *sourceSpool {
	return &sourceSpool{path: filepath.Join(dir, fmt.Sprintf("source-%d.spool", src)), src: src, budget: spoolBudget,
		ids: newSourceFileIDs(), pending: map[spoolKey][]arrow.Record{}, rows: map[spoolKey]int64{}, segs: map[spoolKey][]segment{}, enc: map[string]*segmentEncoder{}}
}

// add takes ownership of rec.
func (s *sourceSpool) add(pack int, table string, rec arrow.Record) error {
	k := spoolKey{pack, table}
	s.pending[k] = append(s.pending[k], rec)
	s.bytes += columnOverhead * rec.NumCols()
	for _, c := range rec.Columns() {
		for _, b := range c.Data().Buffers() {
			if b != nil {
				s.bytes += int64(b.Len())
			}
		}
	}
	if s.bytes > s.budget {
		return s.flush()
	}
	return nil
}

// flush appends every pending table's rows to the spool file as segments,
// readable once it returns.
func (s *sourceSpool) flush() error {
	keys := make([]spoolKey, 0, len(s.pending))
	for k := range s.pending {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].pack != keys[j].pack {
			return keys[i].pack < keys[j].pack
		}
		return keys[i].table < keys[j].table
	})
	var err error
	if len(keys) > 0 && s.f == nil {
		err = os.MkdirAll(filepath.Dir(s.path), 0o700)
		if err == nil {
			s.f, err = os.OpenFile(s.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		}
		if err == nil {
			s.w = bufio.NewWriterSize(s.f, 1<<20)
		}
	}
	for _, k := range keys {
		recs := s.pending[k]
		if err == nil {
			err = s.writeSegment(k, recs)
		}
		for _, r := range recs {
			r.Release()
		}
		delete(s.pending, k)
	}
	s.bytes = 0
	if err == nil && s.w != nil {
		err = s.w.Flush()
	}
	return err
}

// close closes the spool file; its segments stay readable by path.
func (s *sourceSpool) close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f, s.w = nil, nil
	return err
}

// release drops what was not written (after an error).
func (s *sourceSpool) release() {
	for k, recs := range s.pending {
		for _, r := range recs {
			r.Release()
		}
		delete(s.pending, k)
	}
	s.close()
}

// writeSegment appends rows to the spool file as one segment per source
// file id, in the order the ids first appear.
func (s *sourceSpool) writeSegment(k spoolKey, recs []arrow.Record) error {
	rec, err := concatRecords(recs)
	if err != nil {
		return err
	}
	defer rec.Release()
	fids := fileIDs(rec)
	if fids == nil {
		err = s.writeOne(k, "", rec)
	}
	runs := fileRuns(rec)
	for _, fid := range fids {
		part := rec
		if len(fids) > 1 {
			if part, err = concatRecords(runs[fid]); err != nil {
				break
			}
		}
		err = s.writeOne(k, fid, part)
		if len(fids) > 1 {
			part.Release()
		}
		if err != nil {
			break
		}
	}
	for _, rs := range runs {
		for _, r := range rs {
			r.Release()
		}
	}
	s.rows[k] += rec.NumRows()
	return err
}

// writeOne appends one segment and lists it.
func (s *sourceSpool) writeOne(k spoolKey, fid string, rec arrow.Record) error {
	e := s.enc[k.table]
	if e == nil || e.schema != rec.Schema() { // a table's records share its schema
		e = &segmentEncoder{schema: rec.Schema()}
		s.enc[k.table] = e
	}
	batch, err := e.encode(rec)
	if err != nil {
		return err
	}
	if e.part == nil {
		e.part = &spoolPart{path: s.path, src: s.src, dec: e.dec, ids: s.ids}
	}
	size := int64(len(batch))
	if size > math.MaxUint32 {
		return fmt.Errorf("spooling rows: a record of %d bytes", size)
	}
	head := binary.LittleEndian.AppendUint16(nil, uint16(len(fid)))
	head = append(head, fid...)
	head = binary.LittleEndian.AppendUint64(head, uint64(size))
	if _, err := s.w.Write(head); err != nil {
		return err
	}
	if _, err := s.w.Write(batch); err != nil {
		return err
	}
	s.segs[k] = append(s.segs[k], segment{part: e.part, off: s.off + int64(len(head)), size: uint32(size), fid: s.ids.number(fid)})
	s.off += int64(len(head)) + size
	return nil
}

// segmentEncoder encodes a table's records as IPC record batch messages,
// through one IPC writer: the schema message it writes first goes to dec.
type segmentEncoder struct {
	schema *arrow.Schema
	iw     *ipc.Writer
	buf    bytes.Buffer
	dec    *schemaDecoders
	part   *spoolPart // what its segments share, made with the first
}

// encode returns rec's record batch message, valid until the next call.
func (e *segmentEncoder) encode(rec arrow.Record) ([]byte, error) {
	e.buf.Reset()
	first := e.iw == nil
	if first {
		e.iw = ipc.NewWriter(&e.buf, ipc.WithSchema(e.schema))
	}
	if err := e.iw.Write(rec); err != nil {
		return nil, err
	}
	b := e.buf.Bytes()
	if first {
		n, err := messageSize(b)
		if err != nil {
			return nil, err
		}
		e.dec = &schemaDecoders{schema: append([]byte(nil), b[:n]...)}
		b = b[n:]
	}
	return b, nil
}

// messageSize is the size of the body-less message (a schema) b starts
// with: the continuation marker, the metadata's length, the metadata.
func messageSize(b []byte) (int, error) {
	if len(b) < 8 || binary.LittleEndian.Uint32(b) != 0xFFFFFFFF {
		return 0, fmt.Errorf("spooling rows: not an IPC message")
	}
	n := 8 + int(int32(binary.LittleEndian.Uint32(b[4:])))
	if n < 8 || n > len(b) {
		return 0, fmt.Errorf("spooling rows: an IPC message of %d bytes in %d", n, len(b))
	}
	return n, nil
}

// schemaDecoders decode the segments of one table's schema: IPC readers
// that decoded the schema message once each, free for any spool reader
// (packs are written in parallel, a reader decodes one message at a time).
type schemaDecoders struct {
	schema []byte // the schema message
	mu     sync.Mutex
	free   []*segmentDecoder
}

// decode decodes a record batch message of the schema.
func (p *schemaDecoders) decode(batch []byte) (arrow.Record, error) {
	p.mu.Lock()
	var d *segmentDecoder
	if n := len(p.free); n > 0 {
		d, p.free = p.free[n-1], p.free[:n-1]
	}
	p.mu.Unlock()
	if d == nil {
		var err error
		if d, err = newSegmentDecoder(p.schema); err != nil {
			return nil, fmt.Errorf("reading the pack spool: %w", err)
		}
	}
	rec, err := d.decode(batch)
	if err != nil {
		return nil, fmt.Errorf("reading the pack spool: %w", err)
	}
	p.mu.Lock()
	p.free = append(p.free, d)
	p.mu.Unlock()
	return rec, nil
}

// segmentDecoder is an IPC reader of a stream made of the messages handed
// to it: the schema once, then one record batch at a time.
type segmentDecoder struct {
	rd   *ipc.Reader
	msgs handOver
}

func newSegmentDecoder(schema []byte) (*segmentDecoder, error) {
	d := &segmentDecoder{}
	var err error
	if d.msgs.next, err = ipc.NewMessageReader(bytes.NewReader(schema)).Message(); err != nil {
		return nil, err
	}
	if d.rd, err = ipc.NewReaderFromMessageReader(&d.msgs, ipc.WithAllocator(memory.DefaultAllocator)); err != nil {
		return nil, err
	}
	return d, nil
}

// decode decodes one record batch message; the record owns its memory
// (the message reader copies the bytes), so batch may be reused.
func (d *segmentDecoder) decode(batch []byte) (arrow.Record, error) {
	var err error
	if d.msgs.next, err = ipc.NewMessageReader(bytes.NewReader(batch)).Message(); err != nil {
		return nil, err
	}
	if !d.rd.Next() {
		if err := d.rd.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("an empty segment")
	}
	rec := d.rd.Record()
	rec.Retain()
	return rec, nil
}

// handOver is an IPC reader's message source: the one message put there.
type handOver struct{ next *ipc.Message }

func (h *handOver) Message() (*ipc.Message, error) {
	m := h.next
	h.next = nil
	if m == nil {
		return nil, io.EOF
	}
	return m, nil
}

func (h *handOver) Retain()  {}
func (h *handOver) Release() {}

// fileIDs lists the distinct source file ids (column 0) of a record, in
// order of appearance; nil for a table without them.
func fileIDs(rec arrow.Record) []string {
	ids, ok := rec.Column(0).(*array.String)
	if !ok || rec.Schema().Field(0).Name != dflow.ColSourceFileID {
		return nil
	}
	out := []string{}
	seen := map[string]bool{}
	for i := 0; i < ids.Len(); i++ {
		if v := ids.Value(i); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func concatRecords(recs []arrow.Record) (arrow.Record, error) {
	if len(recs) == 1 {
		recs[0].Retain()
		return recs[0], nil
	}
	cols := make([]arrow.Array, recs[0].NumCols())
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	parts := make([]arrow.Array, len(recs))
	for j := range cols {
		for i, r := range recs {
			parts[i] = r.Column(j)
		}
		c, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			for _, c := range cols[:j] {
				c.Release()
			}
			return nil, err
		}
		cols[j] = c
	}
	out := array.NewRecord(recs[0].Schema(), cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

// segment is one segment of a spool file, in 24 bytes: a large market's
// packs list hundreds of thousands (a few rows of each source file at each
// flush).
type segment struct {
	part *spoolPart
	off  int64  // of its record batch message
	size uint32 // of its record batch message
	fid  uint32 // its source file id's number in part.ids
}

// fileID is the source file of the segment's rows ("" for a table without).
func (s segment) fileID() string { return s.part.ids.list[s.fid] }

// src is the source the segment's rows came from.
func (s segment) src() int { return s.part.src }

// spoolPart is what a source's segments of one table share: the spool
// file, the decoders of the table's schema, the source's file ids.
type spoolPart struct {
	path string
	src  int
	dec  *schemaDecoders
	ids  *sourceFileIDs
}

// sourceFileIDs number a source's file ids, "" first. Each id is copied: an
// Arrow string shares its record's buffer, and a segment kept one alive.
type sourceFileIDs struct {
	list    []string
	numbers map[string]uint32
}

func newSourceFileIDs() *sourceFileIDs {
	return &sourceFileIDs{list: []string{""}, numbers: map[string]uint32{"": 0}}
}

func (f *sourceFileIDs) number(id string) uint32 {
	n, ok := f.numbers[id]
	if !ok {
		n = uint32(len(f.list))
		id = strings.Clone(id)
		f.list = append(f.list, id)
		f.numbers[id] = n
	}
	return n
}

// spoolReader yields the records of segments in order: a dflow.RecordSource
// by its next method. close releases its files (not shared ones).
type spoolReader struct {
	segs   []segment
	files  spoolFiles
	shared bool
	buf    []byte
}

func newSpoolReader(segs []segment) *spoolReader {
	return &spoolReader{segs: segs, files: spoolFiles{}}
}

// newSharedSpoolReader reads segments through files open for others too.
func newSharedSpoolReader(segs []segment, files spoolFiles) *spoolReader {
	return &spoolReader{segs: segs, files: files, shared: true}
}

func (s *spoolReader) close() {
	if !s.shared {
		s.files.close()
	}
}

// spoolFiles are spool files open for reading, by path. A pack's write
// (one goroutine) shares them among its readers: a D-flow file reads a
// group's rows through a reader each, and opened the spools anew for each.
type spoolFiles map[string]*os.File

func (f spoolFiles) close() {
	for _, fh := range f {
		fh.Close()
	}
	clear(f)
}

// next yields the following record, nil after the last.
func (s *spoolReader) next() (arrow.Record, error) {
	if len(s.segs) == 0 {
		return nil, nil
	}
	seg := s.segs[0]
	s.segs = s.segs[1:]
	if s.files == nil { // nothing shared after all: its own
		s.files, s.shared = spoolFiles{}, false
	}
	path := seg.part.path
	f := s.files[path]
	if f == nil {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, err
		}
		s.files[path] = f
	}
	if cap(s.buf) < int(seg.size) {
		s.buf = make([]byte, seg.size)
	}
	body := s.buf[:seg.size]
	if _, err := f.ReadAt(body, seg.off); err != nil {
		return nil, fmt.Errorf("reading the pack spool: %w", err)
	}
	return seg.part.dec.decode(body)
}
