package cut

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Dictionaries only for short codes: a column of unique values written
// with a dictionary overflows it, and then the file's bytes vary run to run
// (Arrow lists the fallback's page encodings in map order).
func TestWriterPropertiesKeepDictionariesToCodes(t *testing.T) {
	code := arrow.NewMetadata([]string{dflow.MetaFormat}, []string{"CHAR(4)"})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: dflow.ColSourceFileID, Type: arrow.BinaryTypes.String},
		{Name: "supplier", Type: arrow.BinaryTypes.String, Metadata: code},
		{Name: "mpan_core", Type: arrow.BinaryTypes.String},
	}, nil)
	write := func() []byte {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		for i := 0; i < 3*RowGroupRows/2; i++ {
			b.Field(0).(*array.StringBuilder).Append("F1")
			b.Field(1).(*array.StringBuilder).Append([]string{"SUPA", "SUPB", "SUPC"}[i%3])
			b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("%013d", i*7919))
		}
		rec := b.NewRecord()
		defer rec.Release()
		return writeTable(t, rec)
	}
	out := write()
	pf, err := file.NewParquetReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRowGroups() != 2 {
		t.Errorf("%d row groups, want 2 of at most %d rows", pf.NumRowGroups(), RowGroupRows)
	}
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		for c, wantDict := range []bool{true, true, false} {
			cc, err := pf.MetaData().RowGroup(rg).ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			dict, plain := false, false
			for _, e := range cc.EncodingStats() {
				switch {
				case e.PageType == 2: // dictionary page
				case e.Encoding == parquet.Encodings.RLEDict || e.Encoding == parquet.Encodings.PlainDict:
					dict = true
				case e.Encoding == parquet.Encodings.Plain:
					plain = true
				}
			}
			if dict != wantDict || plain == wantDict {
				t.Errorf("row group %d column %s: dictionary data pages %v, plain data pages %v; want dictionary only %v", rg, cc.PathInSchema(), dict, plain, wantDict)
			}
		}
	}
	if !bytes.Equal(out, write()) {
		t.Error("the same rows wrote different bytes")
	}
}

// Arrow keeps a row group's last column open until the next row group
// starts, its statistics pointing into values of a record the writer has
// already released: if column buffers are ever reused, this catches it.
// Statistics of every row group must describe that row group's values.
func TestTableFileStatisticsSurviveRecycledBuffers(t *testing.T) {
	fields := []dflow.Field{{Ref: "J0080", Name: "Energisation Status", Format: dflow.Format{Kind: dflow.KindChar, Width: 1}, Item: &dflow.Item{Type: dflow.TypeString}}}
	schema := dflow.TableSchema([]string{"energisation_status"}, fields, arrow.Metadata{})
	tf, err := CreateTableFile(t.TempDir(), "t", schema, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Discard()
	tb := dflow.NewTableBuilder(schema)
	want := [][2]string{}
	for batch, codes := range []string{"DE", "EF", "AB", "XY"} {
		for i := 0; i < 1000; i++ {
			dflow.AppendLineage(tb.Columns(), "F1", i+1, 0, i+1, []byte("1012345678903"))
			tb.Columns()[dflow.LineageColumns].Bytes([]byte{codes[i%2]})
		}
		rec := tb.NewRecord()
		if err := tf.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release() // as the writer goroutine does: the buffers may now be reused
		want = append(want, [2]string{codes[:1], codes[1:]})
		_ = batch
	}
	if err := tf.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := file.OpenParquetFile(tf.Path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		cc, _ := pf.MetaData().RowGroup(rg).ColumnChunk(dflow.LineageColumns)
		st, err := cc.Statistics()
		if err != nil || st == nil || !st.HasMinMax() {
			t.Fatalf("row group %d: no statistics (%v)", rg, err)
		}
		bs := st.(*metadata.ByteArrayStatistics)
		if got := [2]string{string(bs.Min()), string(bs.Max())}; got != want[rg] {
			t.Errorf("row group %d: min/max %q, want %q", rg, got, want[rg])
		}
	}
}

// Lines and instance ordinals are delta-encoded; nullable integers are
// not, because Arrow v15's delta encoder panics on a page that starts with
// nulls (apache/arrow#35718). A table whose parent_line is all null (every
// level-1 group) must write and read back.
func TestWriterPropertiesDeltaEncodeLineage(t *testing.T) {
	schema := dflow.TableSchema(nil, nil, arrow.Metadata{})
	tb := dflow.NewTableBuilder(schema)
	for i := 0; i < 3000; i++ {
		dflow.AppendLineage(tb.Columns(), "F1", 3*i+2, 0, i+1, []byte("1012345678903"))
	}
	rec := tb.NewRecord()
	defer rec.Release()
	pf, err := file.NewParquetReader(bytes.NewReader(writeTable(t, rec)))
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[int]bool{1: true, 2: false, 3: true} { // record_line, parent_line, instance
		cc, _ := pf.MetaData().RowGroup(0).ColumnChunk(c)
		delta := false
		for _, e := range cc.Encodings() {
			delta = delta || e == parquet.Encodings.DeltaBinaryPacked
		}
		if delta != want {
			t.Errorf("column %s: delta encoded %v, want %v", cc.PathInSchema(), delta, want)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	for i := 0; i < int(rec.NumCols()); i++ {
		if !array.Equal(got.Column(i).Data().Chunk(0), rec.Column(i)) {
			t.Errorf("column %s reads back different", rec.ColumnName(i))
		}
	}
}

// writeTable writes a record as a Parquet file with WriterProperties.
func writeTable(t testing.TB, rec arrow.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewParquetWriter(rec.Schema(), &buf, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteRecord(w, rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// WriteRecord hands code columns to Arrow as ready-made dictionaries; the
// file must be the very one Arrow's own Write makes, byte for byte (same
// dictionary order, pages and statistics), across row groups and write
// batches, with and without nulls: Arrow v15 breaks on a nullable
// dictionary column without nulls past its first write batch
// (apache/arrow#39925) unless the chunks match the batches, and miscounts
// the statistics of a required one (so source_file_id is stored optional).
func TestWriteRecordMatchesArrowsWrite(t *testing.T) {
	code := arrow.NewMetadata([]string{dflow.MetaFormat}, []string{"CHAR(2)"})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: dflow.ColSourceFileID, Type: arrow.BinaryTypes.String},
		{Name: "status", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: code},
		{Name: "rare", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: code},
		{Name: "class", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: code}, // never null
		{Name: "mpan_core", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	n := RowGroupRows + 3*writeBatch + 77
	for i := 0; i < n; i++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("F%d", i/5000))
		if i%7 == 3 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("%c%c", 'A'+i*31%26, 'A'+i%3))
		}
		if i%1000 == 999 {
			b.Field(2).(*array.StringBuilder).Append("Z9")
		} else {
			b.Field(2).AppendNull()
		}
		b.Field(3).(*array.StringBuilder).Append([]string{"01", "02", "05"}[i%3])
		b.Field(4).(*array.StringBuilder).Append(fmt.Sprintf("%013d", i*7919))
	}
	rec := b.NewRecord()
	defer rec.Release()
	// Arrow's Write, on the same columns under the schema as stored.
	var buf bytes.Buffer
	stored := StoredSchema(schema)
	w, err := pqarrow.NewFileWriter(stored, &buf, WriterProperties(schema, "test"), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	arrowRec := array.NewRecord(stored, rec.Columns(), rec.NumRows())
	defer arrowRec.Release()
	if err := w.Write(arrowRec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ours := writeTable(t, rec)
	if !bytes.Equal(ours, buf.Bytes()) {
		t.Fatalf("WriteRecord wrote %d bytes that differ from Arrow's Write (%d bytes)", len(ours), buf.Len())
	}
	pf, err := file.NewParquetReader(bytes.NewReader(ours))
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := pf.MetaData().RowGroup(0).ColumnChunk(1)
	if st, _ := cc.Statistics(); st == nil || st.NullCount() != int64((RowGroupRows+3)/7) {
		t.Errorf("status statistics %v, want %d nulls", st, (RowGroupRows+3)/7)
	}
}
