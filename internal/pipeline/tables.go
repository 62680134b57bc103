package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
)

// batchRows is how many rows of a group are buffered before they are
// masked and written as a row group.
const batchRows = cut.RowGroupRows

// maxPendingBytes bounds the rows a cut's tables hold back while they wait
// to fill a row group; past it, the table holding most is written as a
// smaller row group.
const maxPendingBytes = 8 << 20

// minRowGroupRows is the smallest record written as it comes when no rows
// of its table wait before it.
const minRowGroupRows = batchRows / 4

// tables holds a cut's table files being written. Records are masked and
// written by a goroutine of their own, so reading and validating the next
// records (one core) overlaps masking and encoding them (the other).
//
// A file's last rows of a table wait for the next file's: a cut sent as
// many small files is stored in full row groups of batchRows, not one
// small group per file (hundreds of tiny groups made every reader's
// footers and pages grow with the number of files).
type tables struct {
	dir     string
	meta    map[string]string
	files   map[string]*cut.TableFile
	taken   map[string]int64 // rows each table was sent: written or pending
	pending map[string]*pendingRows
	held    int64 // bytes the pending rows pin, all tables
	mk      *mask.Session
	mem     memory.Allocator
	queue   chan tableRec
	done    chan error // the writer's result after each barrier
	units   *unitCheck
}

type tableRec struct {
	name    string
	rec     arrow.Record
	masked  bool // carried over from a published version
	barrier bool
	finish  bool // write the pending rows too
}

// pendingRows are a table's masked rows not yet written, in order.
type pendingRows struct {
	recs  []arrow.Record
	rows  int64
	bytes int64 // of the buffers they pin (a slice pins its whole record's)
}

func newTables(dir string, meta map[string]string, mk *mask.Masker, mem memory.Allocator, units map[string]bool) *tables {
	t := &tables{dir: dir, meta: meta, files: map[string]*cut.TableFile{}, taken: map[string]int64{}, pending: map[string]*pendingRows{},
		mk: mk.Session(), mem: mem, queue: make(chan tableRec, 4), done: make(chan error), units: newUnitCheck(units, dir)}
	go t.run()
	return t
}

// run masks and writes queued records; after an error it only releases
// them, and reports the error at the next barrier.
func (t *tables) run() {
	var err error
	for it := range t.queue {
		if it.barrier {
			if err == nil && it.finish {
				err = t.writePending()
			}
			t.done <- err
			err = nil
			continue
		}
		if err == nil && it.masked {
			err = t.write(it.name, it.rec)
		} else if err == nil {
			err = t.maskAndWrite(it.name, it.rec)
		}
		it.rec.Release()
	}
	close(t.done)
}

func (t *tables) maskAndWrite(name string, rec arrow.Record) error {
	masked, err := t.mk.Record(rec, t.mem)
	if err != nil {
		return err
	}
	defer masked.Release()
	return t.write(name, masked)
}

// send queues a record (ownership passes to the writer).
func (t *tables) send(name string, rec arrow.Record) {
	t.queue <- tableRec{name: name, rec: rec}
}

// sendMasked queues a record that is masked already.
func (t *tables) sendMasked(name string, rec arrow.Record) {
	t.queue <- tableRec{name: name, rec: rec, masked: true}
}

// rows counts each table's rows so far; only between barriers.
func (t *tables) rows() map[string]int64 {
	out := make(map[string]int64, len(t.taken))
	for n, rows := range t.taken {
		out[n] = rows
	}
	return out
}

// since is how many rows each table gained from then to now.
func since(now, then map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for n, rows := range now {
		if d := rows - then[n]; d > 0 {
			out[n] = d
		}
	}
	return out
}

// barrier waits until everything queued is written and returns the first
// error since the previous barrier.
func (t *tables) barrier() error {
	t.queue <- tableRec{barrier: true}
	return <-t.done
}

// finish is a barrier that also writes every table's pending rows: the
// tables are then complete, ready to close.
func (t *tables) finish() error {
	t.queue <- tableRec{barrier: true, finish: true}
	return <-t.done
}

// stop ends the writer goroutine.
func (t *tables) stop() {
	close(t.queue)
	for range t.done {
	}
}

func (t *tables) write(name string, rec arrow.Record) error {
	f := t.files[name]
	if f == nil {
		var err error
		if f, err = cut.CreateTableFile(t.dir, name, rec.Schema(), t.meta, "datacut"); err != nil {
			return err
		}
		t.files[name] = f
	}
	// Rows carried over from a published table have the stored schema.
	if !f.Schema.Equal(rec.Schema()) && !cut.StoredSchema(f.Schema).Equal(cut.StoredSchema(rec.Schema())) {
		return &schemaError{table: name, diff: schemaDiff(f.Schema, rec.Schema())}
	}
	t.units.see(name, rec)
	t.taken[name] += rec.NumRows()
	return t.add(name, f, rec)
}

var errSchema = errors.New("its columns differ from the cut's earlier files of the same table")

// schemaError is errSchema naming the table and how its columns differ
// (names from the definitions, never values).
type schemaError struct{ table, diff string }

func (e *schemaError) Error() string {
	return fmt.Sprintf("its columns differ from the cut's earlier files of table %s: %s", e.table, e.diff)
}

func (e *schemaError) Unwrap() error { return errSchema }

// schemaDiff says how got's columns differ from have's.
func schemaDiff(have, got *arrow.Schema) string {
	var extra, lacks, other []string
	for _, f := range got.Fields() {
		i := have.FieldIndices(f.Name)
		switch {
		case len(i) == 0:
			extra = append(extra, f.Name)
		case !arrow.TypeEqual(have.Field(i[0]).Type, f.Type):
			other = append(other, fmt.Sprintf("%s is %s here, %s there", f.Name, f.Type, have.Field(i[0]).Type))
		}
	}
	for _, f := range have.Fields() {
		if !got.HasField(f.Name) {
			lacks = append(lacks, f.Name)
		}
	}
	var parts []string
	if len(lacks) > 0 {
		parts = append(parts, "it lacks "+strings.Join(lacks, ", "))
	}
	if len(extra) > 0 {
		parts = append(parts, "it has "+strings.Join(extra, ", ")+" besides")
	}
	parts = append(parts, other...)
	if len(parts) == 0 {
		return "the same columns in another order, or with other metadata"
	}
	return strings.Join(parts, "; ")
}

func (t *tables) discard() {
	for _, p := range t.pending {
		p.release()
	}
	t.pending, t.held = map[string]*pendingRows{}, 0
	t.units.discard()
	for _, f := range t.files {
		f.Discard()
	}
}
