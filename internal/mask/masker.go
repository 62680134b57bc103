package mask

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/columns"
	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Masker applies a rule set with the programme key. Safe for concurrent
// use. A Session adds a private cache of recent results for one goroutine.
type Masker struct {
	caches  int // number of cached domains
	rules   *Rules
	key     Key
	resolve Resolver
	domains map[string]method // by domain name
	items   map[string]*itemMasker
}

type itemMasker struct {
	ref    string
	item   *dflow.Item
	domain *Domain
	spec   *methodSpec
	m      method
	cache  int // index of the domain's cache in a Session; -1: not worth caching
}

// New compiles rules with the key.
func New(rules *Rules, key Key, resolve Resolver) (*Masker, error) {
	mk := &Masker{caches: 0, rules: rules, key: key, resolve: resolve, domains: map[string]method{}, items: map[string]*itemMasker{}}
	caches := map[string]int{}
	for name, d := range rules.Domains {
		spec := methodNamed(d.Method)
		if spec == nil {
			return nil, fmt.Errorf("domain %s: %s", name, unknownMethod(d.Method))
		}
		m, err := spec.build(d, key.derive("domain|"+name))
		if err != nil {
			return nil, fmt.Errorf("domain %s: %w", name, err)
		}
		mk.domains[name] = m
		if spec.cached {
			caches[name] = len(caches)
		}
	}
	mk.caches = len(caches)
	for ref, r := range rules.Items {
		it := resolve(ref)
		im := &itemMasker{ref: ref, item: it, domain: r.Domain, spec: methodNamed(r.Domain.Method), m: mk.domains[r.Domain.Name], cache: -1}
		if c, ok := caches[r.Domain.Name]; ok {
			im.cache = c
		}
		if m, ok := im.m.(itemMethod); ok {
			im.m = m.forItem(r, it)
		}
		mk.items[ref] = im
	}
	return mk, nil
}

// Rules returns the rule set.
func (mk *Masker) Rules() *Rules { return mk.rules }

// KeyFingerprint identifies the key in manifests.
func (mk *Masker) KeyFingerprint() string { return mk.key.Fingerprint() }

// Session masks like its Masker, remembering recent results of the costly
// methods (FF1, fakes) so repeats are free: the same MPAN appears in every
// table of its instance. Not safe for concurrent use; memory is bounded.
type Session struct {
	mk     *Masker
	caches []*memo
	byInst []*[instSlots]instSlot // per cached domain: results by instance ordinal (see column)
	// scratch of strings
	res      [][]byte
	runOf    []int32
	missRows []int
	missVals [][]byte
}

// instSlot remembers an instance's latest results in one domain. The
// values of an instance recur in its tables (its MPAN on every row, a
// meter's serial in the meter and register groups), and tables list
// instances in order, so slots indexed by ordinal are found again table
// after table, with no hashing and in memory order. Input and width are
// kept and compared, so the ordinal is only a hint: a stale slot is a
// miss, never a wrong answer.
type instSlot [instWays]instEntry

type instEntry struct {
	width   uint16
	n, m    uint8 // input and output lengths; n == 0: empty
	in, out [instValueMax]byte
}

const (
	instSlots    = 1 << 16 // a table's batch holds at most this many instances
	instWays     = 2
	instValueMax = 16 // longer values go through the hash cache
)

func (sl *instSlot) find(v []byte, width int) ([]byte, bool) {
	for k := range sl {
		e := &sl[k]
		if int(e.n) == len(v) && int(e.width) == width && string(e.in[:e.n]) == string(v) {
			return e.out[:e.m:e.m], true
		}
	}
	return nil, false
}

func (sl *instSlot) add(v, out []byte, width int) {
	if len(out) > instValueMax || width > 0xffff {
		return
	}
	copy(sl[1:], sl[:instWays-1])
	e := &sl[0]
	e.width, e.n, e.m = uint16(width), uint8(len(v)), uint8(len(out))
	copy(e.in[:], v)
	copy(e.out[:], out)
}

// memo caches one domain's recent results. It holds no pointers but its
// byte arena, so the garbage collector never walks it: entries are found by
// a hash of input and width and checked against the input and width kept
// in the arena (a fake name cut to 20 characters differs from one cut to
// 35). When full it starts over with a fresh arena (results handed out
// before stay valid). A domain whose values seldom recur (addresses, one
// per customer) gains nothing from it: when a full memo found less than
// one lookup in memoWorth, it stands aside for the next memoRest lookups.
type memo struct {
	at         *memoIndex // hash → entry offset in arena
	arena      []byte     // entries: width u16, len(in) u16, len(out) u16, in, out
	gets, hits int        // lookups and finds since the arena started
	rest       int        // lookups left to answer as misses without looking
}

const (
	memoEntries, memoBytes = 1 << 16, 4 << 20
	memoWorth, memoRest    = 16, 4 * memoEntries
)

var memoSeed = maphash.MakeSeed()

func (m *memo) get(h uint64, v []byte, width int) ([]byte, bool) {
	if m.rest > 0 {
		m.rest--
		return nil, false
	}
	m.gets++
	off, ok := m.at.find(h)
	if !ok {
		return nil, false
	}
	e := m.arena[off:]
	w, in, out := int(binary.LittleEndian.Uint16(e)), int(binary.LittleEndian.Uint16(e[2:])), int(binary.LittleEndian.Uint16(e[4:]))
	if w != width || !bytes.Equal(e[6:6+in], v) {
		return nil, false
	}
	m.hits++
	return e[6+in : 6+in+out : 6+in+out], true
}

func (m *memo) put(h uint64, v, out []byte, width int) {
	if m.rest > 0 || len(v) > 0xffff || len(out) > 0xffff || width > 0xffff {
		return
	}
	if m.at == nil || m.at.n >= memoEntries || len(m.arena)+6+len(v)+len(out) > memoBytes {
		if m.at != nil && m.hits < m.gets/memoWorth {
			m.at, m.arena, m.gets, m.hits, m.rest = nil, nil, 0, 0, memoRest
			return
		}
		// Both start small and grow as used: a small cut's memos stay small.
		// Results handed out keep pointing into the arena they were cut from
		// when append moves it, and entries are never written twice.
		m.at, m.arena, m.gets, m.hits = newMemoIndex(), nil, 0, 0
	}
	m.at.set(h, len(m.arena))
	m.arena = binary.LittleEndian.AppendUint16(m.arena, uint16(width))
	m.arena = binary.LittleEndian.AppendUint16(m.arena, uint16(len(v)))
	m.arena = binary.LittleEndian.AppendUint16(m.arena, uint16(len(out)))
	m.arena = append(append(m.arena, v...), out...)
}

// Session starts a session.
func (mk *Masker) Session() *Session {
	return &Session{mk: mk, caches: make([]*memo, mk.caches)}
}

// Value masks one value of an item at the given width (0: the item's own).
// Empty values stay empty. An item without a rule is an error: fail-closed.
// Safe for concurrent use.
func (mk *Masker) Value(ref string, v []byte, width int) ([]byte, error) {
	return mk.value(nil, ref, v, width)
}

// Value is Masker.Value with the session's cache.
func (s *Session) Value(ref string, v []byte, width int) ([]byte, error) {
	return s.mk.value(s, ref, v, width)
}

// memo is the session's hash cache for the item's domain; nil without a
// session and for domains not worth caching.
func (s *Session) memo(im *itemMasker) *memo {
	if s == nil || im.cache < 0 {
		return nil
	}
	m := s.caches[im.cache]
	if m == nil {
		m = new(memo)
		s.caches[im.cache] = m
	}
	return m
}

func memoHash(v []byte, width int) uint64 {
	return maphash.Bytes(memoSeed, v) ^ uint64(width)*0x9e3779b97f4a7c15
}

func (mk *Masker) value(s *Session, ref string, v []byte, width int) ([]byte, error) {
	im := mk.items[ref]
	if im == nil {
		return nil, fmt.Errorf("data item %s has no masking rule", ref)
	}
	if len(v) == 0 {
		return v, nil
	}
	width = im.width(width)
	m := s.memo(im)
	var h uint64
	if m != nil {
		h = memoHash(v, width)
		if out, ok := m.get(h, v, width); ok {
			return out, nil
		}
	}
	out, err := im.mask(v, width)
	if err != nil {
		return nil, err
	}
	if m != nil {
		m.put(h, v, out, width)
	}
	return out, nil
}

// perInstance says whether the domain's values belong to one instance:
// identifiers (an MPAN, a meter's serial) recur within their instance's
// tables, while fakes' inputs (names, towns) recur across customers and
// are better found by the hash cache.
func (im *itemMasker) perInstance() bool {
	return im.spec.perInstance
}

// width is the width to mask at: the item's own unless given, and none
// for numbers and dates, whose methods keep the shape.
func (im *itemMasker) width(w int) int {
	if w == 0 {
		w = im.item.Format.Width
	}
	if im.item.Format.Kind != dflow.KindChar {
		w = 0
	}
	return w
}

// mask masks one non-empty value at a width from width().
func (im *itemMasker) mask(v []byte, width int) ([]byte, error) {
	out, err := im.m.mask(v, width)
	if err != nil {
		return nil, fmt.Errorf("masking %s: %w", im.ref, err)
	}
	return out, nil
}

// Fields masks one record's fields of group g into a new slice.
func (mk *Masker) Fields(g *dflow.Group, fields [][]byte) ([][]byte, error) {
	return mk.Session().Fields(g, fields)
}

// Fields is Masker.Fields with the session's cache.
func (s *Session) Fields(g *dflow.Group, fields [][]byte) ([][]byte, error) {
	out := make([][]byte, len(fields))
	for i, v := range fields {
		if i >= len(g.Fields) {
			return nil, fmt.Errorf("group %s: more fields than the catalogue has", g.Code)
		}
		fd := &g.Fields[i]
		m, err := s.Value(fd.Ref, v, fd.Format.Width)
		if err != nil {
			return nil, fmt.Errorf("group %s: %w", g.Code, err)
		}
		out[i] = m
	}
	return out, nil
}

// CheckColumns verifies every column of a schema is covered: lineage
// columns are known, data columns need a rule for their J-ref.
func (mk *Masker) CheckColumns(s *arrow.Schema) error {
	for _, f := range s.Fields() {
		if _, ok := lineage[f.Name]; ok {
			continue
		}
		ref, ok := f.Metadata.GetValue(dflow.MetaRef)
		if !ok {
			return fmt.Errorf("column %s has no %s metadata: cannot tell how to mask it", f.Name, dflow.MetaRef)
		}
		if mk.items[ref] == nil {
			return fmt.Errorf("column %s (%s) has no masking rule", f.Name, ref)
		}
	}
	return nil
}

// lineage columns: nil means keep; the instance's MPAN is masked as an MPAN.
var lineage = map[string]*string{
	dflow.ColSourceFileID: nil, dflow.ColRecordLine: nil, dflow.ColParentLine: nil, dflow.ColInstance: nil,
	dflow.ColInstanceMPAN: ptr(mpanRef),
}

func ptr(s string) *string { return &s }

// mpanRef is the MPAN core's data item.
const mpanRef = "J0003"

// Record masks an Arrow record column by column; kept columns are shared,
// masked ones rebuilt. The caller releases both records.
func (mk *Masker) Record(rec arrow.Record, mem memory.Allocator) (arrow.Record, error) {
	return mk.Session().Record(rec, mem)
}

// Record is Masker.Record with the session's cache.
func (s *Session) Record(rec arrow.Record, mem memory.Allocator) (arrow.Record, error) {
	mk := s.mk
	if err := mk.CheckColumns(rec.Schema()); err != nil {
		return nil, err
	}
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	var ordinals *array.Int64
	if i := rec.Schema().FieldIndices(dflow.ColInstance); len(i) == 1 {
		ordinals, _ = rec.Column(i[0]).(*array.Int64)
	}
	for i, f := range rec.Schema().Fields() {
		col := rec.Column(i)
		ref, isLineage := "", false
		if p, ok := lineage[f.Name]; ok {
			isLineage = true
			if p != nil {
				ref = *p
			}
		} else {
			ref, _ = f.Metadata.GetValue(dflow.MetaRef)
		}
		im := mk.items[ref]
		if (isLineage && ref == "") || im.domain.Method == MethodKeep {
			col.Retain()
			cols[i] = col
			continue
		}
		if im.domain.Method == MethodBlank {
			cols[i] = array.MakeArrayOfNull(mem, col.DataType(), col.Len())
			continue
		}
		masked, err := s.column(im, col, ordinals)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		cols[i] = masked
	}
	return array.NewRecord(rec.Schema(), cols, rec.NumRows()), nil
}

// cached looks row j's value up in the session: its instance's slot when
// there is one, else the hash memo.
func (s *Session) cached(im *itemMasker, slots *[instSlots]instSlot, ordinals *array.Int64, j int, v []byte, width int) ([]byte, bool) {
	if slots != nil && len(v) <= instValueMax && !ordinals.IsNull(j) {
		return slots[uint64(ordinals.Value(j))%instSlots].find(v, width)
	}
	if m := s.memo(im); m != nil {
		return m.get(memoHash(v, width), v, width)
	}
	return nil, false
}

// remember keeps row j's masked value where cached will find it.
func (s *Session) remember(im *itemMasker, slots *[instSlots]instSlot, ordinals *array.Int64, j int, v, out []byte, width int) {
	if slots != nil && len(v) <= instValueMax && !ordinals.IsNull(j) {
		slots[uint64(ordinals.Value(j))%instSlots].add(v, out, width)
		return
	}
	if m := s.memo(im); m != nil {
		m.put(memoHash(v, width), v, out, width)
	}
}

// strings masks a string column's values (nil at nulls, empty values kept).
// Runs of equal values are common (the instance MPAN repeats on every row
// of an instance) and are masked once; values the caches miss are masked
// all together when the method can (batchMethod), else one by one.
func (s *Session) strings(im *itemMasker, a *array.String, slots *[instSlots]instSlot, ordinals *array.Int64, width int) ([][]byte, error) {
	data, offs := a.ValueBytes(), a.ValueOffsets()
	base := offs[0]
	// Scratch kept by the session from column to column.
	s.res, s.runOf = slices.Grow(s.res[:0], a.Len())[:a.Len()], slices.Grow(s.runOf[:0], a.Len())[:a.Len()]
	res, runOf := s.res, s.runOf // runOf > 0: row+1 whose value this row repeats
	clear(runOf)
	s.missRows, s.missVals = s.missRows[:0], s.missVals[:0]
	missRows, missVals := s.missRows, s.missVals
	bm, batch := im.m.(batchMethod)
	prev := -1
	for j := range res {
		if a.IsNull(j) {
			continue
		}
		in := data[offs[j]-base : offs[j+1]-base]
		switch {
		case len(in) == 0:
			res[j] = in
		case prev >= 0 && string(in) == string(data[offs[prev]-base:offs[prev+1]-base]):
			runOf[j] = int32(prev) + 1
		default:
			if out, ok := s.cached(im, slots, ordinals, j, in, width); ok {
				res[j] = out
			} else if batch {
				missRows, missVals = append(missRows, j), append(missVals, in)
			} else {
				out, err := im.mask(in, width)
				if err != nil {
					return nil, err
				}
				res[j] = out
				s.remember(im, slots, ordinals, j, in, out, width)
			}
			prev = j
		}
	}
	if len(missVals) > 0 {
		outs, err := bm.maskAll(missVals, width)
		if err != nil {
			return nil, fmt.Errorf("masking %s: %w", im.ref, err)
		}
		for k, j := range missRows {
			res[j] = outs[k]
			s.remember(im, slots, ordinals, j, missVals[k], outs[k], width)
		}
	}
	for j, r := range runOf {
		if r > 0 {
			res[j] = res[r-1]
		}
	}
	s.missRows, s.missVals = missRows, missVals
	return res, nil
}

func (s *Session) column(im *itemMasker, col arrow.Array, ordinals *array.Int64) (arrow.Array, error) {
	width := im.width(0)
	out := columns.New(col.DataType())
	defer out.Discard()
	switch a := col.(type) {
	case *array.String:
		var slots *[instSlots]instSlot
		if ordinals != nil && ordinals.Len() == a.Len() && im.perInstance() {
			if s.byInst == nil {
				s.byInst = make([]*[instSlots]instSlot, len(s.caches))
			}
			if slots = s.byInst[im.cache]; slots == nil {
				slots = new([instSlots]instSlot)
				s.byInst[im.cache] = slots
			}
		}
		res, err := s.strings(im, a, slots, ordinals, width)
		if err != nil {
			return nil, err
		}
		size := 0
		for _, v := range res {
			size += len(v)
		}
		out.SizeHint(a.Len(), size) // the buffers at their final size: no regrowth
		for j, v := range res {
			if a.IsNull(j) {
				out.AppendNull()
			} else {
				out.Bytes(v)
			}
		}
	default:
		cm, ok := im.m.(constantMethod)
		if !ok {
			return nil, fmt.Errorf("method %s cannot mask a %s column", im.domain.Method, col.DataType())
		}
		// A constant for a typed column: parse it as the column's type.
		fd := &dflow.Field{Ref: im.ref, Format: im.item.Format, Item: im.item}
		for j := 0; j < col.Len(); j++ {
			v := cm.value
			if col.IsNull(j) {
				v = nil
			}
			if err := dflow.AppendValue(out, fd, v); err != nil {
				return nil, err
			}
		}
	}
	return out.NewArray(), nil
}
