package allocation

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"

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
//	uint64 length, then an Arrow IPC stream of one record
//
// and keeps the list of each pack's table's segments; a D-flow file of the
// pack (one source file's rows) reads only its own segments.

// spoolBudget is the bytes of rows a source's collector holds before it
// writes them out.
const spoolBudget = 48 << 20

// spoolKey names a pack's table in a source's collector.
type spoolKey struct {
	pack  int
	table string // cut/table
}

// sourceSpool buffers one source's rows for the packs and writes them out
// whenever they pass the budget, and at the end.
type sourceSpool struct {
	path    string // the source's spool file, made at the first flush
	f       *os.File
	w       *bufio.Writer
	off     int64 // bytes written so far
	pending map[spoolKey][]arrow.Record
	bytes   int64
	budget  int64
	rows    map[spoolKey]int64     // written so far
	segs    map[spoolKey][]segment // written so far, in order
}

func newSourceSpool(dir string, src int) *sourceSpool {
	return &sourceSpool{path: filepath.Join(dir, fmt.Sprintf("source-%d.spool", src)), budget: spoolBudget,
		pending: map[spoolKey][]arrow.Record{}, rows: map[spoolKey]int64{}, segs: map[spoolKey][]segment{}}
}

// add takes ownership of rec.
func (s *sourceSpool) add(pack int, table string, rec arrow.Record) error {
	k := spoolKey{pack, table}
	s.pending[k] = append(s.pending[k], rec)
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
	var body bytes.Buffer
	iw := ipc.NewWriter(&body, ipc.WithSchema(rec.Schema()))
	if err := iw.Write(rec); err != nil {
		return err
	}
	if err := iw.Close(); err != nil {
		return err
	}
	head := binary.LittleEndian.AppendUint16(nil, uint16(len(fid)))
	head = append(head, fid...)
	head = binary.LittleEndian.AppendUint64(head, uint64(body.Len()))
	if _, err := s.w.Write(head); err != nil {
		return err
	}
	size := int64(body.Len())
	if _, err := body.WriteTo(s.w); err != nil {
		return err
	}
	s.segs[k] = append(s.segs[k], segment{path: s.path, fileID: fid, off: s.off + int64(len(head)), size: size})
	s.off += int64(len(head)) + size
	return nil
}

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

// segment is one segment of a spool file.
type segment struct {
	path      string
	fileID    string // the source file of its rows ("" for a table without)
	off, size int64  // of its IPC body
}

// spoolReader yields the records of segments in order: a dflow.RecordSource
// by its next method. close releases its files.
type spoolReader struct {
	segs  []segment
	files map[string]*os.File
	buf   []byte
}

func newSpoolReader(segs []segment) *spoolReader {
	return &spoolReader{segs: segs, files: map[string]*os.File{}}
}

func (s *spoolReader) close() {
	for _, f := range s.files {
		f.Close()
	}
	clear(s.files)
}

// next yields the following record, nil after the last.
func (s *spoolReader) next() (arrow.Record, error) {
	if len(s.segs) == 0 {
		return nil, nil
	}
	seg := s.segs[0]
	s.segs = s.segs[1:]
	f := s.files[seg.path]
	if f == nil {
		var err error
		if f, err = os.Open(seg.path); err != nil {
			return nil, err
		}
		s.files[seg.path] = f
	}
	if int64(cap(s.buf)) < seg.size {
		s.buf = make([]byte, seg.size)
	}
	body := s.buf[:seg.size]
	if _, err := f.ReadAt(body, seg.off); err != nil {
		return nil, fmt.Errorf("reading the pack spool: %w", err)
	}
	return decodeSegment(body)
}

// decodeSegment decodes an IPC body; the record owns its memory, so the
// body may be reused.
func decodeSegment(body []byte) (arrow.Record, error) {
	r, err := ipc.NewReader(bytes.NewReader(body), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, fmt.Errorf("reading the pack spool: %w", err)
	}
	defer r.Release()
	if !r.Next() {
		if err := r.Err(); err != nil {
			return nil, fmt.Errorf("reading the pack spool: %w", err)
		}
		return nil, fmt.Errorf("reading the pack spool: an empty segment")
	}
	rec := r.Record()
	rec.Retain()
	return rec, nil
}
