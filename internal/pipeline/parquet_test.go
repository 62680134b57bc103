package pipeline

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
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
		var buf bytes.Buffer
		w, err := pqarrow.NewFileWriter(schema, &buf, WriterProperties(schema, "test"), pqarrow.DefaultWriterProps())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
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
