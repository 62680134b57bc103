// Package pqwrite writes Parquet files of flat Arrow records as Arrow v15's
// pqarrow writer does, byte for byte, for the column types and encodings
// the tools publish, but encodes each column chunk's pages itself: Arrow
// builds a new column writer, encoders and page buffers for every column of
// every row group and converts each value to its own slice on the way,
// which was a third of a whole-market run's CPU. Arrow's page writer still
// writes the page headers and its metadata builders the footer.
//
// What is written, as pqarrow writes it: one data page (v1) per column
// chunk, definition levels RLE for nullable columns, PLAIN values or
// DELTA_BINARY_PACKED integers (as WriterProperties ask), dictionary
// columns with a PLAIN dictionary page, Snappy or any other codec the
// properties name, statistics in the page header and the chunk, and the
// Arrow schema stored under ARROW:schema. Supports says which schemas it
// can write; the tests compare its bytes with pqarrow's.
//
// Each row group's footer entry is encoded as soon as the group is
// written (footer.go), so an open file holds its footer as bytes, not as
// Arrow's metadata structs.
package pqwrite

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/flight"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/apache/arrow/go/v15/parquet/schema"
)

var magic = []byte("PAR1")

// Writer writes one Parquet file, a row group per WriteRowGroup.
type Writer struct {
	sink    tellWriter
	props   *parquet.WriterProperties
	schema  *arrow.Schema
	descr   *schema.Schema
	kv      metadata.KeyValueMetadata
	cols    []column
	pager   file.PageWriter
	footer  footer
	scratch *scratch
	closed  bool
}

// scratches keeps encoders' buffers from one file to the next: a run
// writes hundreds of tables, each of whose buffers would otherwise grow
// from nothing to a row group's page.
var scratches = sync.Pool{New: func() any { return new(scratch) }}

// tellWriter counts what it writes: Arrow's page writer records offsets.
type tellWriter struct {
	w   io.Writer
	pos int64
}

func (t *tellWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.pos += int64(n)
	return n, err
}

func (t *tellWriter) Tell() int64 { return t.pos }

// Supports says whether NewWriter can write records of s with props: flat
// fields of the types it encodes, each with PLAIN, dictionary or (for
// integers) DELTA_BINARY_PACKED encoding, in v1 data pages, unencrypted.
func Supports(s *arrow.Schema, props *parquet.WriterProperties) bool {
	_, err := plan(s, props)
	return err == nil
}

// NewWriter starts a file of records of s (as stored: its nullability is
// the file's) on w, as pqarrow.NewFileWriter with the schema stored.
func NewWriter(s *arrow.Schema, w io.Writer, props *parquet.WriterProperties) (*Writer, error) {
	cols, err := plan(s, props)
	if err != nil {
		return nil, err
	}
	sc, err := pqarrow.ToParquet(s, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, err
	}
	for i := range cols {
		cols[i].descr = sc.Column(i)
	}
	kv := make(metadata.KeyValueMetadata, 0)
	md := s.Metadata()
	for i, k := range md.Keys() {
		kv.Append(k, md.Values()[i])
	}
	kv.Append("ARROW:schema", base64.StdEncoding.EncodeToString(flight.SerializeSchema(s, memory.DefaultAllocator)))
	wr := &Writer{sink: tellWriter{w: w}, props: props, schema: s, descr: sc, kv: kv, cols: cols,
		scratch: scratches.Get().(*scratch)}
	if _, err := wr.sink.Write(magic); err != nil {
		return nil, err
	}
	return wr, nil
}

// plan picks each field's encoding, or says why the schema is not one
// this package writes.
func plan(s *arrow.Schema, props *parquet.WriterProperties) ([]column, error) {
	if props.DataPageVersion() != parquet.DataPageV1 || props.FileEncryptionProperties() != nil {
		return nil, fmt.Errorf("pqwrite: only unencrypted v1 data pages")
	}
	cols := make([]column, len(s.Fields()))
	for i, f := range s.Fields() {
		c := &cols[i]
		c.nullable, c.scale = f.Nullable, 1
		path := parquet.ColumnPath{f.Name}.String()
		enc := props.EncodingFor(path)
		dict := props.DictionaryEnabledFor(path)
		switch t := f.Type.(type) {
		case *arrow.StringType:
			c.kind = kindText
			if dict {
				c.kind = kindDict
			}
		case *arrow.Int32Type, *arrow.Date32Type:
			c.kind = kindInt32
		case *arrow.Int64Type:
			c.kind = kindInt64
		case *arrow.TimestampType:
			c.kind = kindInt64
			switch t.Unit {
			case arrow.Second:
				c.scale = 1000 // stored in milliseconds, as Arrow does
			case arrow.Millisecond, arrow.Microsecond:
			default:
				return nil, fmt.Errorf("pqwrite: field %s: timestamps in %s", f.Name, t.Unit)
			}
		case *arrow.BooleanType:
			c.kind = kindBool
		case *arrow.Decimal128Type:
			c.kind, c.typeLen = kindDecimal, int(pqarrow.DecimalSize(t.Precision))
		default:
			return nil, fmt.Errorf("pqwrite: field %s: type %s", f.Name, f.Type)
		}
		if dict && c.kind != kindDict {
			return nil, fmt.Errorf("pqwrite: field %s: dictionary encoding of %s", f.Name, f.Type)
		}
		switch enc {
		case parquet.Encodings.Plain:
		case parquet.Encodings.DeltaBinaryPacked:
			if c.kind != kindInt32 && c.kind != kindInt64 {
				return nil, fmt.Errorf("pqwrite: field %s: delta encoding of %s", f.Name, f.Type)
			}
			c.delta = true
		default:
			return nil, fmt.Errorf("pqwrite: field %s: encoding %s", f.Name, enc)
		}
	}
	return cols, nil
}

// AppendKeyValueMetadata adds a key-value pair to the footer.
func (w *Writer) AppendKeyValueMetadata(key, value string) error {
	return w.kv.Append(key, value)
}

// WriteRowGroup writes rec as one row group. Its columns must have the
// file's types; its fields' nullability may differ (a column stored
// optional may come from a required field).
func (w *Writer) WriteRowGroup(rec arrow.Record) error {
	if w.closed {
		return fmt.Errorf("pqwrite: writing a closed file")
	}
	if int(rec.NumCols()) != len(w.cols) {
		return fmt.Errorf("pqwrite: record of %d columns for a file of %d", rec.NumCols(), len(w.cols))
	}
	for i, f := range w.schema.Fields() {
		if !arrow.TypeEqual(rec.Column(i).DataType(), f.Type) {
			return fmt.Errorf("pqwrite: column %s is %s, not the file's %s", f.Name, rec.Column(i).DataType(), f.Type)
		}
		if !f.Nullable && rec.Column(i).NullN() > 0 {
			return fmt.Errorf("pqwrite: column %s holds nulls but is stored required", f.Name)
		}
	}
	// A builder of its own per row group: the footer keeps only its bytes.
	fb := metadata.NewFileMetadataBuilder(w.descr, w.props, nil)
	rg := fb.AppendRowGroup()
	ordinal := int16(w.footer.rowGroups)
	var written int64
	for i := range w.cols {
		n, err := w.writeChunk(rg, ordinal, i, rec.Column(i))
		if err != nil {
			return fmt.Errorf("pqwrite: column %s: %w", w.schema.Field(i).Name, err)
		}
		written += n
	}
	rg.SetNumRows(int(rec.NumRows()))
	if err := rg.Finish(written, ordinal); err != nil {
		return err
	}
	return w.footer.add(fb)
}

// writeChunk writes column i's chunk of a row group and returns the bytes
// of its pages.
func (w *Writer) writeChunk(rg *metadata.RowGroupMetaDataBuilder, ordinal int16, i int, arr arrow.Array) (int64, error) {
	c := &w.cols[i]
	cm := rg.NextColumnChunk()
	path := c.descr.Path()
	codec, level := w.props.CompressionFor(path), w.props.CompressionLevelFor(path)
	var err error
	if w.pager == nil {
		w.pager, err = file.NewPageWriter(&w.sink, codec, level, cm, ordinal, int16(i), w.props.Allocator(), false, nil, nil)
	} else {
		err = w.pager.Reset(&w.sink, codec, level, cm, ordinal, int16(i), nil, nil)
	}
	if err != nil {
		return 0, err
	}
	hasDict := c.kind == kindDict
	if arr.Len() == 0 {
		// As Arrow: no data page; a dictionary column keeps its (empty) dictionary page.
		var n int64
		if hasDict {
			if n, err = w.pager.WriteDictionaryPage(file.NewDictionaryPage(memory.NewBufferBytes(nil), 0, w.props.DictionaryPageEncoding())); err != nil {
				return 0, err
			}
		}
		return n, w.pager.Close(hasDict, false)
	}
	ch := c.encode(arr, w.scratch)
	var written int64
	if hasDict {
		dp := file.NewDictionaryPage(memory.NewBufferBytes(ch.dict), int32(ch.dictLen), w.props.DictionaryPageEncoding())
		n, err := w.pager.WriteDictionaryPage(dp)
		dp.Release()
		if err != nil {
			return 0, err
		}
		written += n
	}
	s := w.scratch
	data := ch.page
	if codec != compress.Codecs.Uncompressed {
		s.comp.Reset()
		data = w.pager.Compress(&s.comp, ch.page)
	}
	enc := parquet.Encodings.Plain
	switch {
	case hasDict:
		enc = w.props.DictionaryIndexEncoding()
	case c.delta:
		enc = parquet.Encodings.DeltaBinaryPacked
	}
	stats := c.stats(ch, w.props)
	page := file.NewDataPageV1WithStats(memory.NewBufferBytes(data), int32(ch.rows), enc, parquet.Encodings.RLE, parquet.Encodings.RLE, int32(len(ch.page)), stats)
	n, err := w.pager.WriteDataPage(page)
	page.Release()
	if err != nil {
		return 0, err
	}
	written += n
	// The builder keeps the statistics until the footer: they must not
	// share the scratch buffers.
	stats.Min, stats.Max = bytes.Clone(stats.Min), bytes.Clone(stats.Max)
	cm.SetStats(stats)
	return written, w.pager.Close(hasDict, false)
}

// Close writes the footer. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	scratches.Put(w.scratch)
	w.scratch = nil
	b, err := w.footer.encode(metadata.NewFileMetadataBuilder(w.descr, w.props, w.kv))
	if err != nil {
		return err
	}
	_, err = w.sink.Write(append(binary.LittleEndian.AppendUint32(b, uint32(len(b))), magic...))
	return err
}
