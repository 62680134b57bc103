package universe

import (
	"encoding/binary"
	"fmt"
	"iter"
	"os"
	"slices"
	"sort"
	"sync"
)

// MPAN is one MPAN's row of the universe.
type MPAN struct {
	Core    uint64 // masked MPAN core
	Profile uint32 // index into Profiles
	// Data says which data sets hold the MPAN: bit i is DataSets[i]. Every
	// MPAN is in its EES cut's; D-flow cuts hold the MPANs of their flows'
	// unit groups (D0150 288, D0302 ..., D0204's related MPANs).
	Data  uint16
	Flags uint8 // which cuts hold it: InRegistration, InMTD, InCustomer
}

// recordSize is an MPAN's record in a spilled universe's file.
const recordSize = 16

func putRecord(b []byte, m MPAN) {
	binary.LittleEndian.PutUint64(b, m.Core)
	binary.LittleEndian.PutUint32(b[8:], m.Profile)
	binary.LittleEndian.PutUint16(b[12:], m.Data)
	b[14], b[15] = m.Flags, 0
}

func getRecord(b []byte) MPAN {
	_ = b[15]
	return MPAN{Core: binary.LittleEndian.Uint64(b), Profile: binary.LittleEndian.Uint32(b[8:]),
		Data: binary.LittleEndian.Uint16(b[12:]), Flags: b[14]}
}

// rows are the universe's MPANs, ascending by core: in memory, or, for a
// market too large to hold, in a file of fixed-size records (spilled), so
// the universe's memory does not grow with the market. A spilled universe
// is read in order a chunk at a time (All) and looked up a record at a
// time (At, Find); a sparse index of cores in memory finds a core's chunk.
type rows struct {
	mem  []MPAN
	file *os.File // spilled; nil when in memory
	n    int
	// index holds every indexStride-th core of a spilled universe.
	index []uint64
	mu    sync.Mutex
	err   error // the first read error of a spilled universe
}

// indexStride is the spacing of a spilled universe's core index: a Find
// reads that many records.
const indexStride = 1024

// Len is the number of MPANs.
func (u *Universe) Len() int { return u.rows.n }

// Append adds an MPAN above every other; for universes made without Build
// (tests).
func (u *Universe) Append(m MPAN) {
	if u.rows.file != nil || (u.rows.n > 0 && m.Core <= u.rows.mem[u.rows.n-1].Core) {
		panic(fmt.Sprintf("Append: core %d is not above the universe's last", m.Core))
	}
	u.rows.mem = append(u.rows.mem, m)
	u.rows.n++
}

// At is MPAN i. A spilled universe reads it from its file; a read error
// gives a zero MPAN and is kept for Err.
func (u *Universe) At(i int32) MPAN {
	r := &u.rows
	if r.file == nil {
		return r.mem[i]
	}
	var b [recordSize]byte
	if _, err := r.file.ReadAt(b[:], int64(i)*recordSize); err != nil {
		r.fail(err)
		return MPAN{}
	}
	return getRecord(b[:])
}

// Core is MPAN i's core.
func (u *Universe) Core(i int32) uint64 { return u.At(i).Core }

// Err is the first error reading a spilled universe's file, nil if none:
// what was read after it is not to be trusted.
func (u *Universe) Err() error {
	u.rows.mu.Lock()
	defer u.rows.mu.Unlock()
	return u.rows.err
}

func (r *rows) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = fmt.Errorf("reading the universe's spill file: %w", err)
	}
}

// All yields every MPAN in order of core, with its index.
func (u *Universe) All() iter.Seq2[int32, MPAN] { return u.From(0) }

// From yields the MPANs from index i on, in order of core.
func (u *Universe) From(i int32) iter.Seq2[int32, MPAN] {
	return func(yield func(int32, MPAN) bool) {
		r := &u.rows
		if r.file == nil {
			for j := int(i); j < r.n; j++ {
				if !yield(int32(j), r.mem[j]) {
					return
				}
			}
			return
		}
		const chunk = 4096
		buf := make([]byte, chunk*recordSize)
		for j := int(i); j < r.n; {
			k := min(chunk, r.n-j)
			if _, err := r.file.ReadAt(buf[:k*recordSize], int64(j)*recordSize); err != nil {
				r.fail(err)
				return
			}
			for x := range k {
				if !yield(int32(j+x), getRecord(buf[x*recordSize:])) {
					return
				}
			}
			j += k
		}
	}
}

// Find is the index of the MPAN of core c.
func (u *Universe) Find(c uint64) (int32, bool) {
	r := &u.rows
	if r.file == nil {
		i := sort.Search(r.n, func(i int) bool { return r.mem[i].Core >= c })
		return int32(i), i < r.n && r.mem[i].Core == c
	}
	// The chunk whose first core is the last at or below c.
	s := sort.Search(len(r.index), func(i int) bool { return r.index[i] > c }) - 1
	if s < 0 {
		return 0, false
	}
	lo, n := s*indexStride, min(indexStride, r.n-s*indexStride)
	buf := make([]byte, n*recordSize)
	if _, err := r.file.ReadAt(buf, int64(lo)*recordSize); err != nil {
		r.fail(err)
		return 0, false
	}
	i := sort.Search(n, func(i int) bool { return binary.LittleEndian.Uint64(buf[i*recordSize:]) >= c })
	return int32(lo + i), i < n && binary.LittleEndian.Uint64(buf[i*recordSize:]) == c
}

// Close removes a spilled universe's file; the universe is not to be read
// after.
func (u *Universe) Close() error { return u.rows.close() }

func (r *rows) close() error {
	if r.file == nil {
		return nil
	}
	err := r.file.Close()
	if e := os.Remove(r.file.Name()); err == nil {
		err = e
	}
	r.file = nil
	return err
}

// rowWriter writes a universe's MPANs in order of core: in memory, or
// into a file under dir for a market of more than spillAbove.
type rowWriter struct {
	r   *rows
	buf []byte
	off int64
}

// spillAbove is the number of MPANs a universe holds in memory (16 bytes
// each: 64 MiB); a larger market's universe is spilled to a file. A
// variable for tests.
var spillAbove = 4 << 20

// newRowWriter writes the universe's rows r, of at most most MPANs.
func newRowWriter(r *rows, dir string, most int) (*rowWriter, error) {
	w := &rowWriter{r: r}
	if most <= spillAbove {
		r.mem = make([]MPAN, 0, most)
		return w, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("spilling the universe: %w", err)
	}
	f, err := os.CreateTemp(dir, "universe-*")
	if err != nil {
		return nil, fmt.Errorf("spilling the universe: %w", err)
	}
	r.file = f
	return w, nil
}

func (w *rowWriter) add(ms []MPAN) error {
	if w.r.file == nil {
		w.r.mem = append(w.r.mem, ms...)
		w.r.n += len(ms)
		return nil
	}
	for len(ms) > 0 { // a chunk at a time: a range's MPANs are 16 MB
		chunk := ms[:min(len(ms), writeChunk)]
		ms = ms[len(chunk):]
		w.buf = slices.Grow(w.buf[:0], len(chunk)*recordSize)[:len(chunk)*recordSize]
		for j, m := range chunk {
			if w.r.n%indexStride == 0 {
				w.r.index = append(w.r.index, m.Core)
			}
			putRecord(w.buf[j*recordSize:], m)
			w.r.n++
		}
		if _, err := w.r.file.WriteAt(w.buf, w.off); err != nil {
			return fmt.Errorf("spilling the universe: %w", err)
		}
		w.off += int64(len(w.buf))
	}
	return nil
}

// writeChunk is the MPANs a spilled universe's writer writes at once.
const writeChunk = 1 << 14
