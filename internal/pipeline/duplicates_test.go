package pipeline

import (
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Units spooled and sorted in many runs (each read and written back in
// parts), then merged: every unit seen again is found, with the place it
// was first seen, and nothing else.
func TestUnitCheckAcrossSortRuns(t *testing.T) {
	defer func(n int64, k int) { sortRun, ioUnits = n, k }(sortRun, ioUnits)
	sortRun, ioUnits = 64, 5
	u := newUnitCheck(map[string]bool{"d0150_288": true}, t.TempDir())
	defer u.discard()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: dflow.ColSourceFileID, Type: arrow.BinaryTypes.String},
		{Name: dflow.ColRecordLine, Type: arrow.PrimitiveTypes.Int64},
		{Name: dflow.ColInstanceMPAN, Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	feed := func(table, file string, mpans []string) {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		for i, m := range mpans {
			b.Field(0).(*array.StringBuilder).Append(file)
			b.Field(1).(*array.Int64Builder).Append(int64(i + 2))
			if m == "" {
				b.Field(2).AppendNull()
			} else {
				b.Field(2).(*array.StringBuilder).Append(m)
			}
		}
		rec := b.NewRecord()
		defer rec.Release()
		u.see(table, rec)
	}
	var first, second []string
	for i := 0; i < 1000; i++ {
		first = append(first, fmt.Sprintf("M%06d", i))
	}
	for i := 0; i < 300; i++ {
		second = append(second, fmt.Sprintf("N%06d", i))
	}
	second[10], second[200], second[201] = "M000005", "M000999", "" // two again, one without an MPAN
	second = append(second, "N000000")                              // and one again within the file
	feed("d0150_288", "F1", first)
	feed("d0150_288", "F2", second)
	feed("d0150_300", "F2", first) // not a unit table: never counted
	got, err := u.result([]cut.Input{{Key: "inbox/M/c/s/one.dat", FileID: "F1"}, {Key: "inbox/M/c/s/two.dat", FileID: "F2"}})
	if err != nil || got == nil {
		t.Fatalf("%+v %v", got, err)
	}
	want := []cut.DuplicateUnit{
		{Table: "d0150_288", First: cut.Location{Input: "one.dat", Line: 7}, Again: cut.Location{Input: "two.dat", Line: 12}},
		{Table: "d0150_288", First: cut.Location{Input: "one.dat", Line: 1001}, Again: cut.Location{Input: "two.dat", Line: 202}},
		{Table: "d0150_288", First: cut.Location{Input: "two.dat", Line: 2}, Again: cut.Location{Input: "two.dat", Line: 302}},
	}
	if got.Count != len(want) || fmt.Sprint(got.Listed) != fmt.Sprint(want) {
		t.Fatalf("found %d: %+v\nwant %+v", got.Count, got.Listed, want)
	}
}
