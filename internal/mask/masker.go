package mask

import (
	"fmt"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Masker applies a rule set with the programme key. Safe for concurrent
// use; identifier and fake mappings are memoised within a run.
type Masker struct {
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
	m      method
	memo   *memo // nil for methods cheaper than a lookup
}

// New compiles rules with the key.
func New(rules *Rules, key Key, resolve Resolver) (*Masker, error) {
	mk := &Masker{rules: rules, key: key, resolve: resolve, domains: map[string]method{}, items: map[string]*itemMasker{}}
	memos := map[string]*memo{}
	for name, d := range rules.Domains {
		sub := key.derive("domain|" + name)
		var m method
		var err error
		switch d.Method {
		case MethodKeep:
			m = keepMethod{}
		case MethodBlank:
			m = blankMethod{}
		case MethodRedact:
			m = redactMethod{}
		case MethodMPAN:
			m, err = newMPAN(sub)
		case MethodIdentifier:
			m, err = newIdentifier(sub, d.Alphabet == "hex")
		case MethodFake:
			m = &fakeMethod{key: sub, kind: d.Fake, keepOutwardCode: d.KeepOutwardCode}
		}
		if err != nil {
			return nil, fmt.Errorf("domain %s: %w", name, err)
		}
		mk.domains[name] = m
		if d.Method == MethodMPAN || d.Method == MethodIdentifier || d.Method == MethodFake {
			memos[name] = newMemo()
		}
	}
	for ref, r := range rules.Items {
		it := resolve(ref)
		im := &itemMasker{ref: ref, item: it, domain: r.Domain, m: mk.domains[r.Domain.Name], memo: memos[r.Domain.Name]}
		if r.Domain.Method == MethodConstant {
			im.m = constantMethod{value: []byte(constantFor(r, it))}
		}
		mk.items[ref] = im
	}
	return mk, nil
}

// Rules returns the rule set.
func (mk *Masker) Rules() *Rules { return mk.rules }

// KeyFingerprint identifies the key in manifests.
func (mk *Masker) KeyFingerprint() string { return mk.key.Fingerprint() }

// Value masks one value of an item at the given width (0: the item's own).
// Empty values stay empty. An item without a rule is an error: fail-closed.
func (mk *Masker) Value(ref string, v []byte, width int) ([]byte, error) {
	im := mk.items[ref]
	if im == nil {
		return nil, fmt.Errorf("data item %s has no masking rule", ref)
	}
	if len(v) == 0 {
		return v, nil
	}
	if width == 0 {
		width = im.item.Format.Width
	}
	if im.item.Format.Kind != dflow.KindChar {
		width = 0 // numbers, dates: the method keeps the shape
	}
	if im.memo != nil {
		if out, ok := im.memo.get(v); ok {
			return out, nil
		}
	}
	out, err := im.m.mask(v, width)
	if err != nil {
		return nil, fmt.Errorf("masking %s: %w", ref, err)
	}
	if im.memo != nil {
		im.memo.put(v, out)
	}
	return out, nil
}

// Fields masks one record's fields of group g into a new slice.
func (mk *Masker) Fields(g *dflow.Group, fields [][]byte) ([][]byte, error) {
	out := make([][]byte, len(fields))
	for i, v := range fields {
		if i >= len(g.Fields) {
			return nil, fmt.Errorf("group %s: more fields than the catalogue has", g.Code)
		}
		fd := &g.Fields[i]
		m, err := mk.Value(fd.Ref, v, fd.Format.Width)
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
	dflow.ColInstanceMPAN: ptr("J0003"),
}

func ptr(s string) *string { return &s }

// Record masks an Arrow record column by column; kept columns are shared,
// masked ones rebuilt. The caller releases both records.
func (mk *Masker) Record(rec arrow.Record, mem memory.Allocator) (arrow.Record, error) {
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
		masked, err := mk.column(im, col, mem)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		cols[i] = masked
	}
	return array.NewRecord(rec.Schema(), cols, rec.NumRows()), nil
}

func (mk *Masker) column(im *itemMasker, col arrow.Array, mem memory.Allocator) (arrow.Array, error) {
	width := im.item.Format.Width
	switch a := col.(type) {
	case *array.String:
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(a.Len())
		for j := 0; j < a.Len(); j++ {
			if a.IsNull(j) {
				b.AppendNull()
				continue
			}
			v, err := mk.Value(im.ref, []byte(a.Value(j)), width)
			if err != nil {
				return nil, err
			}
			b.BinaryBuilder.Append(v)
		}
		return b.NewArray(), nil
	default:
		if cm, ok := im.m.(constantMethod); ok {
			// A constant for a typed column: parse it as the column's type.
			b := array.NewBuilder(mem, col.DataType())
			defer b.Release()
			fd := &dflow.Field{Ref: im.ref, Format: im.item.Format, Item: im.item}
			for j := 0; j < col.Len(); j++ {
				v := cm.value
				if col.IsNull(j) {
					v = nil
				}
				if err := dflow.AppendValue(b, fd, v); err != nil {
					return nil, err
				}
			}
			return b.NewArray(), nil
		}
		return nil, fmt.Errorf("method %s cannot mask a %s column", im.domain.Method, col.DataType())
	}
}

// memo is a bounded concurrent cache of masked values. When full it starts
// over: memory stays bounded at national scale, the mapping is the same.
type memo struct {
	mu sync.RWMutex
	m  map[string][]byte
}

const memoMax = 1 << 20

func newMemo() *memo { return &memo{m: make(map[string][]byte)} }

func (c *memo) get(k []byte) ([]byte, bool) {
	c.mu.RLock()
	v, ok := c.m[string(k)]
	c.mu.RUnlock()
	return v, ok
}

func (c *memo) put(k, v []byte) {
	c.mu.Lock()
	if len(c.m) >= memoMax {
		c.m = make(map[string][]byte)
	}
	c.m[string(k)] = v
	c.mu.Unlock()
}
