package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/pipelines"
)

// testTables is a cut's table writer over mem, with no unit check.
func testTables(t *testing.T, mem memory.Allocator) *tables {
	t.Helper()
	set, err := Load(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := mask.ParseKey(testKey)
	d := set.ByName["mop-mtd"]
	mk, err := mask.New(d.rules, key, d.resolve)
	if err != nil {
		t.Fatal(err)
	}
	return newTables(t.TempDir(), nil, mk, mem, nil)
}

var seqSchema = arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}, {Name: "text", Type: arrow.BinaryTypes.String}}, nil)

// checkedTables is testTables over an allocator that must hold nothing
// once the writer is stopped and discarded at the test's end.
func checkedTables(t *testing.T) (*memory.CheckedAllocator, *tables) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	tw := testTables(t, mem)
	t.Cleanup(tw.discard)
	t.Cleanup(tw.stop)
	return mem, tw
}

// seq is rows n = from, from+1, … with text of width bytes each.
func seq(mem memory.Allocator, from, rows int64, width int) arrow.Record {
	b := array.NewRecordBuilder(mem, seqSchema)
	defer b.Release()
	pad := strings.Repeat("x", width)
	for i := from; i < from+rows; i++ {
		b.Field(0).(*array.Int64Builder).Append(i)
		b.Field(1).(*array.StringBuilder).Append(pad)
	}
	return b.NewRecord()
}

// readBack is a closed table file's row group sizes and its n column.
func readBack(t *testing.T, path string) (groups []int64, ns []int64) {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		groups = append(groups, pf.RowGroup(rg).NumRows())
	}
	tbl := arrowTable(t, pf)
	defer tbl.Release()
	for _, c := range tbl.Column(0).Data().Chunks() {
		ns = append(ns, c.(*array.Int64).Int64Values()...)
	}
	return groups, ns
}

// arrowTable reads a whole Parquet file with Arrow's reader.
func arrowTable(t *testing.T, pf *file.Reader) arrow.Table {
	t.Helper()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// finishAndClose writes the pending rows and closes every table file.
func finishAndClose(t *testing.T, tw *tables) {
	t.Helper()
	if err := tw.finish(); err != nil {
		t.Fatal(err)
	}
	for _, f := range tw.files {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func inOrder(t *testing.T, table string, ns []int64, rows int64) {
	t.Helper()
	if int64(len(ns)) != rows {
		t.Fatalf("table %s: %d rows, want %d", table, len(ns), rows)
	}
	for i, n := range ns {
		if n != int64(i) {
			t.Fatalf("table %s: row %d holds %d", table, i, n)
		}
	}
}

// A cut sent as a hundred small files is stored in full row groups, each
// file's rows counted as its own.
func TestTablesFillRowGroupsAcrossFiles(t *testing.T) {
	mem, tw := checkedTables(t)
	for i := int64(0); i < 100; i++ {
		before := tw.rows()
		tw.sendMasked("a", seq(mem, i*1000, 1000, 4))
		tw.sendMasked("b", seq(mem, i*10, 10, 4))
		if err := tw.barrier(); err != nil {
			t.Fatal(err)
		}
		if got := since(tw.rows(), before); got["a"] != 1000 || got["b"] != 10 || len(got) != 2 {
			t.Fatalf("file %d counted as %v", i, got)
		}
	}
	finishAndClose(t, tw)
	groups, ns := readBack(t, tw.files["a"].Path)
	if fmt.Sprint(groups) != fmt.Sprint([]int64{batchRows, 100000 - batchRows}) {
		t.Fatalf("table a in row groups %v", groups)
	}
	inOrder(t, "a", ns, 100000)
	groups, ns = readBack(t, tw.files["b"].Path)
	if fmt.Sprint(groups) != "[1000]" {
		t.Fatalf("table b in row groups %v", groups)
	}
	inOrder(t, "b", ns, 1000)
}

// Rows waiting for a row group never pin more than maxPendingBytes: past
// it, the table holding most is written short.
func TestTablesBoundPendingRows(t *testing.T) {
	mem, tw := checkedTables(t)
	const rows, width = 1000, 1 << 10 // a megabyte a record
	names := []string{"x", "y", "z"}
	for i := int64(0); i < 30; i++ {
		for _, n := range names {
			tw.sendMasked(n, seq(mem, i*rows, rows, width))
		}
		if err := tw.barrier(); err != nil {
			t.Fatal(err)
		}
		if tw.held > maxPendingBytes || mem.CurrentAlloc() > 2*maxPendingBytes {
			t.Fatalf("after %d records a table: %d bytes pending, %d allocated", i+1, tw.held, mem.CurrentAlloc())
		}
	}
	finishAndClose(t, tw)
	for _, n := range names {
		groups, ns := readBack(t, tw.files[n].Path)
		if len(groups) < 2 {
			t.Fatalf("table %s in row groups %v: never written short", n, groups)
		}
		inOrder(t, n, ns, 30*rows)
	}
}

// A table of no rows is one empty row group; an empty record adds no group
// to a table that has rows, before them or after.
func TestTablesEmptyRecords(t *testing.T) {
	mem, tw := checkedTables(t)
	tw.sendMasked("none", seq(mem, 0, 0, 1))
	tw.sendMasked("none", seq(mem, 0, 0, 1))
	tw.sendMasked("some", seq(mem, 0, 0, 1))
	tw.sendMasked("some", seq(mem, 0, 5, 1))
	tw.sendMasked("some", seq(mem, 0, 0, 1))
	tw.sendMasked("some", seq(mem, 5, 5, 1))
	finishAndClose(t, tw)
	if groups, _ := readBack(t, tw.files["none"].Path); fmt.Sprint(groups) != "[0]" {
		t.Fatalf("empty table in row groups %v", groups)
	}
	groups, ns := readBack(t, tw.files["some"].Path)
	if fmt.Sprint(groups) != "[10]" {
		t.Fatalf("table in row groups %v", groups)
	}
	inOrder(t, "some", ns, 10)
}

// Pending rows of a cut given up (a broken file) are released.
func TestTablesDiscardReleasesPendingRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	tw := testTables(t, mem)
	tw.sendMasked("a", seq(mem, 0, 10, 4))
	if err := tw.barrier(); err != nil {
		t.Fatal(err)
	}
	if mem.CurrentAlloc() == 0 {
		t.Fatal("nothing pending")
	}
	tw.stop()
	tw.discard()
	mem.AssertSize(t, 0)
}

// A record of a quarter row group or more is written as it comes when
// nothing waits before it; one that follows waiting rows joins them.
func TestTablesWriteLargeRecordsAsTheyCome(t *testing.T) {
	mem, tw := checkedTables(t)
	sizes := []int64{20000, 1000, 1000, 100000, 1000, 70000}
	var at int64
	for _, n := range sizes {
		tw.sendMasked("a", seq(mem, at, n, 1))
		at += n
		if err := tw.barrier(); err != nil {
			t.Fatal(err)
		}
	}
	finishAndClose(t, tw)
	groups, ns := readBack(t, tw.files["a"].Path)
	want := []int64{20000, batchRows, batchRows, 1000 + 1000 + 100000 + 1000 + 70000 - 2*batchRows}
	if fmt.Sprint(groups) != fmt.Sprint(want) {
		t.Fatalf("row groups %v, want %v", groups, want)
	}
	inOrder(t, "a", ns, at)
}

// A few rows sliced from a large batch are held as a copy of their own,
// not by pinning the batch.
func TestTablesCopyRowsThatPinABatch(t *testing.T) {
	mem, tw := checkedTables(t)
	big := seq(mem, 0, 20000, 100) // 2 MB
	tw.sendMasked("a", big.NewSlice(19990, 20000))
	big.Release()
	if err := tw.barrier(); err != nil {
		t.Fatal(err)
	}
	if held := mem.CurrentAlloc(); held > 64<<10 {
		t.Fatalf("10 rows hold %d bytes", held)
	}
	finishAndClose(t, tw)
	if groups, ns := readBack(t, tw.files["a"].Path); fmt.Sprint(groups) != "[10]" || ns[0] != 19990 || ns[9] != 19999 {
		t.Fatalf("row groups %v, rows %v", groups, ns)
	}
}
