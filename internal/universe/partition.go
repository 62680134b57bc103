package universe

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/store"
)

// rangeRows is about the EES rows a range of cores holds: a market of up
// to twice as many is built in one range, in memory; a larger one in
// ranges of about this many rows, each range's rows in files until its
// turn. 2^19: no range of a larger market holds more than the one range
// of a market of 10^6, so the join's memory peaks there. A variable for
// tests.
var rangeRows = 1 << 19

// partitions hold the tables' rows by range of cores until Build makes
// the range's MPANs: each EES row as its core and source order (one word)
// and profile; each core another table holds as its core and table (one
// word).
type partitions struct {
	bounds    []uint64 // range r holds cores in [bounds[r-1], bounds[r]); the last the rest
	orders    uint     // bits of an EES row's source order
	rows      int      // EES rows in all
	dir       string   // the files' directory; "" in memory
	ees, held []*partition
}

// partition is one range's rows of one kind, in memory or in a file.
type partition struct {
	mu   sync.Mutex
	keys []uint64
	pids []uint32
	f    *os.File
	w    *bufio.Writer
}

// newPartitions sizes the ranges from the EES tables' rows, and bounds
// them from a histogram of the largest table's cores (by their top 16 of
// 44 bits) so ranges hold about as many rows.
func newPartitions(ctx context.Context, st store.Store, eesKeys []string, dir string, mem memory.Allocator, tables int) (*partitions, error) {
	p := &partitions{orders: uint(bits.Len(uint(tables)))}
	total, big, bigRows := int64(0), "", int64(-1)
	for _, k := range eesKeys {
		r, err := openScan(ctx, st, k, mem)
		if err != nil {
			return nil, err
		}
		n := r.PF.NumRows()
		r.Close()
		total += n
		if n > bigRows {
			big, bigRows = k, n
		}
	}
	p.rows = int(total)
	n := 1
	if total > 2*int64(rangeRows) {
		n = int((total + int64(rangeRows) - 1) / int64(rangeRows))
	}
	if n == 1 {
		p.ees, p.held = []*partition{{}}, []*partition{{}}
		return p, nil
	}
	hist := make([]int, HistBuckets)
	r, err := openScan(ctx, st, big, mem)
	if err != nil {
		return nil, err
	}
	cols, err := r.Columns("mpan_core")
	if err == nil {
		err = scanCores(ctx, r, cols, func(_ int, cores [][]uint64) error {
			for _, c := range cores[0] {
				hist[HistBucket(c)]++
			}
			return nil
		})
	}
	r.Close()
	if err != nil {
		return nil, err
	}
	p.bounds = RangeBounds(hist, n)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if p.dir, err = os.MkdirTemp(dir, "universe-*"); err != nil {
		return nil, err
	}
	for r := range n {
		for name, kind := range map[string]*[]*partition{"ees": &p.ees, "held": &p.held} {
			f, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("%s.%d", name, r)))
			if err != nil {
				p.close()
				return nil, err
			}
			*kind = append(*kind, &partition{f: f, w: bufio.NewWriterSize(f, 64<<10)})
		}
	}
	return p, nil
}

func (p *partitions) n() int { return len(p.bounds) + 1 }

// rangeOf is core c's range.
func (p *partitions) rangeOf(c uint64) int {
	return sort.Search(len(p.bounds), func(i int) bool { return p.bounds[i] > c })
}

// An EES row in a file: its key (core, source order) and profile.
const eesRecord = 12

// addEES adds a row group's EES rows (cores and provisional profile ids)
// of the table at place order in source order.
func (p *partitions) addEES(cores []uint64, pids []uint32, order int) error {
	if p.dir == "" {
		x := p.ees[0]
		x.mu.Lock()
		defer x.mu.Unlock()
		for _, c := range cores {
			x.keys = append(x.keys, c<<p.orders|uint64(order))
		}
		x.pids = append(x.pids, pids...)
		return nil
	}
	bufs := make([][]byte, p.n())
	for i, c := range cores {
		r := p.rangeOf(c)
		bufs[r] = binary.LittleEndian.AppendUint64(bufs[r], c<<p.orders|uint64(order))
		bufs[r] = binary.LittleEndian.AppendUint32(bufs[r], pids[i])
	}
	return p.write(p.ees, bufs)
}

// addHeld adds the cores a row group of the table at place order holds.
func (p *partitions) addHeld(cores []uint64, order int) error {
	if p.dir == "" {
		x := p.held[0]
		x.mu.Lock()
		defer x.mu.Unlock()
		for _, c := range cores {
			x.keys = append(x.keys, c<<orderBits|uint64(order))
		}
		return nil
	}
	bufs := make([][]byte, p.n())
	for _, c := range cores {
		r := p.rangeOf(c)
		bufs[r] = binary.LittleEndian.AppendUint64(bufs[r], c<<orderBits|uint64(order))
	}
	return p.write(p.held, bufs)
}

func (p *partitions) write(to []*partition, bufs [][]byte) error {
	for r, b := range bufs {
		if len(b) == 0 {
			continue
		}
		x := to[r]
		x.mu.Lock()
		_, err := x.w.Write(b)
		x.mu.Unlock()
		if err != nil {
			return fmt.Errorf("writing the universe's range files: %w", err)
		}
	}
	return nil
}

// flush finishes writing the files.
func (p *partitions) flush() error {
	for _, x := range append(p.ees[:len(p.ees):len(p.ees)], p.held...) {
		if x.w != nil {
			if err := x.w.Flush(); err != nil {
				return fmt.Errorf("writing the universe's range files: %w", err)
			}
		}
	}
	return nil
}

// loadEES appends range r's EES rows to keys and pids, in the order they
// were added; an EES row's key is core << orders | source order.
func (p *partitions) loadEES(r int, keys []uint64, pids []uint32) ([]uint64, []uint32, error) {
	x := p.ees[r]
	if x.f == nil {
		keys, pids = append(keys, x.keys...), append(pids, x.pids...)
		x.keys, x.pids = nil, nil
		return keys, pids, nil
	}
	err := x.read(eesRecord, func(b []byte) {
		keys = append(keys, binary.LittleEndian.Uint64(b))
		pids = append(pids, binary.LittleEndian.Uint32(b[8:]))
	})
	return keys, pids, err
}

// loadHeld appends range r's held cores (core << orderBits | table).
func (p *partitions) loadHeld(r int, keys []uint64) ([]uint64, error) {
	x := p.held[r]
	if x.f == nil {
		keys = append(keys, x.keys...)
		x.keys = nil
		return keys, nil
	}
	err := x.read(8, func(b []byte) { keys = append(keys, binary.LittleEndian.Uint64(b)) })
	return keys, err
}

// read calls fn with each record of the partition's file, then removes it.
func (x *partition) read(size int, fn func(b []byte)) error {
	if _, err := x.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	buf := make([]byte, size*8192)
	for {
		n, err := io.ReadFull(x.f, buf)
		if n%size != 0 || (err != nil && err != io.EOF && err != io.ErrUnexpectedEOF) {
			return fmt.Errorf("reading the universe's range files: %w", errors.Join(err, io.ErrUnexpectedEOF))
		}
		for i := 0; i < n; i += size {
			fn(buf[i : i+size])
		}
		if err != nil {
			break
		}
	}
	x.f.Close()
	err := os.Remove(x.f.Name())
	x.f = nil
	return err
}

// close removes the files (a run that failed leaves nothing behind).
func (p *partitions) close() {
	for _, x := range append(p.ees[:len(p.ees):len(p.ees)], p.held...) {
		if x.f != nil {
			x.f.Close()
		}
	}
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// SetLimits sets the EES rows Build holds a range of cores at (a market of
// up to twice as many is built in one range, in memory) and the MPANs a
// universe holds in memory (more are spilled to a file), and returns a
// func restoring the limits before. For tests of other packages, which
// run the ranges and the spilled universe on small markets; not to be
// called while Build runs.
func SetLimits(ranges, spill int) (restore func()) {
	r, s := rangeRows, spillAbove
	rangeRows, spillAbove = ranges, spill
	return func() { rangeRows, spillAbove = r, s }
}
