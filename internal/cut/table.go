package cut

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/mhhs-sit/datacut/internal/store"
)

// Reader is an open Parquet table of a store.
type Reader struct {
	Key   string
	PF    *file.Reader
	File  *pqarrow.FileReader
	f     *os.File
	mem   memory.Allocator
	props pqarrow.ArrowReadProperties // as opened
	// scratch is ReadRows' buffers: a Reader is used by one goroutine.
	scratch *rowScratch
	chunk   *chunkBuffers // ColumnChunk's
	pages   *pageScratch  // the page walkers' (pages.go)
}

// OpenTable opens the table at key. Parquet needs random access: a local store's
// file is read in place, any other object is fetched to an unlinked spool
// file first.
func OpenTable(ctx context.Context, st store.Store, key string, mem memory.Allocator, props pqarrow.ArrowReadProperties) (*Reader, error) {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	f, ok := rc.(*os.File)
	if !ok {
		defer rc.Close()
		if f, err = os.CreateTemp("", "table-*.parquet"); err != nil {
			return nil, err
		}
		os.Remove(f.Name()) // gone when closed
		if _, err := io.Copy(f, rc); err != nil {
			f.Close()
			return nil, fmt.Errorf("fetching table %s: %w", key, err)
		}
	}
	pf, fr, err := openParquet(f, key, mem, props)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Reader{Key: key, PF: pf, File: fr, f: f, mem: mem, props: props}, nil
}

// DropFooter lets the table's footer go (PF and File are nil) while its
// file stays open, a fetched copy too, until ReadFooter reads it again: a
// large market's D-flow tables have footers of megabytes, a row group per
// raw file.
func (r *Reader) DropFooter() { r.PF, r.File = nil, nil }

// ReadFooter reads the footer DropFooter let go, with the properties the
// table was opened with.
func (r *Reader) ReadFooter() error {
	pf, fr, err := openParquet(r.f, r.Key, r.mem, r.props)
	if err != nil {
		return err
	}
	r.PF, r.File = pf, fr
	return nil
}

// openParquet reads f's footer. Arrow panics on some damaged footers (a
// logical type it does not know, in its schema conversion): that is an
// error naming the table too.
func openParquet(f *os.File, key string, mem memory.Allocator, props pqarrow.ArrowReadProperties) (pf *file.Reader, fr *pqarrow.FileReader, err error) {
	defer func() {
		if v := recover(); v != nil {
			if pf != nil {
				pf.Close()
			}
			pf, fr, err = nil, nil, fmt.Errorf("table %s is not readable Parquet: its footer is damaged", key)
		}
	}()
	if pf, err = file.NewParquetReader(f, file.WithReadProps(parquet.NewReaderProperties(mem))); err != nil {
		return nil, nil, fmt.Errorf("table %s is not readable Parquet: %w", key, err)
	}
	if s := pf.MetaData().KeyValueMetadata().FindValue("ARROW:schema"); s != nil {
		if err := checkStoredSchema(*s); err != nil { // storedschema.go
			pf.Close()
			return nil, nil, fmt.Errorf("table %s: %w", key, err)
		}
	}
	if fr, err = pqarrow.NewFileReader(pf, props, mem); err != nil {
		pf.Close()
		return nil, nil, fmt.Errorf("table %s: %w", key, err)
	}
	return pf, fr, nil
}

// Columns maps column names to their indices; missing names are an error
// naming the table.
func (r *Reader) Columns(names ...string) ([]int, error) {
	s := r.PF.MetaData().Schema
	out := make([]int, len(names))
	for i, n := range names {
		if out[i] = s.ColumnIndexByName(n); out[i] < 0 {
			return nil, fmt.Errorf("table %s has no column %s", r.Key, n)
		}
	}
	return out, nil
}

// ReadDict makes File read the columns as Arrow dictionaries (indices into
// each row group's distinct values) rather than one string per row. The
// reader fixes its schema when made, so it is made again.
func (r *Reader) ReadDict(cols ...int) (err error) {
	defer r.Damaged(&err)
	props := r.File.Props
	for _, c := range cols {
		props.SetReadDict(c, true)
	}
	fr, err := pqarrow.NewFileReader(r.PF, props, r.mem)
	if err != nil {
		return fmt.Errorf("table %s: %w", r.Key, err)
	}
	r.File = fr
	return nil
}

// Close releases the table.
func (r *Reader) Close() {
	// PF's Close closes the same file; PF is nil while the footer is let go.
	r.f.Close()
	if r.chunk != nil { // nothing read from it is used after Close
		chunkPool.Put(r.chunk)
		r.chunk = nil
	}
}
