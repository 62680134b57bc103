package cut

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"

	"github.com/mhhs-sit/datacut/internal/pqpage"
)

// Reading a column chunk's values from its pages (internal/pqpage) rather
// than through Arrow's column reader: the load packs and the MPAN scans
// read every value of every chunk, most of them to skip it, and Arrow's
// ReadBatch builds each one (a slice per text value, a bit reader call
// per packed integer) before it can be skipped. The encodings published
// tables use are read here: PLAIN and dictionary text, PLAIN and
// DELTA_BINARY_PACKED integers, in v1 data pages with RLE definition
// levels. Anything else is errUnhandled, and the caller reads the chunk
// through Arrow instead.

// errUnhandled: the chunk holds a page or an encoding read only by Arrow.
var errUnhandled = errors.New("an encoding read through Arrow")

// pageScratch is the page walkers' decode buffers, kept by the Reader.
type pageScratch struct {
	def  []uint32
	idx  []uint32
	ints []int64
	dict [][]byte
}

// wanted walks the rows a page holds: the next wanted row of rows
// (ascending; nil: every row) at or after the page's first.
type wanted struct {
	rows []int32
	j    int
}

// next is the index within the page (of n rows from base) of the next
// wanted row, -1 when none is left in it.
func (w *wanted) next(base, n, at int) int {
	if w.rows == nil {
		if at < n {
			return at
		}
		return -1
	}
	if w.j < len(w.rows) && int(w.rows[w.j]) < base+n {
		return int(w.rows[w.j]) - base
	}
	return -1
}

func (w *wanted) done() bool { return w.rows != nil && w.j >= len(w.rows) }

// pageData splits a v1 data page into its definition levels (decoded into
// s.def, nil for a required column) and its values' bytes; present counts
// the rows that have a value.
func (s *pageScratch) pageData(pg *file.DataPageV1, maxDef int16) (data []byte, def []uint32, present int, err error) {
	data, n := pg.Data(), int(pg.NumValues())
	if maxDef == 0 {
		return data, nil, n, nil
	}
	if parquet.Encoding(pg.DefinitionLevelEncoding()) != parquet.Encodings.RLE {
		return nil, nil, 0, errUnhandled
	}
	if len(data) < 4 {
		return nil, nil, 0, pqpage.ErrCorrupt
	}
	size := int(binary.LittleEndian.Uint32(data))
	if size < 0 || 4+size > len(data) {
		return nil, nil, 0, pqpage.ErrCorrupt
	}
	if s.def, _, err = pqpage.Hybrid(data[4:4+size], pqpage.LevelWidth(maxDef), n, s.def[:0]); err != nil {
		return nil, nil, 0, err
	}
	for _, d := range s.def {
		if int16(d) >= maxDef {
			present++
		}
	}
	return data[4+size:], s.def, present, nil
}

// eachText calls keep with the value of each wanted row of text column c
// of row group rg (rows ascending, nil for every row), null for each
// wanted row without one. Values point into the Reader's page buffers:
// valid until the next chunk is read. errUnhandled may come after some
// calls: the caller starts the column again through Arrow.
func (r *Reader) eachText(rg, c int, rows []int32, keep func([]byte), null func()) error {
	if rows != nil && len(rows) == 0 {
		return nil
	}
	pr, err := r.walkPages(rg, c)
	if err != nil {
		return err
	}
	descr := r.PF.MetaData().Schema.Column(c)
	if pr == nil || descr.MaxRepetitionLevel() > 0 || descr.PhysicalType() != parquet.Types.ByteArray {
		return errUnhandled
	}
	maxDef := descr.MaxDefinitionLevel()
	s := r.pageScratch()
	s.dict = s.dict[:0]
	w := wanted{rows: rows}
	base := 0
	for pr.Next() {
		switch pg := pr.Page().(type) {
		case *file.DictionaryPage:
			if e := parquet.Encoding(pg.Encoding()); e != parquet.Encodings.Plain && e != parquet.Encodings.PlainDict {
				return errUnhandled
			}
			if s.dict, err = plainTexts(pg.Data(), int(pg.NumValues()), s.dict[:0]); err != nil {
				return r.pageErr(c, err)
			}
		case *file.DataPageV1:
			n := int(pg.NumValues())
			data, def, present, err := s.pageData(pg, maxDef)
			if err != nil {
				return r.pageErr(c, err)
			}
			switch parquet.Encoding(pg.Encoding()) {
			case parquet.Encodings.Plain:
				err = textPlain(data, def, maxDef, n, base, &w, keep, null)
			case parquet.Encodings.RLEDict, parquet.Encodings.PlainDict:
				err = s.textDict(data, def, maxDef, n, present, base, &w, keep, null)
			default:
				return errUnhandled
			}
			if err != nil {
				return r.pageErr(c, err)
			}
			base += n
		default:
			return errUnhandled
		}
		if w.done() {
			return nil
		}
	}
	return r.walkEnd(pr, descr.Name(), &w)
}

// walkPages is the chunk's pages as checkedPages (nil if only Arrow's own
// reader reads them): the walkers rely on its bound of a page's values by
// its chunk's, the row count they decode levels and values by.
func (r *Reader) walkPages(rg, c int) (file.PageReader, error) {
	pr, err := r.chunkPages(rg, c)
	if pr == nil || err != nil {
		return nil, err
	}
	cp, err := r.checkPages(pr, rg, c)
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// walkEnd is a page walk's end once the pages ran out: the page reader's
// error, or a wanted row past the column's last.
func (r *Reader) walkEnd(pr file.PageReader, column string, w *wanted) error {
	if err := pr.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", r.Key, err)
	}
	if w.rows != nil && !w.done() {
		return fmt.Errorf("reading %s: column %s ends before row %d", r.Key, column, w.rows[w.j])
	}
	return nil
}

func (r *Reader) pageErr(c int, err error) error {
	if err == errUnhandled {
		return err
	}
	return fmt.Errorf("reading %s: column %s: %w", r.Key, r.PF.MetaData().Schema.Column(c).Name(), err)
}

func (r *Reader) pageScratch() *pageScratch {
	if r.pages == nil {
		r.pages = &pageScratch{}
	}
	return r.pages
}

// plainTexts appends n PLAIN text values (a little-endian uint32 length,
// then the bytes) of data.
func plainTexts(data []byte, n int, dst [][]byte) ([][]byte, error) {
	for i := 0; i < n; i++ {
		if len(data) < 4 {
			return dst, pqpage.ErrCorrupt
		}
		l := uint64(binary.LittleEndian.Uint32(data))
		if l > uint64(len(data)-4) {
			return dst, pqpage.ErrCorrupt
		}
		dst = append(dst, data[4:4+l:4+l])
		data = data[4+l:]
	}
	return dst, nil
}

// textPlain walks a page's PLAIN values: each value's length is read to
// skip it, and only wanted rows are sliced.
func textPlain(data []byte, def []uint32, maxDef int16, n, base int, w *wanted, keep func([]byte), null func()) error {
	pos := 0
	for i := 0; i < n; i++ {
		at := w.next(base, n, i)
		if at < 0 {
			return nil
		}
		for ; i < at; i++ { // rows before the wanted one: skipped
			if def != nil && int16(def[i]) < maxDef {
				continue
			}
			if pos+4 > len(data) {
				return pqpage.ErrCorrupt
			}
			pos += 4 + int(binary.LittleEndian.Uint32(data[pos:]))
		}
		w.j++
		if def != nil && int16(def[i]) < maxDef {
			null()
			continue
		}
		if pos+4 > len(data) {
			return pqpage.ErrCorrupt
		}
		l := uint64(binary.LittleEndian.Uint32(data[pos:]))
		if l > uint64(len(data)-pos-4) {
			return pqpage.ErrCorrupt
		}
		end := pos + 4 + int(l)
		keep(data[pos+4 : end : end])
		pos = end
	}
	return nil
}

// textDict walks a page of dictionary indices (a byte of bit width, then
// the hybrid encoding) of its present values.
func (s *pageScratch) textDict(data []byte, def []uint32, maxDef int16, n, present, base int, w *wanted, keep func([]byte), null func()) error {
	if len(data) < 1 {
		if present == 0 {
			return walkNulls(n, base, w, null)
		}
		return pqpage.ErrCorrupt
	}
	var err error
	if s.idx, _, err = pqpage.Hybrid(data[1:], int(data[0]), present, s.idx[:0]); err != nil {
		return err
	}
	v := 0
	for i := 0; i < n; i++ {
		at := w.next(base, n, i)
		if at < 0 {
			return nil
		}
		for ; i < at; i++ {
			if def == nil || int16(def[i]) >= maxDef {
				v++
			}
		}
		w.j++
		if def != nil && int16(def[i]) < maxDef {
			null()
			continue
		}
		if v >= len(s.idx) || int(s.idx[v]) >= len(s.dict) {
			return pqpage.ErrCorrupt
		}
		keep(s.dict[s.idx[v]])
		v++
	}
	return nil
}

func walkNulls(n, base int, w *wanted, null func()) error {
	for i := 0; i < n; i++ {
		at := w.next(base, n, i)
		if at < 0 {
			return nil
		}
		i = at
		w.j++
		null()
	}
	return nil
}

// eachInt is eachText for an integer column (INT64, or INT32 widened).
func (r *Reader) eachInt(rg, c int, rows []int32, keep func(int64), null func()) error {
	if rows != nil && len(rows) == 0 {
		return nil
	}
	pr, err := r.walkPages(rg, c)
	if err != nil {
		return err
	}
	descr := r.PF.MetaData().Schema.Column(c)
	size := map[parquet.Type]int{parquet.Types.Int64: 8, parquet.Types.Int32: 4}[descr.PhysicalType()]
	if pr == nil || descr.MaxRepetitionLevel() > 0 || size == 0 {
		return errUnhandled
	}
	maxDef := descr.MaxDefinitionLevel()
	s := r.pageScratch()
	w := wanted{rows: rows}
	base := 0
	for pr.Next() {
		pg, ok := pr.Page().(*file.DataPageV1)
		if !ok {
			return errUnhandled
		}
		n := int(pg.NumValues())
		data, def, present, err := s.pageData(pg, maxDef)
		if err != nil {
			return r.pageErr(c, err)
		}
		s.ints = s.ints[:0]
		switch parquet.Encoding(pg.Encoding()) {
		case parquet.Encodings.Plain:
			if len(data) < present*size {
				return r.pageErr(c, pqpage.ErrCorrupt)
			}
			for i := 0; i < present; i++ {
				if size == 8 {
					s.ints = append(s.ints, int64(binary.LittleEndian.Uint64(data[8*i:])))
				} else {
					s.ints = append(s.ints, int64(int32(binary.LittleEndian.Uint32(data[4*i:]))))
				}
			}
		case parquet.Encodings.DeltaBinaryPacked:
			if s.ints, _, err = pqpage.Delta(data, present, s.ints); err != nil {
				return r.pageErr(c, err)
			}
			if len(s.ints) != present {
				return r.pageErr(c, fmt.Errorf("%d packed values for %d rows with one: %w", len(s.ints), present, pqpage.ErrCorrupt))
			}
			if size == 4 {
				for i, v := range s.ints {
					s.ints[i] = int64(int32(v))
				}
			}
		default:
			return errUnhandled
		}
		v := 0
		for i := 0; i < n; i++ {
			at := w.next(base, n, i)
			if at < 0 {
				break
			}
			for ; i < at; i++ {
				if def == nil || int16(def[i]) >= maxDef {
					v++
				}
			}
			w.j++
			if def != nil && int16(def[i]) < maxDef {
				null()
				continue
			}
			keep(s.ints[v])
			v++
		}
		base += n
		if w.done() {
			return nil
		}
	}
	return r.walkEnd(pr, descr.Name(), &w)
}

// EachText calls fn with the value of every row of text column c of row
// group rg in order (ok false for a row without one). Values point into
// the Reader's buffers: valid until the next chunk is read.
func (r *Reader) EachText(rg, c int, fn func(v []byte, ok bool)) (err error) {
	defer r.Damaged(&err)
	given := 0 // rows given before a page only Arrow reads
	err = r.eachText(rg, c, nil, func(v []byte) { given++; fn(v, true) }, func() { given++; fn(nil, false) })
	if err != errUnhandled {
		return err
	}
	cr, err := r.ColumnChunk(rg, c)
	if err != nil {
		return err
	}
	br, ok := cr.(*file.ByteArrayColumnChunkReader)
	if !ok {
		return fmt.Errorf("%s: column %s is %s, want text", r.Key, cr.Descriptor().Name(), cr.Type())
	}
	maxDef := cr.Descriptor().MaxDefinitionLevel()
	batch := min(8*1024, max(1, r.PF.RowGroup(rg).NumRows()))
	vals := make([]parquet.ByteArray, batch)
	def := make([]int16, batch)
	for row := 0; br.HasNext(); {
		n, nv, err := br.ReadBatch(batch, vals, def, nil)
		if err != nil {
			return fmt.Errorf("reading %s: %w", r.Key, err)
		}
		if n == 0 {
			break
		}
		v := 0
		for i := 0; i < int(n); i, row = i+1, row+1 {
			present := maxDef == 0 || def[i] >= maxDef
			if present && v >= nv {
				return fmt.Errorf("reading %s: column %s has fewer values than rows", r.Key, cr.Descriptor().Name())
			}
			if row >= given {
				if present {
					fn(vals[v], true)
				} else {
					fn(nil, false)
				}
			}
			if present {
				v++
			}
		}
	}
	if err := br.Err(); err != nil { // a page that did not read ends the loop
		return fmt.Errorf("reading %s: %w", r.Key, err)
	}
	return nil
}

// Damaged turns a panic of Arrow's page decoding into an error naming the
// table: its Snappy codec panics on damaged bytes ("snappy: corrupt
// input"). The panic's value is left out: it could quote the page. Defer
// it, as r.Damaged(&err), in the goroutine that reads r's pages.
func (r *Reader) Damaged(err *error) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("reading %s: a damaged column chunk (its pages do not decode)", r.Key)
	}
}
