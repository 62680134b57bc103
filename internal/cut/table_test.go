package cut

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

// streamed is a store whose objects come as streams, as an object store's
// do (OpenTable fetches them to a file), counting its gets.
type streamed struct {
	store.Store
	gets int
}

func (s *streamed) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	s.gets++
	rc, err := s.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{rc, rc}, nil
}

// A table whose footer was let go reads the same rows once its footer is
// read again, from the copy it fetched: the object is not fetched twice.
func TestReaderReadsItsFooterAgain(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range 1000 {
		b.Field(0).(*array.Int64Builder).Append(int64(i * 7))
	}
	rec := b.NewRecord()
	defer rec.Release()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "t.parquet"), writeTable(t, rec), 0o600); err != nil {
		t.Fatal(err)
	}
	lst, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := &streamed{Store: lst}
	r, err := OpenTable(context.Background(), st, "t.parquet", memory.DefaultAllocator, pqarrow.ArrowReadProperties{BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.DropFooter()
	if r.PF != nil || r.File != nil {
		t.Fatal("the footer is still held")
	}
	if err := r.ReadFooter(); err != nil {
		t.Fatal(err)
	}
	if r.File.Props.BatchSize != 64 {
		t.Errorf("read again with batch size %d, want the 64 it was opened with", r.File.Props.BatchSize)
	}
	tbl, err := r.Read(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	got := array.NewTableReader(tbl, 0)
	defer got.Release()
	var n int
	for got.Next() {
		col := got.Record().Column(0).(*array.Int64)
		for i := range col.Len() {
			if col.Value(i) != int64(n*7) {
				t.Fatalf("row %d: %d, want %d", n, col.Value(i), n*7)
			}
			n++
		}
	}
	if n != 1000 || st.gets != 1 {
		t.Errorf("%d rows read in %d gets, want 1,000 in 1", n, st.gets)
	}
}
