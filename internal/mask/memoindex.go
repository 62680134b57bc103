package mask

// memoIndex maps a memo entry's hash to its offset in the arena: open
// addressing over a power-of-two table kept at most half full, the slot
// chosen by the hash's low bits (maphash's are uniform). A memo is looked
// up for every value a session masks; Go's map took twice the time, most
// of it in probing its control groups and growing incrementally.
type memoIndex struct {
	hashes []uint64
	offs   []int32 // offset+1; 0 marks an empty slot
	n      int
}

func newMemoIndex() *memoIndex {
	return &memoIndex{hashes: make([]uint64, 64), offs: make([]int32, 64)}
}

// find returns the offset stored for h; a nil index holds nothing.
func (x *memoIndex) find(h uint64) (int, bool) {
	if x == nil {
		return 0, false
	}
	mask := uint64(len(x.offs) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		o := x.offs[i]
		if o == 0 {
			return 0, false
		}
		if x.hashes[i] == h {
			return int(o - 1), true
		}
	}
}

// set stores off for h, in place of any offset stored for it before.
func (x *memoIndex) set(h uint64, off int) {
	if 2*(x.n+1) > len(x.offs) {
		x.grow()
	}
	mask := uint64(len(x.offs) - 1)
	i := h & mask
	for ; x.offs[i] != 0; i = (i + 1) & mask {
		if x.hashes[i] == h {
			x.offs[i] = int32(off + 1)
			return
		}
	}
	x.hashes[i], x.offs[i] = h, int32(off+1)
	x.n++
}

// grow doubles the table.
func (x *memoIndex) grow() {
	hashes, offs := x.hashes, x.offs
	x.hashes, x.offs = make([]uint64, 2*len(offs)), make([]int32, 2*len(offs))
	mask := uint64(len(x.offs) - 1)
	for j, o := range offs {
		if o == 0 {
			continue
		}
		i := hashes[j] & mask
		for x.offs[i] != 0 {
			i = (i + 1) & mask
		}
		x.hashes[i], x.offs[i] = hashes[j], o
	}
}
