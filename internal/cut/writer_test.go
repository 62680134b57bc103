package cut

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// allKindsSchema has a column of every type and encoding the tools
// publish: dictionary codes (required and optional), plain text, delta and
// plain integers and dates, timestamps in seconds, flags and decimals;
// and timestamps in milli- and microseconds, which pqwrite writes too.
func allKindsSchema() *arrow.Schema {
	code := arrow.NewMetadata([]string{dflow.MetaFormat}, []string{"CHAR(2)"})
	return arrow.NewSchema([]arrow.Field{
		{Name: dflow.ColSourceFileID, Type: arrow.BinaryTypes.String},
		{Name: dflow.ColRecordLine, Type: arrow.PrimitiveTypes.Int64},
		{Name: "instance", Type: arrow.PrimitiveTypes.Int32},
		{Name: "status", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: code},
		{Name: "address", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "reading", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "effective", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32},
		{Name: "stamp", Type: &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "amount", Type: &arrow.Decimal128Type{Precision: 10, Scale: 1}, Nullable: true},
		{Name: "big", Type: &arrow.Decimal128Type{Precision: 38, Scale: 0}, Nullable: true},
		{Name: "stamp_ms", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
		{Name: "stamp_us", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	}, nil)
}

// randomRecord fills allKindsSchema with n rows drawn from r: runs,
// repeats, nulls at a rate of nulls (0 to 1), extreme integers, negative
// decimals, empty and over-long text.
func randomRecord(r *rand.Rand, n int, nulls float64) arrow.Record {
	b := array.NewRecordBuilder(memory.DefaultAllocator, allKindsSchema())
	defer b.Release()
	null := func() bool { return r.Float64() < nulls }
	line := r.Int64N(1 << 40)
	for i := 0; i < n; i++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("F%d", r.IntN(3)))
		line += r.Int64N(5) - 1
		if r.IntN(1000) == 0 {
			line = r.Int64() // a delta past 63 bits
		}
		b.Field(1).(*array.Int64Builder).Append(line)
		b.Field(2).(*array.Int32Builder).Append(int32(r.Uint32()) >> r.IntN(32))
		if null() {
			b.Field(3).AppendNull()
		} else if r.IntN(40) == 0 {
			b.Field(3).(*array.StringBuilder).Append("") // left out of a dictionary's statistics
		} else {
			b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("%c%c", 'A'+r.IntN(26), 'A'+r.IntN(2)))
		}
		switch {
		case null():
			b.Field(4).AppendNull()
		case r.IntN(5000) == 0:
			b.Field(4).(*array.StringBuilder).Append(strings.Repeat("x", 4097)) // past the statistics limit
		case r.IntN(50) == 0:
			b.Field(4).(*array.StringBuilder).Append("")
		default:
			b.Field(4).(*array.StringBuilder).Append(fmt.Sprintf("%d \xff Street %x", r.IntN(300), r.Uint32()))
		}
		if null() {
			b.Field(5).AppendNull()
		} else {
			b.Field(5).(*array.Int64Builder).Append(r.Int64() >> r.IntN(64))
		}
		if null() {
			b.Field(6).AppendNull()
		} else {
			b.Field(6).(*array.Date32Builder).Append(arrow.Date32(r.Int32N(40000) - 20000))
		}
		b.Field(7).(*array.Date32Builder).Append(arrow.Date32(20000 + i/100))
		if null() {
			b.Field(8).AppendNull()
		} else {
			b.Field(8).(*array.TimestampBuilder).Append(arrow.Timestamp(r.Int64N(4e9) - 1e9))
		}
		if null() {
			b.Field(9).AppendNull()
		} else {
			b.Field(9).(*array.BooleanBuilder).Append(r.IntN(3) == 0)
		}
		if null() {
			b.Field(10).AppendNull()
		} else {
			b.Field(10).(*array.Decimal128Builder).Append(decimal128.FromI64(r.Int64N(2e9) - 1e9))
		}
		if null() {
			b.Field(11).AppendNull()
		} else {
			b.Field(11).(*array.Decimal128Builder).Append(decimal128.New(r.Int64()>>r.IntN(64), r.Uint64()))
		}
		if null() {
			b.Field(12).AppendNull()
		} else {
			b.Field(12).(*array.TimestampBuilder).Append(arrow.Timestamp(r.Int64() >> r.IntN(64)))
		}
		b.Field(13).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(i) * 1e6))
	}
	return b.NewRecord()
}

// writeBoth writes recs through NewParquetWriter and through Arrow's own
// writer.
func writeBoth(t testing.TB, recs ...arrow.Record) (ours, arrows []byte) {
	t.Helper()
	write := func(open func(*arrow.Schema, *bytes.Buffer) (*ParquetWriter, error)) []byte {
		var buf bytes.Buffer
		w, err := open(recs[0].Schema(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		w.AppendKeyValueMetadata("k", "v")
		for _, rec := range recs {
			if err := WriteRecord(w, rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	ours = write(func(s *arrow.Schema, b *bytes.Buffer) (*ParquetWriter, error) {
		w, err := NewParquetWriter(s, b, "test")
		if err == nil && w.own == nil {
			t.Fatal("NewParquetWriter chose Arrow's writer for a schema of the tools")
		}
		return w, err
	})
	arrows = write(func(s *arrow.Schema, b *bytes.Buffer) (*ParquetWriter, error) {
		return newArrowParquetWriter(s, b, "test")
	})
	return ours, arrows
}

// The pages pqwrite encodes itself make the very file Arrow's writer
// makes, byte for byte: every type and encoding, nulls none to all, empty
// records, several row groups and records sliced at an offset.
func TestParquetWriterAsArrow(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		rows  []int
		nulls float64
	}{
		{[]int{0}, 0}, {[]int{1}, 0}, {[]int{1}, 1}, {[]int{7, 9}, 0.5},
		{[]int{RowGroupRows + 1000}, 0.1}, {[]int{3000}, 1}, {[]int{5000}, 0}, {[]int{2000, 0, 300}, 0.02},
	} {
		var recs []arrow.Record
		for _, n := range c.rows {
			rec := randomRecord(r, n+5, c.nulls)
			defer rec.Release()
			part := rec.NewSlice(5, int64(n+5)) // an offset into the buffers
			defer part.Release()
			recs = append(recs, part)
		}
		ours, arrows := writeBoth(t, recs...)
		if !bytes.Equal(ours, arrows) {
			t.Errorf("rows %v, nulls %.2f: %d bytes, Arrow's writer %d bytes, and they differ at byte %d", c.rows, c.nulls, len(ours), len(arrows), firstDiff(ours, arrows))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func FuzzParquetWriterAsArrow(f *testing.F) {
	f.Add(uint64(1), uint16(100), uint8(10))
	f.Add(uint64(2), uint16(0), uint8(0))
	f.Add(uint64(3), uint16(9000), uint8(255))
	f.Fuzz(func(t *testing.T, seed uint64, rows uint16, nullRate uint8) {
		rec := randomRecord(rand.New(rand.NewPCG(seed, 0)), int(rows), float64(nullRate)/255)
		defer rec.Release()
		ours, arrows := writeBoth(t, rec)
		if !bytes.Equal(ours, arrows) {
			t.Fatalf("%d bytes, Arrow's writer %d bytes, and they differ at byte %d", len(ours), len(arrows), firstDiff(ours, arrows))
		}
	})
}

// BenchmarkParquetWriter writes 4 row groups of allKindsSchema (a tenth
// null) through pqwrite and through Arrow's writer.
func BenchmarkParquetWriter(b *testing.B) {
	rec := randomRecord(rand.New(rand.NewPCG(1, 2)), 4*RowGroupRows, 0.1)
	defer rec.Release()
	for _, w := range []struct {
		name string
		open func(*arrow.Schema, *bytes.Buffer) (*ParquetWriter, error)
	}{
		{"pqwrite", func(s *arrow.Schema, buf *bytes.Buffer) (*ParquetWriter, error) {
			return NewParquetWriter(s, buf, "bench")
		}},
		{"arrow", func(s *arrow.Schema, buf *bytes.Buffer) (*ParquetWriter, error) {
			return newArrowParquetWriter(s, buf, "bench")
		}},
	} {
		b.Run(w.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				pw, err := w.open(rec.Schema(), &buf)
				if err != nil {
					b.Fatal(err)
				}
				if err := WriteRecord(pw, rec); err != nil {
					b.Fatal(err)
				}
				if err := pw.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(buf.Len()))
		})
	}
}

// An open file's footer grows by its row groups' encoded metadata only:
// Arrow's builder kept about 600 bytes of Go structs per column chunk until
// the file closed, which grew the writer of a table of 10^8 rows by tens
// of MB. Measured as the heap the open writer holds after 1,000 row groups.
func TestParquetWriterFooterHeldAsBytes(t *testing.T) {
	rec := randomRecord(rand.New(rand.NewPCG(3, 4)), 20, 0.1)
	defer rec.Release()
	w, err := NewParquetWriter(rec.Schema(), io.Discard, "test")
	if err != nil {
		t.Fatal(err)
	}
	const groups = 1000
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	if err := WriteRecord(w, rec); err != nil { // buffers and scratch at their size
		t.Fatal(err)
	}
	before := heap()
	for range groups - 1 {
		if err := WriteRecord(w, rec); err != nil {
			t.Fatal(err)
		}
	}
	grown := int64(heap()) - int64(before)
	perChunk := float64(grown) / float64((groups-1)*len(rec.Schema().Fields()))
	runtime.KeepAlive(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes held per column chunk", int(perChunk))
	if perChunk > 300 {
		t.Errorf("the open writer holds %.0f bytes per column chunk written; its footer's encoded metadata is about 150", perChunk)
	}
}
