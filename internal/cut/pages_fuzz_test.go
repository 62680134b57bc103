package cut

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// damagedPagesTable is the table FuzzReadDamagedPages damages: one row
// group of 3,000 rows, one page a column; record_line is delta-packed.
func damagedPagesTable(t testing.TB) (*arrow.Schema, []byte) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: dflow.ColSourceFileID, Type: arrow.BinaryTypes.String},
		{Name: dflow.ColRecordLine, Type: arrow.PrimitiveTypes.Int64},
		{Name: dflow.ColParentLine, Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "serial", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := 0; i < 3000; i++ {
		b.Field(0).(*array.StringBuilder).Append([]string{"F1", "F2"}[i/1000%2])
		b.Field(1).(*array.Int64Builder).Append(int64(i*3 + 2))
		if i%5 == 1 {
			b.Field(2).AppendNull()
			b.Field(3).AppendNull()
			continue
		}
		b.Field(2).(*array.Int64Builder).Append(int64(i / 3))
		b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("S%09d", i*7919%1000003))
	}
	rec := b.NewRecord()
	defer rec.Release()
	return schema, writeTable(t, rec)
}

// A table whose page bytes are damaged (the footer left whole, so the
// pages are walked) reads as an error or as values, never a panic or a
// hang: the page walkers decode bytes from files, and Read has Arrow's
// column readers decode them.
func FuzzReadDamagedPages(f *testing.F) {
	schema, valid := damagedPagesTable(f)
	// The pages lie between the magic "PAR1" and the footer.
	footer := int(binary.LittleEndian.Uint32(valid[len(valid)-8:]))
	pages := len(valid) - 8 - footer - 4
	f.Add(uint32(0), []byte{0xff})
	f.Add(uint32(17), []byte{0x80, 0x00, 0x7f})
	f.Add(uint32(pages/2), []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(uint32(pages-3), []byte{0xff, 0xff, 0xff})
	fuzzFlips(f, schema, valid, 4, pages)
}

// fuzzFlips fuzzes reading valid with bytes of [from, from+span) flipped
// (the fuzzer's flip, xored from its offset at on): the table is read
// every way a reader of published tables reads one. An error is fine; a
// panic, a hang or memory out of proportion to the file is not. While
// fuzzing, an input that takes seconds is a finding too (a damaged delta
// header took Arrow a minute and a half); the seed runs of go test are
// not timed.
func fuzzFlips(f *testing.F, schema *arrow.Schema, valid []byte, from, span int) {
	fuzzing := flag.Lookup("test.fuzz").Value.String() != ""
	f.Fuzz(func(t *testing.T, at uint32, flip []byte) {
		if fuzzing {
			start := time.Now()
			defer func() {
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("an input took %v", d)
				}
			}()
		}
		data := bytes.Clone(valid)
		for i, x := range flip {
			data[from+(int(at)+i)%span] ^= x
		}
		ctx := context.Background()
		r, err := openTableBytes(t, data, memory.DefaultAllocator, pqarrow.ArrowReadProperties{BatchSize: 1024})
		if err != nil {
			return
		}
		defer r.Close()
		for rg := 0; rg < r.PF.NumRowGroups(); rg++ {
			rows := []int32{0, 1, 2, 999, 1000, 2999}
			if out, err := r.ReadRows(ctx, rg, rows, schema); err == nil {
				out.Release()
			}
			for c := 0; c < r.PF.MetaData().Schema.NumColumns(); c++ {
				r.EachText(rg, c, func([]byte, bool) {})
			}
			if tbl, err := r.Read(ctx, nil, []int{rg}); err == nil {
				tbl.Release()
			}
		}
	})
}

// FuzzReadDamagedFooter damages the footer (the file's metadata: row
// groups, column chunks, their offsets, sizes and value counts, the
// stored Arrow schema) of the table FuzzReadDamagedPages damages.
func FuzzReadDamagedFooter(f *testing.F) {
	schema, valid := damagedPagesTable(f)
	footer := int(binary.LittleEndian.Uint32(valid[len(valid)-8:]))
	start := len(valid) - 8 - footer
	f.Add(uint32(0), []byte{0xff})
	f.Add(uint32(footer/2), []byte{0x7f})
	f.Add(uint32(footer-2), []byte{0x01, 0x01})
	fuzzFlips(f, schema, valid, start, footer)
}
