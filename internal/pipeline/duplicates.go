package pipeline

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"io"
	"os"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
)

// unitCheck finds the same MPAN unit twice in one flow of a version (in
// one file or two, sent now or carried over). It reads the unit tables'
// masked MPANs as they are written, so it sees no raw value, and spools
// 16 bytes per unit (a hash of table and MPAN, and where) to a file, sorted
// in runs of sortRun units at the end: memory stays the same whatever the
// number of units.
type unitCheck struct {
	units   map[string]bool // the tables whose rows are units
	dir     string
	spool   *os.File
	w       *bufio.Writer
	n       int64
	err     error
	tables  []string // by index
	files   []string // source file ids, by index
	index   map[string]uint64
	seed    maphash.Seed
	scratch [16]byte
}

// sortRun is how many units are sorted in memory at once (16 MiB, and as
// much again for the sort's scratch); a variable for the test of many runs.
var sortRun int64 = 1 << 20

// ioUnits is how many units a run is read and written back by (64 KiB); a
// variable like sortRun.
var ioUnits = 1 << 12

// A unit's place: table (8 bits), source file (16 bits) and line (40 bits),
// in that order, so places of one table sort in the order they were read.
func place(table, file uint64, line int64) uint64 {
	return table<<56 | (file&0xffff)<<40 | uint64(line)&(1<<40-1)
}

func newUnitCheck(units map[string]bool, dir string) *unitCheck {
	return &unitCheck{units: units, dir: dir, index: map[string]uint64{}, seed: maphash.MakeSeed()}
}

// see spools the units of a masked record of table.
func (u *unitCheck) see(table string, rec arrow.Record) {
	if !u.units[table] || u.err != nil {
		return
	}
	s := rec.Schema()
	mp, files, lines := column[*array.String](rec, s, dflow.ColInstanceMPAN), column[*array.String](rec, s, dflow.ColSourceFileID), column[*array.Int64](rec, s, dflow.ColRecordLine)
	if mp == nil || files == nil || lines == nil {
		return
	}
	if u.spool == nil {
		if u.spool, u.err = os.CreateTemp(u.dir, "units-*"); u.err != nil {
			return
		}
		u.w = bufio.NewWriterSize(u.spool, 1<<20)
	}
	t := u.id(&u.tables, "t:"+table)
	var h maphash.Hash
	h.SetSeed(u.seed)
	for i := 0; i < mp.Len(); i++ {
		if mp.IsNull(i) {
			continue
		}
		h.Reset()
		h.WriteString(table)
		h.WriteByte(0)
		h.WriteString(mp.Value(i))
		binary.LittleEndian.PutUint64(u.scratch[:8], h.Sum64())
		binary.LittleEndian.PutUint64(u.scratch[8:], place(t, u.id(&u.files, "f:"+files.Value(i)), lines.Value(i)))
		u.w.Write(u.scratch[:])
		u.n++
	}
}

// id numbers a table or file in the order first seen.
func (u *unitCheck) id(list *[]string, key string) uint64 {
	i, ok := u.index[key]
	if !ok {
		i = uint64(len(*list))
		u.index[key] = i
		*list = append(*list, key[2:])
	}
	return i
}

type unit struct{ hash, at uint64 }

func cmpUnit(a, b unit) int {
	if c := cmp.Compare(a.hash, b.hash); c != 0 {
		return c
	}
	return cmp.Compare(a.at, b.at)
}

// result sorts the spooled units and lists each one found again, naming
// places by their part's file name.
func (u *unitCheck) result(parts []cut.Input) (*cut.Duplicates, error) {
	if u.err != nil || u.spool == nil {
		return nil, u.err
	}
	if err := u.w.Flush(); err != nil {
		return nil, err
	}
	runs, err := u.sortRuns()
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, p := range parts {
		names[p.FileID] = p.Name()
	}
	loc := func(at uint64) cut.Location {
		id := u.files[at>>40&0xffff]
		if n, ok := names[id]; ok {
			id = n
		}
		return cut.Location{Input: id, Line: int(at & (1<<40 - 1))}
	}
	var found cut.Duplicates
	var first unit // the first place of the current hash
	have := false
	err = merge(runs, func(x unit) {
		if !have || x.hash != first.hash {
			first, have = x, true
			return
		}
		found.Count++
		if len(found.Listed) < cut.MaxListedDuplicates {
			found.Listed = append(found.Listed, cut.DuplicateUnit{Table: u.tables[x.at>>56], First: loc(first.at), Again: loc(x.at)})
		}
	})
	if err != nil || found.Count == 0 {
		return nil, err
	}
	slices.SortFunc(found.Listed, func(a, b cut.DuplicateUnit) int { // in the order read
		return cmp.Or(cmp.Compare(a.Again.Input, b.Again.Input), cmp.Compare(a.Again.Line, b.Again.Line))
	})
	return &found, nil
}

// sortRuns sorts the spool in runs of sortRun units, in place. A run is
// read and written back through a buffer of ioUnits, not one as large.
func (u *unitCheck) sortRuns() ([]*io.SectionReader, error) {
	buf := make([]unit, 0, min(u.n, sortRun))
	tmp := make([]unit, cap(buf))
	raw := make([]byte, 16*min(u.n, int64(ioUnits)))
	var runs []*io.SectionReader
	for off := int64(0); off < u.n; off += sortRun {
		buf = buf[:min(u.n-off, sortRun)]
		for i := 0; i < len(buf); i += ioUnits {
			part := buf[i:min(i+ioUnits, len(buf))]
			b := raw[:16*len(part)]
			if _, err := u.spool.ReadAt(b, (off+int64(i))*16); err != nil {
				return nil, err
			}
			for k := range part {
				part[k] = unit{binary.LittleEndian.Uint64(b[16*k:]), binary.LittleEndian.Uint64(b[16*k+8:])}
			}
		}
		sortUnits(buf, tmp[:len(buf)])
		for i := 0; i < len(buf); i += ioUnits {
			part := buf[i:min(i+ioUnits, len(buf))]
			b := raw[:16*len(part)]
			for k, x := range part {
				binary.LittleEndian.PutUint64(b[16*k:], x.hash)
				binary.LittleEndian.PutUint64(b[16*k+8:], x.at)
			}
			if _, err := u.spool.WriteAt(b, (off+int64(i))*16); err != nil {
				return nil, err
			}
		}
		runs = append(runs, io.NewSectionReader(u.spool, off*16, int64(len(buf))*16))
	}
	return runs, nil
}

// sortUnits sorts units as slices.SortFunc(units, cmpUnit) does, with tmp
// (as long) as scratch, in two passes instead of n log n comparisons: the
// hashes are uniform (maphash), so a counting sort on their top 16 bits
// leaves buckets of a few units, each then sorted in place. A bucket holds
// many only when one unit recurs many times (the same MPAN sent again and
// again): it is sorted by slices.SortFunc, never quadratically.
func sortUnits(units, tmp []unit) {
	starts := make([]int, 1<<16+1)
	for _, x := range units {
		starts[x.hash>>48+1]++
	}
	for i := 1; i < len(starts); i++ {
		starts[i] += starts[i-1]
	}
	next := slices.Clone(starts)
	for _, x := range units {
		b := x.hash >> 48
		tmp[next[b]] = x
		next[b]++
	}
	copy(units, tmp)
	for b := 0; b < 1<<16; b++ {
		bucket := units[starts[b]:starts[b+1]]
		if len(bucket) <= 12 {
			for i := 1; i < len(bucket); i++ { // insertion sort
				for j := i; j > 0 && cmpUnit(bucket[j], bucket[j-1]) < 0; j-- {
					bucket[j], bucket[j-1] = bucket[j-1], bucket[j]
				}
			}
			continue
		}
		slices.SortFunc(bucket, cmpUnit)
	}
}

// merge calls fn with every unit of the sorted runs, in order.
func merge(runs []*io.SectionReader, fn func(unit)) error {
	h := &runHeap{}
	for _, r := range runs {
		c := &cursor{r: bufio.NewReaderSize(r, 64<<10)}
		if ok, err := c.next(); err != nil {
			return err
		} else if ok {
			heap.Push(h, c)
		}
	}
	for h.Len() > 0 {
		c := (*h)[0]
		fn(c.cur)
		if ok, err := c.next(); err != nil {
			return err
		} else if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return nil
}

type cursor struct {
	r   *bufio.Reader
	cur unit
	b   [16]byte
}

func (c *cursor) next() (bool, error) {
	if _, err := io.ReadFull(c.r, c.b[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	c.cur = unit{binary.LittleEndian.Uint64(c.b[:8]), binary.LittleEndian.Uint64(c.b[8:])}
	return true, nil
}

type runHeap []*cursor

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return cmpUnit(h[i].cur, h[j].cur) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// discard removes the spool.
func (u *unitCheck) discard() {
	if u.spool != nil {
		u.spool.Close()
		os.Remove(u.spool.Name())
	}
}

func column[T arrow.Array](rec arrow.Record, s *arrow.Schema, name string) T {
	var zero T
	idx := s.FieldIndices(name)
	if len(idx) != 1 {
		return zero
	}
	c, _ := rec.Column(idx[0]).(T)
	return c
}
