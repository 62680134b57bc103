package cut

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// TestStoredSchemaChecked: the Arrow schema our writer stores passes, and
// the same schema with its message length, its count of fields or of a
// field's metadata past its bytes does not (Arrow would allocate what they say). The body length is
// not written for a schema (flatbuffers leave out a zero): the fuzz corpus
// of FuzzReadDamagedFooter has a damaged schema of each kind it found.
func TestStoredSchemaChecked(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Int64, Metadata: arrow.NewMetadata([]string{dflow.MetaFormat}, []string{"NUM(10)"})},
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	rb.Field(0).(*array.StringBuilder).Append("x")
	rb.Field(1).(*array.Int64Builder).Append(1)
	rec := rb.NewRecord()
	defer rec.Release()
	pf, err := file.NewParquetReader(bytes.NewReader(writeTable(t, rec)))
	if err != nil {
		t.Fatal(err)
	}
	stored := pf.MetaData().KeyValueMetadata().FindValue("ARROW:schema")
	if stored == nil {
		t.Fatal("the table stores no Arrow schema")
	}
	if err := checkStoredSchema(*stored); err != nil {
		t.Fatalf("the schema our writer stores: %v", err)
	}
	msg, err := base64.StdEncoding.DecodeString(*stored)
	if err != nil || binary.LittleEndian.Uint32(msg) != 0xFFFFFFFF {
		t.Fatalf("not a framed IPC message (%v)", err)
	}
	// Where the counts are, found by the checker's own reads.
	c := &flatCheck{b: msg[8:]}
	root := c.ref(0)
	header := c.ref(c.field(root, 2))
	fields := 8 + c.ref(c.field(header, 1))
	var meta int // the custom metadata of the first field that has some
	for j := range c.u32(fields - 8) {
		f := c.ref(fields - 8 + 4 + 4*j)
		if p := c.field(f, 6); p >= 0 {
			meta = 8 + c.ref(p)
			break
		}
	}
	if c.bad || meta == 0 {
		t.Fatal("the valid message did not read")
	}
	damage := map[string]func(b []byte){
		"message length": func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 1<<30) },
		"field count":    func(b []byte) { binary.LittleEndian.PutUint32(b[fields:], 1<<28) },
		"metadata count": func(b []byte) { binary.LittleEndian.PutUint32(b[meta:], 1<<28) },
	}
	for name, hurt := range damage {
		b := bytes.Clone(msg)
		hurt(b)
		if err := checkStoredSchema(base64.StdEncoding.EncodeToString(b)); err == nil {
			t.Errorf("%s past the bytes: no error", name)
		}
	}
}
