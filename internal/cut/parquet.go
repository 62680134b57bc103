package cut

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/columns"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/pqwrite"
)

// RowGroupRows is the row group size of published tables: large enough for
// scans, small enough to bound memory while writing.
const RowGroupRows = 64 * 1024

// TableFile is a Parquet table being written to a spool file. Each Write
// of a record adds row groups; the footer is written at Close, and the
// file stays at Path for publishing until Discard.
type TableFile struct {
	Name, Path string
	Schema     *arrow.Schema
	Rows       int64
	f          *os.File
	buf        *bufio.Writer
	w          *ParquetWriter
}

// CreateTableFile starts a table file in dir, with meta as the file's
// key-value metadata (in key order).
func CreateTableFile(dir, name string, schema *arrow.Schema, meta map[string]string, createdBy string) (*TableFile, error) {
	return CreateTableFileBuffer(dir, name, schema, meta, createdBy, 1<<20)
}

// CreateTableFileBuffer is CreateTableFile with a write buffer of the given
// size: a small table (a few thousand rows) needs no megabyte.
func CreateTableFileBuffer(dir, name string, schema *arrow.Schema, meta map[string]string, createdBy string, buffer int) (*TableFile, error) {
	f, err := os.CreateTemp(dir, "table-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("creating spool for table %s: %w", name, err)
	}
	t := &TableFile{Name: name, Path: f.Name(), Schema: schema, f: f, buf: bufio.NewWriterSize(f, buffer)}
	t.w, err = NewParquetWriter(schema, t.buf, createdBy)
	if err != nil {
		t.Discard()
		return nil, fmt.Errorf("table %s: %w", name, err)
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys) // map order would make the bytes differ run to run
	for _, k := range keys {
		t.w.AppendKeyValueMetadata(k, meta[k])
	}
	return t, nil
}

// Write appends rec, whose schema must be the file's.
func (t *TableFile) Write(rec arrow.Record) error {
	if err := WriteRecord(t.w, rec); err != nil {
		return fmt.Errorf("writing table %s: %w", t.Name, err)
	}
	t.Rows += rec.NumRows()
	return nil
}

// Close finishes the file; it stays in the spool for publishing.
func (t *TableFile) Close() error {
	err := t.w.Close()
	if err == nil {
		err = t.buf.Flush()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	t.f = nil
	return err
}

// Discard abandons the file and removes it.
func (t *TableFile) Discard() {
	if t.f != nil {
		t.f.Close()
	}
	os.Remove(t.Path)
}

// ParquetWriter writes a Parquet file of records: through pqwrite, which
// encodes pages itself, or, for a schema pqwrite does not write, through
// Arrow's pqarrow writer. The files are the same byte for byte
// (TestParquetWriterAsArrow).
type ParquetWriter struct {
	own   *pqwrite.Writer
	arrow *pqarrow.FileWriter
}

// NewParquetWriter starts a Parquet file of records of schema, with
// WriterProperties and the Arrow schema stored; write with WriteRecord.
func NewParquetWriter(schema *arrow.Schema, w io.Writer, createdBy string) (*ParquetWriter, error) {
	stored, props := StoredSchema(schema), WriterProperties(schema, createdBy)
	if !pqwrite.Supports(stored, props) {
		return newArrowParquetWriter(schema, w, createdBy)
	}
	own, err := pqwrite.NewWriter(stored, w, props)
	if err != nil {
		return nil, err
	}
	return &ParquetWriter{own: own}, nil
}

// newArrowParquetWriter is NewParquetWriter through Arrow's writer.
func newArrowParquetWriter(schema *arrow.Schema, w io.Writer, createdBy string) (*ParquetWriter, error) {
	aw, err := pqarrow.NewFileWriter(StoredSchema(schema), w, WriterProperties(schema, createdBy), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, err
	}
	return &ParquetWriter{arrow: aw}, nil
}

// AppendKeyValueMetadata adds a key-value pair to the file's footer.
func (w *ParquetWriter) AppendKeyValueMetadata(key, value string) error {
	if w.own != nil {
		return w.own.AppendKeyValueMetadata(key, value)
	}
	return w.arrow.AppendKeyValueMetadata(key, value)
}

// Close writes the footer; the underlying writer stays open.
func (w *ParquetWriter) Close() error {
	if w.own != nil {
		return w.own.Close()
	}
	return w.arrow.Close()
}

// StoredSchema is the schema as stored (and as a reader sees it): dictionary-encoded string columns are
// optional even when they never hold nulls (source_file_id), because Arrow
// v15 handed a dictionary for a required column counts its values twice
// and its nulls negative in the statistics.
func StoredSchema(schema *arrow.Schema) *arrow.Schema {
	fields := schema.Fields()
	for i, f := range fields {
		if f.Type.ID() == arrow.STRING && lowCardinality(f) {
			fields[i].Nullable = true
		}
	}
	md := schema.Metadata()
	return arrow.NewSchema(fields, &md)
}

// WriteRecord writes a record as row groups of at most RowGroupRows. w
// must come from NewParquetWriter with rec's schema (this is not checked).
func WriteRecord(w *ParquetWriter, rec arrow.Record) error {
	for off := int64(0); off < rec.NumRows() || off == 0; off += RowGroupRows {
		part := rec.NewSlice(off, min(off+RowGroupRows, rec.NumRows()))
		var err error
		if w.own != nil {
			err = w.own.WriteRowGroup(part)
		} else {
			err = writeRowGroup(w.arrow, part)
		}
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// writeBatch is the rows Arrow's writer takes at a time: a whole row group,
// rather than Arrow's 1024, spares it per-batch work on every column. It
// checks page sizes between batches, so a page holds at most a row group,
// and dictionary columns arrive in chunks of this size (columns.Dictionary
// says why).
const writeBatch = RowGroupRows

// writeRowGroup writes a row group through Arrow's writer. The string
// columns to be dictionary encoded (WriterProperties) reach it already as
// dictionaries, so the writer stores our dictionary and indices instead
// of hashing every value through its interface-boxing encoder. The pages
// are the same: both number the values in order of first appearance.
func writeRowGroup(w *pqarrow.FileWriter, rec arrow.Record) error {
	w.NewRowGroup()
	for i, f := range rec.Schema().Fields() {
		col := rec.Column(i)
		s, ok := col.(*array.String)
		if !ok || !lowCardinality(f) {
			if err := w.WriteColumnData(col); err != nil {
				return err
			}
			continue
		}
		chunks := columns.Dictionary(s, writeBatch)
		c := arrow.NewChunked(columns.DictType, chunks)
		err := w.WriteColumnChunked(c, 0, int64(s.Len()))
		c.Release()
		for _, a := range chunks {
			a.Release()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// WriterProperties are the Parquet settings of every table the tools write:
// Snappy, row groups of RowGroupRows, and dictionary encoding only for
// short codes. A dictionary that overflows falls back to plain pages, and
// Arrow then lists the chunk's page encodings in map order; a row group's
// dictionary of at most RowGroupRows codes of at most 8 bytes stays under
// the 1 MB limit, so the bytes of a file are the same run after run.
func WriterProperties(schema *arrow.Schema, createdBy string) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(RowGroupRows), parquet.WithCreatedBy(createdBy), parquet.WithDictionaryDefault(false),
		parquet.WithBatchSize(writeBatch)}
	for _, f := range schema.Fields() {
		switch {
		case lowCardinality(f):
			opts = append(opts, parquet.WithDictionaryFor(f.Name, true))
		case deltaPacked(f):
			opts = append(opts, parquet.WithEncodingFor(f.Name, parquet.Encodings.DeltaBinaryPacked))
		}
	}
	return parquet.NewWriterProperties(opts...)
}

// lowCardinality picks the columns worth dictionary encoding: the source
// file and short codes (MPIDs, classes, statuses). Identifiers, lines and
// free text are mostly unique: hashing them costs time and saves nothing.
func lowCardinality(f arrow.Field) bool {
	if f.Name == dflow.ColSourceFileID {
		return true
	}
	format, ok := f.Metadata.GetValue(dflow.MetaFormat)
	if !ok || f.Type.ID() != arrow.STRING {
		return false
	}
	var n int
	if _, err := fmt.Sscanf(format, "CHAR(%d)", &n); err != nil {
		return false
	}
	return n <= 8
}

// deltaPacked picks the integer columns stored as bit-packed differences:
// record lines and instance ordinals rise row by row, so they take a few
// bits a value instead of 64 (a third of a D-flow table's bytes were
// lineage numbers), which also spares Snappy and the disk. Only columns
// that cannot hold nulls: Arrow v15's delta encoder panics on a page that
// starts with nulls (apache/arrow#35718).
func deltaPacked(f arrow.Field) bool {
	switch f.Type.ID() {
	case arrow.INT32, arrow.INT64, arrow.DATE32, arrow.TIMESTAMP:
		return !f.Nullable
	}
	return false
}
