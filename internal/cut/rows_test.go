package cut

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/compute"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

// ReadRows must give exactly the rows Arrow's own reader gives, for every
// column type a table holds (natively read or not), with nulls, across
// decode batches and row groups, for any selection.
func TestReadRowsMatchesArrowsReader(t *testing.T) {
	// Arrow's page decoders keep buffers of the reader's allocator past a
	// chunk read in part, so no checked allocator here.
	mem := memory.DefaultAllocator
	code := arrow.NewMetadata([]string{dflow.MetaFormat}, []string{"CHAR(2)"})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: dflow.ColSourceFileID, Type: arrow.BinaryTypes.String, Metadata: code},
		{Name: dflow.ColRecordLine, Type: arrow.PrimitiveTypes.Int64},
		{Name: dflow.ColParentLine, Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "serial", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "effective", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "smart", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "reading", Type: &arrow.Decimal128Type{Precision: 10, Scale: 1}, Nullable: true},
		{Name: "read_at", Type: &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}, Nullable: true},
		// required integers are delta-packed (WriterProperties): jumps of
		// every width, and wrapping ones
		{Name: "ordinal", Type: arrow.PrimitiveTypes.Int64},
		{Name: "issued", Type: arrow.FixedWidthTypes.Date32},
		{Name: "all_null", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	n := 3*RowGroupRows/2 + 17
	for i := 0; i < n; i++ {
		b.Field(0).(*array.StringBuilder).Append([]string{"F1", "F2"}[i/1000%2])
		b.Field(1).(*array.Int64Builder).Append(int64(i + 2))
		jump := int64(i*i*7919) << (i % 64)
		if i%1000 == 999 {
			jump = math.MinInt64 + int64(i)
		}
		b.Field(8).(*array.Int64Builder).Append(jump)
		b.Field(9).(*array.Date32Builder).Append(arrow.Date32(int32(i * 1_000_003)))
		b.Field(10).AppendNull()
		null := i%7 == 3
		if null {
			for c := 2; c < 8; c++ {
				b.Field(c).AppendNull()
			}
			continue
		}
		b.Field(2).(*array.Int64Builder).Append(int64(i / 3))
		b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("S%09d", i*7919%1000003))
		b.Field(4).(*array.Date32Builder).Append(arrow.Date32(18000 + i%400))
		b.Field(5).(*array.BooleanBuilder).Append(i%3 == 0)
		b.Field(6).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i * 5)))
		b.Field(7).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000 + i))
	}
	rec := b.NewRecord()
	defer rec.Release()
	ctx := context.Background()
	r, err := openTableBytes(t, writeTable(t, rec), mem, pqarrow.ArrowReadProperties{BatchSize: 64 * 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fileSchema, err := r.File.Schema()
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for rg := 0; rg < r.PF.NumRowGroups(); rg++ {
		size := int(r.PF.MetaData().RowGroup(rg).NumRows())
		every := make([]int32, size)
		for i := range every {
			every[i] = int32(i)
		}
		selections := map[string][]int32{"none": nil, "first": {0}, "last": {int32(size - 1)}, "every row": every,
			"a run across a decode batch": {rowBatch - 2, rowBatch - 1, rowBatch, rowBatch + 1}}
		var sparse, dense []int32
		for i := 0; i < size; i++ {
			if rnd.IntN(1000) == 0 {
				sparse = append(sparse, int32(i))
			}
			if rnd.IntN(3) == 0 {
				dense = append(dense, int32(i))
			}
		}
		selections["sparse"], selections["dense"] = sparse, dense
		allCols := make([]int, schema.NumFields())
		for i := range allCols {
			allCols[i] = i
		}
		whole, err := r.File.ReadRowGroups(ctx, allCols, []int{rg})
		if err != nil {
			t.Fatal(err)
		}
		for name, rows := range selections {
			got, err := r.ReadRows(ctx, rg, rows, fileSchema)
			if err != nil {
				t.Fatalf("row group %d, %s: %v", rg, name, err)
			}
			for c := 0; c < schema.NumFields(); c++ {
				all, _ := array.Concatenate(whole.Column(c).Data().Chunks(), memory.DefaultAllocator)
				ib := array.NewInt32Builder(memory.DefaultAllocator)
				ib.AppendValues(rows, nil)
				idx := ib.NewArray()
				want, err := compute.TakeArray(ctx, all, idx)
				if err != nil {
					t.Fatal(err)
				}
				if !array.Equal(got.Column(c), want) {
					t.Errorf("row group %d, %s, column %s: rows differ from Arrow's reader", rg, name, schema.Field(c).Name)
				}
				for _, a := range []arrow.Array{all, idx, want} {
					a.Release()
				}
				ib.Release()
			}
			got.Release()
		}
		whole.Release()
	}
}

// The encodings of published tables (WriterProperties: dictionary codes,
// plain text, delta-packed required integers, plain nullable ones) are
// read from the pages themselves, never handed to Arrow's reader.
func TestPublishedEncodingsReadFromPages(t *testing.T) {
	code := arrow.NewMetadata([]string{dflow.MetaFormat}, []string{"CHAR(2)"})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: dflow.ColSourceFileID, Type: arrow.BinaryTypes.String, Metadata: code},
		{Name: dflow.ColRecordLine, Type: arrow.PrimitiveTypes.Int64},
		{Name: dflow.ColParentLine, Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "serial", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "effective", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "issued", Type: arrow.FixedWidthTypes.Date32},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := 0; i < RowGroupRows+5; i++ {
		b.Field(0).(*array.StringBuilder).Append([]string{"F1", "F2"}[i/100%2])
		b.Field(1).(*array.Int64Builder).Append(int64(i))
		b.Field(5).(*array.Date32Builder).Append(arrow.Date32(18000 + i%9))
		if i%5 == 0 {
			b.Field(2).AppendNull()
			b.Field(3).AppendNull()
			b.Field(4).AppendNull()
			continue
		}
		b.Field(2).(*array.Int64Builder).Append(int64(i / 2))
		b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("S%d", i))
		b.Field(4).(*array.Date32Builder).Append(arrow.Date32(18000 + i%3))
	}
	rec := b.NewRecord()
	defer rec.Release()
	r, err := openTableBytes(t, writeTable(t, rec), memory.DefaultAllocator, pqarrow.ArrowReadProperties{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for rg := 0; rg < r.PF.NumRowGroups(); rg++ {
		for c, f := range schema.Fields() {
			var n int
			count := func() { n++ }
			if f.Type.ID() == arrow.STRING {
				err = r.eachText(rg, c, nil, func([]byte) { n++ }, count)
			} else {
				err = r.eachInt(rg, c, nil, func(int64) { n++ }, count)
			}
			if err != nil {
				t.Errorf("row group %d, column %s: %v", rg, f.Name, err)
			}
			if want := int(r.PF.MetaData().RowGroup(rg).NumRows()); n != want {
				t.Errorf("row group %d, column %s: %d rows, want %d", rg, f.Name, n, want)
			}
		}
	}
}

// openTableBytes opens a table file holding data through a directory
// store of the test's own.
func openTableBytes(t testing.TB, data []byte, mem memory.Allocator, props pqarrow.ArrowReadProperties) (*Reader, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "t.parquet"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return OpenTable(context.Background(), st, "t.parquet", mem, props)
}
