package allocation

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// Rows spooled in many small adds, across budget flushes, read back whole
// (a pack's Parquet table) in their order within each source file, and by
// source file (a pack's D-flow file) exactly that file's rows, in order.
func TestSpoolKeepsEveryRowInOrder(t *testing.T) {
	schema := lineSchema()
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
	if err := sp.close(); err != nil {
		t.Fatal(err)
	}
	segs := sp.segs[spoolKey{1, "mop-mtd/d0150_288"}]
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
	if got := read(newSpoolReader(segs)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("read whole: %v\nwant %v", got, want)
	}
	if sp.rows[spoolKey{1, "mop-mtd/d0150_288"}] != int64(total) {
		t.Errorf("counted %d rows spooled, want %d", sp.rows[spoolKey{1, "mop-mtd/d0150_288"}], total)
	}
	for fid, lines := range want {
		var mine []segment
		for _, s := range segs {
			if s.fileID() == fid {
				mine = append(mine, s)
			}
		}
		got := read(newSpoolReader(mine))
		if len(got) != 1 || fmt.Sprint(got[fid]) != fmt.Sprint(lines) {
			t.Errorf("file %s read alone: %v, want %v", fid, got, lines)
		}
	}
}

// Two senders may use the same source file id (it is unique only within a
// sender): a pack taking the flow from both renders a file for each, named
// by its sender, each with its own rows in order (one file of both failed:
// their lines interleave).
func TestRenderFlowKeepsSendersApart(t *testing.T) {
	f := dflow.DefaultCatalog().Versions("D0150")[0]
	g := f.TopGroups()[0]
	dir := t.TempDir()
	st, err := local.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(dir, "spool")
	pr := &packRun{st: st, plan: &plan.Plan{Name: "p", SI: "SIXX"}, sources: []universe.Source{
		{Cut: "mop-mtd", MPID: "MTRA"}, {Cut: "mop-mtd", MPID: "MTRB"}}}
	pk := &pack{index: 0, dir: filepath.Join(spool, "pack-0"), info: PackInfo{Prefix: "packs/x/", Role: "supplier", MPID: "BRGT", Rows: map[string]int64{}},
		tables: map[string][]int{}}
	table := "mop-mtd/" + strings.ToLower(f.ID) + "_" + strings.ToLower(g.Code)
	for src, lines := range [][]int64{{2, 9}, {3, 5, 7}} {
		b := array.NewRecordBuilder(memory.DefaultAllocator, g.Schema())
		for _, l := range lines {
			for c, fld := range g.Schema().Fields() {
				switch fld.Name {
				case dflow.ColSourceFileID:
					b.Field(c).(*array.StringBuilder).Append("F0001")
				case dflow.ColRecordLine, dflow.ColInstance:
					b.Field(c).(*array.Int64Builder).Append(l)
				default:
					b.Field(c).AppendNull()
				}
			}
		}
		sp := newSourceSpool(spool, src)
		if err := sp.add(0, table, b.NewRecord()); err != nil {
			t.Fatal(err)
		}
		if err := sp.flush(); err != nil {
			t.Fatal(err)
		}
		if err := sp.close(); err != nil {
			t.Fatal(err)
		}
		b.Release()
		pk.addSpooled(src, table, sp.segs[spoolKey{0, table}])
	}
	if err := os.MkdirAll(pk.dir, 0o700); err != nil { // as writePacks makes it
		t.Fatal(err)
	}
	spooled, err := pk.spooled()
	if err != nil {
		t.Fatal(err)
	}
	if err := pk.renderFlow(context.Background(), pr, spooled, f, map[string][]string{g.Code: {table}}, nil); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pf := range pk.files {
		names = append(names, fmt.Sprintf("%s:%d", pf.Name, pf.Rows))
	}
	want := []string{"dflow/D0150_F0001_mop-mtd-MTRA.dat:2", "dflow/D0150_F0001_mop-mtd-MTRB.dat:3"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("files %v, want %v", names, want)
	}
}

// A segment holds its record batch message alone (the bytes a writer of
// its own writes after the schema); the schema is encoded once a table
// and decoded once by the readers of its segments, whose records share it.
func TestSpoolSegmentsShareTheirSchema(t *testing.T) {
	schema := lineSchema()
	other := arrow.NewSchema([]arrow.Field{{Name: dflow.ColSourceFileID, Type: arrow.BinaryTypes.String}}, nil)
	sp := newSourceSpool(t.TempDir(), 0)
	var want [][]byte
	for i, sc := range []*arrow.Schema{schema, schema, schema, other, other, schema} {
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("F%d", i))
		if sc == schema {
			b.Field(1).(*array.Int64Builder).Append(int64(i))
		}
		rec := b.NewRecord()
		b.Release()
		var stream bytes.Buffer
		iw := ipc.NewWriter(&stream, ipc.WithSchema(sc))
		if err := iw.Write(rec); err != nil {
			t.Fatal(err)
		}
		iw.Close()
		n, err := messageSize(stream.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, stream.Bytes()[n:stream.Len()-8]) // after the schema, before the end
		if err := sp.add(0, "t", rec); err != nil {
			t.Fatal(err)
		}
		if err := sp.flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.close(); err != nil {
		t.Fatal(err)
	}
	segs := sp.segs[spoolKey{0, "t"}]
	raw, err := os.ReadFile(sp.path)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range segs {
		if !bytes.Equal(raw[s.off:s.off+int64(s.size)], want[i]) {
			t.Errorf("segment %d: not the record batch message of a writer of its own", i)
		}
	}
	rd := newSpoolReader(segs)
	defer rd.close()
	var schemas []*arrow.Schema
	for i := range segs {
		rec, err := rd.next()
		if err != nil || rec == nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		if got := rec.Column(0).(*array.String).Value(0); got != fmt.Sprintf("F%d", i) {
			t.Errorf("segment %d: row of %s", i, got)
		}
		schemas = append(schemas, rec.Schema())
		rec.Release()
	}
	if schemas[0] != schemas[1] || schemas[1] != schemas[2] || schemas[3] != schemas[4] {
		t.Error("segments of one schema decoded it each")
	}
	if !schemas[2].Equal(schema) || !schemas[3].Equal(other) || !schemas[5].Equal(schema) {
		t.Error("a segment read with another table's schema")
	}
}

// Records of a row or two are mostly headers: the budget counts those too,
// so a collector of many small records writes them out as it goes.
func TestSpoolCountsSmallRecords(t *testing.T) {
	schema := lineSchema()
	sp := newSourceSpool(t.TempDir(), 1)
	defer sp.release()
	sp.budget = 64 << 10 // the values of 1,000 one-row records are about 20 KB
	for i := range 1000 {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		b.Field(0).(*array.StringBuilder).Append("F1")
		b.Field(1).(*array.Int64Builder).Append(int64(i))
		if err := sp.add(0, "ees/ees_portfolio", b.NewRecord()); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if n := len(sp.segs[spoolKey{0, "ees/ees_portfolio"}]); n < 5 {
		t.Errorf("%d segments written while 1,000 small records came: want the budget to count their headers", n)
	}
}

// A segment's source file id is its own copy: an Arrow string shares its
// record's buffer, so a kept id kept every spooled record's ids alive
// until the packs were written (20 MB at 3·10^7).
func TestSpoolCopiesFileIDs(t *testing.T) {
	schema := lineSchema()
	sp := newSourceSpool(t.TempDir(), 1)
	defer sp.release()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"F1", "F2"}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{2, 3}, nil)
	rec := b.NewRecord()
	b.Release()
	rec.Retain() // the test's own hold, to overwrite its buffer
	defer rec.Release()
	if err := sp.add(0, "mop-mtd/d0150_288", rec); err != nil {
		t.Fatal(err)
	}
	if err := sp.flush(); err != nil {
		t.Fatal(err)
	}
	clear(rec.Column(0).Data().Buffers()[2].Bytes()) // the ids' bytes
	var got []string
	for _, s := range sp.segs[spoolKey{0, "mop-mtd/d0150_288"}] {
		got = append(got, s.fileID())
	}
	if fmt.Sprint(got) != "[F1 F2]" {
		t.Errorf("segments' file ids %q after their record's buffer changed: want [F1 F2], copies", got)
	}
}

// lineSchema is a spooled table's schema at its smallest: each row's
// source file id and record line.
func lineSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: dflow.ColSourceFileID, Type: arrow.BinaryTypes.String},
		{Name: dflow.ColRecordLine, Type: arrow.PrimitiveTypes.Int64},
	}, nil)
}
