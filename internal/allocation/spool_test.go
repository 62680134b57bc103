package allocation

import (
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Rows spooled in many small adds, across budget flushes, read back whole
// (a pack's Parquet table) in their order within each source file, and by
// source file (a pack's D-flow file) exactly that file's rows, in order.
func TestSpoolKeepsEveryRowInOrder(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: dflow.ColSourceFileID, Type: arrow.BinaryTypes.String},
		{Name: dflow.ColRecordLine, Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	dir := t.TempDir()
	sp := newSourceSpool(dir, 3)
	sp.budget = 4 << 10 // flush every few adds
	want := map[string][]int64{}
	var total int
	for batch := 0; batch < 200; batch++ {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for i := 0; i < 1+batch%7; i++ {
			fid := fmt.Sprintf("F%d", (batch+i)%3)
			line := int64(batch*10 + i + 2)
			b.Field(0).(*array.StringBuilder).Append(fid)
			b.Field(1).(*array.Int64Builder).Append(line)
			want[fid] = append(want[fid], line)
			total++
		}
		if err := sp.add(1, "mop-mtd/d0150_288", b.NewRecord()); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if err := sp.flush(); err != nil {
		t.Fatal(err)
	}
	path := spoolPath(dir, 1, 3, "mop-mtd/d0150_288")
	segs, err := indexSpool([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 10 {
		t.Fatalf("%d segments: the budget did not make the spool flush as it went", len(segs))
	}
	read := func(rd *spoolReader) map[string][]int64 {
		defer rd.close()
		got := map[string][]int64{}
		for {
			rec, err := rd.next()
			if err != nil {
				t.Fatal(err)
			}
			if rec == nil {
				return got
			}
			fids, lines := rec.Column(0).(*array.String), rec.Column(1).(*array.Int64)
			for i := 0; i < int(rec.NumRows()); i++ {
				got[fids.Value(i)] = append(got[fids.Value(i)], lines.Value(i))
			}
			rec.Release()
		}
	}
	rd, err := readSpool([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(rd); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("read whole: %v\nwant %v", got, want)
	}
	if sp.rows[spoolKey{1, "mop-mtd/d0150_288"}] != int64(total) {
		t.Errorf("counted %d rows spooled, want %d", sp.rows[spoolKey{1, "mop-mtd/d0150_288"}], total)
	}
	for fid, lines := range want {
		var mine []segment
		for _, s := range segs {
			if s.fileID == fid {
				mine = append(mine, s)
			}
		}
		got := read(newSpoolReader(mine))
		if len(got) != 1 || fmt.Sprint(got[fid]) != fmt.Sprint(lines) {
			t.Errorf("file %s read alone: %v, want %v", fid, got, lines)
		}
	}
}
