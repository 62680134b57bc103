package reconcile

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// passBytes is the memory a pass's tables and statements may take: a
// market whose rules would hold more at once (estimated, from the tables'
// rows, at tableRowBytes a table's row and itemRowBytes a statement's, as
// the rules hold them one after another) is reconciled in passes, each
// over a range of MPAN cores, so memory does not grow with the market. A
// variable for the test of many passes.
var passBytes = 512 << 20

// A table's row: core, source, sort position, read position and the
// sort's scratch; a statement's: its value and the one it is read into.
const (
	tableRowBytes = 30
	itemRowBytes  = 16
)

// passesHook, if set (by tests), is told how many passes a run makes.
var passesHook func(n int)

// maxPasses bounds the passes (a partition id is a byte; noPart is none).
const (
	maxPasses = 250
	noPart    = 255
)

// spill holds, for a run in passes, every table and statement read so
// far, split by core range into one file per partition, under dir (removed
// when the run ends): a table is read from its cuts once, and each pass
// loads its partition's rows from these files. Every rule but linked only
// ever looks at the rows of one core at a time, so it runs per partition
// unchanged; linked looks a row's partner up, which may be in another
// partition, so it sends requests to the partner's (linkedPassed).
type spill struct {
	dir    string
	bounds []uint64 // partition p holds cores in [bounds[p-1], bounds[p])
	next   int      // file names
	tables map[string]*spilledTable
	items  map[string]string // statement -> its files' name
	// asks are each linked rule's requests (by rule index), by the
	// partition of the MPAN they ask about.
	asks     map[int]*partFiles
	askNames map[int]string
	// again are the tables and statements linked rules read, whose
	// partition files the second sweep reads again; answering is that
	// sweep. Other partition files are removed once read.
	again     map[string]bool
	answering bool
}

// done removes partition file path of table or statement k once no pass
// reads it again.
func (s *spill) done(k, path string) {
	if s.answering || !s.again[k] {
		os.Remove(path)
	}
}

// spilledTable is a table split into partitions: per read position, its
// partition (file rp); per partition, its rows in chunks (a part's row
// group's rows of the partition: header start position and count, then
// core, read position and source of each).
type spilledTable struct {
	lay    *layout
	name   string
	rp     *os.File
	counts []int // rows of each partition
}

// passes is how many passes a run holding bytes at most needs.
func passes(bytes int) int {
	n := (bytes + passBytes - 1) / passBytes
	return max(1, min(n, maxPasses))
}

func (s *spill) n() int { return len(s.bounds) + 1 }

// part is core's partition.
func (s *spill) part(core uint64) int {
	return sort.Search(len(s.bounds), func(i int) bool { return s.bounds[i] > core })
}

func (s *spill) name(kind string) string {
	s.next++
	return filepath.Join(s.dir, fmt.Sprintf("%s%d", kind, s.next))
}

// partFiles are one file per partition, written by parts in parallel a
// chunk at a time.
type partFiles struct {
	mu sync.Mutex
	fs []*os.File
	ws []*bufio.Writer
}

func createParts(name string, n int) (*partFiles, error) {
	w := &partFiles{}
	for p := 0; p < n; p++ {
		f, err := os.Create(fmt.Sprintf("%s.%d", name, p))
		if err != nil {
			w.close()
			return nil, err
		}
		w.fs = append(w.fs, f)
		w.ws = append(w.ws, bufio.NewWriterSize(f, 64<<10))
	}
	return w, nil
}

func (w *partFiles) write(p int, b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.ws[p].Write(b)
	return err
}

func (w *partFiles) close() error {
	var errs []error
	for i, f := range w.fs {
		errs = append(errs, w.ws[i].Flush(), f.Close())
	}
	return errors.Join(errs...)
}

// chunk is a chunk's header.
func chunk(b []byte, start, n int) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(start))
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

// A table's chunk is of one part, so of one source (2 bytes after the
// header); a row is its core (6 bytes: a core has 44 bits) and its read
// position (4).
const (
	tableRec = 10
	coreSize = 6
)

func putCore(b []byte, c uint64) []byte {
	return append(b, byte(c), byte(c>>8), byte(c>>16), byte(c>>24), byte(c>>32), byte(c>>40))
}

func getCore(b []byte) uint64 {
	_ = b[5]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 | uint64(b[4])<<32 | uint64(b[5])<<40
}

// startSpill sizes a run: passes from the largest table the rules read,
// partition bounds from its cores (so partitions hold about as many rows).
// It leaves e.sp nil when one pass holds the market.
func (e *engine) startSpill(ctx context.Context, dir string) error {
	var big *layout
	// What the rules hold at once, as pass keeps it: a statement and its
	// table while a rule to come reads them.
	uses, live := map[string]int{}, map[string]int{}
	for _, r := range e.rules.Rules {
		for _, it := range r.reads() {
			uses[it.String()]++
			uses[tableKey(it.Cut, it.Table)]++
		}
	}
	held, peak := 0, 0
	for _, r := range e.rules.Rules {
		for _, it := range r.reads() {
			l, err := e.layout(ctx, it.Cut, it.Table)
			if err != nil {
				return err
			}
			if big == nil || l.raw > big.raw {
				big = l
			}
			for _, k := range []string{tableKey(it.Cut, it.Table), it.String()} {
				if _, ok := live[k]; ok {
					continue // a table's own statement is its key
				}
				b := l.raw * tableRowBytes
				if k == it.String() && it.Item != "" {
					b = l.raw * itemRowBytes
				}
				live[k] = b
				held += b
			}
		}
		peak = max(peak, held)
		for _, it := range r.reads() {
			for _, k := range []string{tableKey(it.Cut, it.Table), it.String()} {
				if uses[k]--; uses[k] == 0 {
					held -= live[k]
					delete(live, k)
				}
			}
		}
	}
	if big == nil {
		return nil
	}
	n := passes(peak)
	if passesHook != nil {
		passesHook(n)
	}
	if n <= 1 {
		return nil
	}
	for _, l := range e.layouts {
		if l.raw >= math.MaxUint32 {
			return fmt.Errorf("a table of %d rows: more than reconcile can hold", l.raw)
		}
	}
	// A histogram of the largest table's cores, by their top 16 of 44 bits.
	var mu sync.Mutex
	hist := make([]int, universe.HistBuckets)
	t := &table{where: where{parts: big.parts}, raw: big.raw}
	err := e.parallel(ctx, t, func(ctx context.Context, _ int, p *tablePart) error {
		return eachCores(ctx, p, func(_ int, cores []uint64) error {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range cores {
				if c != universe.NoCore {
					hist[universe.HistBucket(c)]++
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	sp := &spill{tables: map[string]*spilledTable{}, items: map[string]string{}, asks: map[int]*partFiles{}, askNames: map[int]string{}, again: map[string]bool{}}
	for _, r := range e.rules.Rules {
		if r.Kind == KindLinked {
			for _, it := range r.reads() {
				sp.again[it.String()], sp.again[tableKey(it.Cut, it.Table)] = true, true
			}
		}
	}
	sp.bounds = universe.RangeBounds(hist, n)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if sp.dir, err = os.MkdirTemp(dir, "reconcile-*"); err != nil {
		return err
	}
	e.sp = sp
	return nil
}

// endSpill removes the spill's files.
func (e *engine) endSpill() {
	if e.sp == nil {
		return
	}
	for _, t := range e.sp.tables {
		t.rp.Close()
	}
	for _, w := range e.sp.asks {
		w.close()
	}
	os.RemoveAll(e.sp.dir)
	e.sp = nil
}

// eachCores calls fn with the cores of each row group of a part, its file
// open, and the read position (in the part) of its first row.
func eachCores(ctx context.Context, p *tablePart, fn func(base int, cores []uint64) error) error {
	r := p.r
	cols, err := r.Columns(dflow.ColInstanceMPAN)
	if err != nil {
		return err
	}
	var buf []uint64
	base := 0
	for rg := 0; rg < r.PF.NumRowGroups(); rg++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int(r.PF.RowGroup(rg).NumRows())
		if base+n > p.rows {
			return fmt.Errorf("%s: more rows than its metadata says", r.Key)
		}
		got, err := universe.CoreColumn(r, rg, cols[0], buf[:0])
		if err != nil {
			return err
		}
		if len(got) != n {
			return fmt.Errorf("%s: row group %d has %d cores for %d rows", r.Key, rg, len(got), n)
		}
		buf = got
		if err := fn(base, got); err != nil {
			return err
		}
		base += n
	}
	if base != p.rows {
		return fmt.Errorf("%s: %d rows for the %d its metadata says", r.Key, base, p.rows)
	}
	return nil
}

// spillTable reads a table's cores once, into its partitions' files.
func (e *engine) spillTable(ctx context.Context, ct, name string) (*spilledTable, error) {
	k := tableKey(ct, name)
	if st := e.sp.tables[k]; st != nil {
		return st, nil
	}
	lay, err := e.layout(ctx, ct, name)
	if err != nil {
		return nil, err
	}
	sp := e.sp
	st := &spilledTable{lay: lay, name: sp.name("t"), counts: make([]int, sp.n())}
	if st.rp, err = os.Create(st.name + ".rp"); err != nil {
		return nil, err
	}
	w, err := createParts(st.name, sp.n())
	if err != nil {
		st.rp.Close()
		return nil, err
	}
	var mu sync.Mutex // counts
	t := &table{where: where{parts: lay.parts}, raw: lay.raw}
	err = e.parallel(ctx, t, func(ctx context.Context, _ int, p *tablePart) error {
		bufs := make([][]byte, sp.n())
		var rp []byte
		return eachCores(ctx, p, func(base int, cores []uint64) error {
			start := p.off + base
			rp = rp[:0]
			for q := range bufs {
				bufs[q] = binary.LittleEndian.AppendUint16(chunk(bufs[q][:0], start, 0), p.si)
			}
			for i, c := range cores {
				if c == universe.NoCore {
					rp = append(rp, noPart)
					continue
				}
				q := sp.part(c)
				rp = append(rp, byte(q))
				bufs[q] = binary.LittleEndian.AppendUint32(putCore(bufs[q], c), uint32(start+i))
			}
			if _, err := st.rp.WriteAt(rp, int64(start)); err != nil {
				return err
			}
			for q, b := range bufs {
				n := (len(b) - 10) / tableRec
				if n == 0 {
					continue
				}
				binary.LittleEndian.PutUint32(b[4:], uint32(n))
				if err := w.write(q, b); err != nil {
					return err
				}
				mu.Lock()
				st.counts[q] += n
				mu.Unlock()
			}
			return nil
		})
	})
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err != nil {
		st.rp.Close()
		return nil, err
	}
	sp.tables[k] = st
	return st, nil
}

// spillItem reads statement it once, into its partitions' files: chunks
// as its table's, with a value a row.
func (e *engine) spillItem(ctx context.Context, st *spilledTable, it Item) (string, error) {
	k := it.String()
	if name := e.sp.items[k]; name != "" {
		return name, nil
	}
	sp := e.sp
	name := sp.name("s")
	w, err := createParts(name, sp.n())
	if err != nil {
		return "", err
	}
	t := &table{where: where{parts: st.lay.parts}, raw: st.lay.raw}
	err = e.parallel(ctx, t, func(ctx context.Context, _ int, p *tablePart) error {
		bufs := make([][]byte, sp.n())
		var vals []uint64
		var rp []byte
		dst := func(_, n int) []uint64 { return grow(&vals, n) }
		done := func(base int, vals []uint64) error {
			start := p.off + base
			rp = grow(&rp, len(vals))
			if _, err := st.rp.ReadAt(rp, int64(start)); err != nil {
				return fmt.Errorf("%s: reading its partitions: %w", st.name, err)
			}
			for q := range bufs {
				bufs[q] = chunk(bufs[q][:0], start, 0)
			}
			for i, v := range vals {
				if q := rp[i]; q != noPart {
					if int(q) >= len(bufs) {
						return fmt.Errorf("%s: partition %d of %d", st.name, q, len(bufs))
					}
					bufs[q] = binary.LittleEndian.AppendUint64(bufs[q], v)
				}
			}
			for q, b := range bufs {
				if n := (len(b) - 8) / 8; n > 0 {
					binary.LittleEndian.PutUint32(b[4:], uint32(n))
					if err := w.write(q, b); err != nil {
						return err
					}
				}
			}
			return nil
		}
		return readItemPart(ctx, p, it, e.valFunc(p, it), dst, done)
	})
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	sp.items[k] = name
	return name, nil
}

// chunks reads a partition file's chunks: fn gets each one's start, rows
// and bytes (pre bytes, then rec bytes a row).
func chunks(path string, pre, rec int, fn func(start, n int, b []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var hdr [8]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		start, n := int(binary.LittleEndian.Uint32(hdr[:])), int(binary.LittleEndian.Uint32(hdr[4:]))
		b := grow(&buf, pre+n*rec)
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(start, n, b); err != nil {
			return err
		}
	}
}

// partTable is table (ct, name)'s rows of the pass's partition, sorted
// by core, stably (equal cores in read order), as table sorts a whole.
func (e *engine) partTable(ctx context.Context, ct, name string) (*table, error) {
	k := tableKey(ct, name)
	if t := e.tables[k]; t != nil {
		return t, nil
	}
	st, err := e.spillTable(ctx, ct, name)
	if err != nil {
		return nil, err
	}
	n := st.counts[e.cur]
	cores, pos, src := make([]uint64, 0, n), make([]uint32, 0, n), make([]uint16, 0, n)
	t := &table{where: where{parts: st.lay.parts}, raw: n, chunkAt: map[uint32][2]int{}}
	path := fmt.Sprintf("%s.%d", st.name, e.cur)
	err = chunks(path, 2, tableRec, func(start, m int, b []byte) error {
		if len(cores)+m > n {
			return fmt.Errorf("%s: more rows than were written", st.name)
		}
		t.chunkAt[uint32(start)] = [2]int{len(cores), m}
		si := binary.LittleEndian.Uint16(b)
		for i := 0; i < m; i++ {
			r := b[2+i*tableRec:]
			cores = append(cores, getCore(r))
			pos = append(pos, binary.LittleEndian.Uint32(r[coreSize:]))
			src = append(src, si)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(cores) != n {
		return nil, fmt.Errorf("%s: %d rows of %d written", st.name, len(cores), n)
	}
	e.sp.done(k, path)
	t.perm = make([]uint32, n)
	for i := range t.perm {
		t.perm[i] = uint32(i)
	}
	// Chunks come in the order parts wrote them: sorted by core, rows of
	// a core are then put in read order.
	cores, t.perm = sortCores(cores, t.perm)
	for i := 0; i < n; {
		j := i + 1
		for j < n && cores[j] == cores[i] {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(t.perm[i:j], func(a, b uint32) int { return int(pos[a]) - int(pos[b]) })
		}
		i = j
	}
	t.pos = permute(pos, t.perm)
	t.base = column{cores: cores, src: permute(src, t.perm), at: &t.where}
	e.tables[k] = t
	return t, nil
}

// partItem is statement it of the pass's partition of t, in t's order.
func (e *engine) partItem(ctx context.Context, t *table, it Item) ([]uint64, error) {
	st, err := e.spillTable(ctx, it.Cut, it.Table)
	if err != nil {
		return nil, err
	}
	name, err := e.spillItem(ctx, st, it)
	if err != nil {
		return nil, err
	}
	vals, got := make([]uint64, t.raw), 0
	path := fmt.Sprintf("%s.%d", name, e.cur)
	err = chunks(path, 0, 8, func(start, m int, b []byte) error {
		at, ok := t.chunkAt[uint32(start)]
		if !ok || at[1] != m {
			return fmt.Errorf("%s: a chunk of %d rows from %d its table has not", name, m, start)
		}
		got += m
		for i := 0; i < m; i++ {
			vals[at[0]+i] = binary.LittleEndian.Uint64(b[i*8:])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if got != t.raw {
		return nil, fmt.Errorf("%s: %d values for %d rows", name, got, t.raw)
	}
	e.sp.done(it.String(), path)
	return permute(vals, t.perm), nil
}
