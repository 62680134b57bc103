package pipeline

import (
	"hash/maphash"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
)

// unitCheck finds the same MPAN unit twice in one flow of a version (in
// one file or two, sent now or carried over): it reads the unit tables'
// masked MPANs as they are written, so it sees no raw value, and keeps 16
// bytes per unit.
type unitCheck struct {
	units   map[string]bool   // the tables whose rows are units
	seen    map[uint64]uint64 // hash of table and masked MPAN → where first (file index, line)
	files   []string          // source file ids, by index
	fileIdx map[string]uint64
	seed    maphash.Seed
	found   cut.Duplicates
}

func newUnitCheck(units map[string]bool) *unitCheck {
	return &unitCheck{units: units, seen: map[uint64]uint64{}, fileIdx: map[string]uint64{}, seed: maphash.MakeSeed()}
}

// see checks the rows of a masked record of table.
func (u *unitCheck) see(table string, rec arrow.Record) {
	if !u.units[table] {
		return
	}
	s := rec.Schema()
	mp, files, lines := column[*array.String](rec, s, dflow.ColInstanceMPAN), column[*array.String](rec, s, dflow.ColSourceFileID), column[*array.Int64](rec, s, dflow.ColRecordLine)
	if mp == nil || files == nil || lines == nil {
		return
	}
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
		at := u.file(files.Value(i))<<32 | uint64(uint32(lines.Value(i)))
		first, dup := u.seen[h.Sum64()]
		if !dup {
			u.seen[h.Sum64()] = at
			continue
		}
		u.found.Count++
		if len(u.found.Listed) < cut.MaxListedDuplicates {
			u.found.Listed = append(u.found.Listed, cut.DuplicateUnit{Table: table,
				First: cut.Location{Input: u.files[first>>32], Line: int(uint32(first))},
				Again: cut.Location{Input: files.Value(i), Line: int(lines.Value(i))}})
		}
	}
}

func (u *unitCheck) file(id string) uint64 {
	i, ok := u.fileIdx[id]
	if !ok {
		i = uint64(len(u.files))
		u.fileIdx[id] = i
		u.files = append(u.files, id)
	}
	return i
}

// result names each location by its part's file name rather than its
// source file id.
func (u *unitCheck) result(parts []cut.Input) *cut.Duplicates {
	if u.found.Count == 0 {
		return nil
	}
	names := map[string]string{}
	for _, p := range parts {
		names[p.FileID] = p.Name()
	}
	out := u.found
	for i := range out.Listed {
		for _, l := range []*cut.Location{&out.Listed[i].First, &out.Listed[i].Again} {
			if n, ok := names[l.Input]; ok {
				l.Input = n
			}
		}
	}
	return &out
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
