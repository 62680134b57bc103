// Package ees knows the EES portfolio export: its columns and the DTC data
// items they carry (pipelines/ees-columns.yaml).
package ees

import (
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Columns maps EES headers to data item refs, with the extra items (EES.*
// refs) that have no DTC item.
type Columns struct {
	Header   map[string]string      // CSV header -> ref
	Order    []string               // the headers in the mapping's order: the table's columns
	Required []string               // headers a file must have (mpan-core unless the mapping says)
	Extra    map[string]*dflow.Item // EES.* ref -> item
	// Names maps every heading a file may use, normalised (Normalise),
	// to the mapping's header: each header itself and its aliases.
	Names map[string]string
	// Layouts read a file whose first line names no column by position
	// (ECOES's own title row): the first whose column count the first data
	// row has.
	Layouts []Layout
}

// Layout is a positional reading of an export: title rows to skip, then
// rows whose values are the columns in this order.
type Layout struct {
	Name      string
	TitleRows int
	Columns   []string // the mapping's headers
}

// Normalise is a heading as matched: case and spacing insensitive, and
// '-', '_' and '.' count as spacing, so "MPAN Core", "mpan_core" and
// "mpan-core" are one heading.
func Normalise(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' || r == '\ufeff' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Lookup finds the mapping's header for a file's heading.
func (c *Columns) Lookup(heading string) (string, bool) {
	h, ok := c.Names[Normalise(heading)]
	return h, ok
}

// Closest lists up to n of the mapping's headers nearest to heading (by
// edit distance between normalised names, aliases counting for their
// header), nearest first: our names only, for telling a participant what an
// unknown heading may have meant.
func (c *Columns) Closest(heading string, n int) []string {
	h := Normalise(heading)
	best := map[string]int{}
	for name, header := range c.Names {
		d := editDistance(h, name)
		if b, ok := best[header]; !ok || d < b {
			best[header] = d
		}
	}
	out := make([]string, 0, len(best))
	for header := range best {
		out = append(out, header)
	}
	sort.Slice(out, func(i, j int) bool {
		if best[out[i]] != best[out[j]] {
			return best[out[i]] < best[out[j]]
		}
		return out[i] < out[j]
	})
	return out[:min(n, len(out))]
}

// editDistance is the Levenshtein distance between a and b, by rune.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// LoadColumns reads and checks an EES column mapping against the catalogue.
func LoadColumns(path string, cat *dflow.Catalog) (*Columns, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading EES columns: %w", err)
	}
	return ParseColumns(path, b, cat)
}

// LoadColumnsFS is LoadColumns on the file file of fsys. A file that
// cannot be read is an error too.
func LoadColumnsFS(fsys fs.FS, file string, cat *dflow.Catalog) (*Columns, error) {
	f := &columnsFile{cat: cat}
	if _, err := defs.Load(fsys, file, f); err != nil {
		return nil, err
	}
	return f.out, nil
}

// ParseColumns is LoadColumns on bytes; path names them in errors, which
// point at path:line:col.
func ParseColumns(path string, b []byte, cat *dflow.Catalog) (*Columns, error) {
	f := &columnsFile{cat: cat}
	if _, err := defs.LoadBytes(path, b, f); err != nil {
		return nil, err
	}
	return f.out, nil
}

// columnsFile is ees-columns.yaml as decoded; Validate checks it against
// the catalogue and builds the Columns.
type columnsFile struct {
	Columns    map[string]string `yaml:"columns"`
	Required   []string          `yaml:"required"`
	ExtraItems map[string]struct {
		Name   string `yaml:"name"`
		Format string `yaml:"format"`
	} `yaml:"extra_items"`
	Aliases    map[string][]string `yaml:"aliases"`
	Positional []struct {
		Name      string   `yaml:"name"`
		TitleRows int      `yaml:"title_rows"`
		Columns   []string `yaml:"columns"`
	} `yaml:"positional"`

	cat *dflow.Catalog
	out *Columns
}

// Defaults: no columns is an empty mapping.
func (f *columnsFile) Defaults() {
	if f.Columns == nil {
		f.Columns = map[string]string{}
	}
}

// Validate builds f.out, reporting every extra item and column that is
// wrong, in file order.
func (f *columnsFile) Validate(doc *defs.Doc) {
	c := &Columns{Header: f.Columns, Required: f.Required, Extra: map[string]*dflow.Item{}, Names: map[string]string{}}
	f.out = c
	bad := map[string]bool{} // extra items with a problem: columns mapped to them are not checked
	extra, _ := defs.Child(doc.Root(), "extra_items")
	eachKey(extra, func(k, v *yaml.Node) {
		ref, x := k.Value, f.ExtraItems[k.Value]
		ft, err := dflow.ParseFormat(x.Format)
		if err != nil {
			at := k
			if _, fk := defs.Child(v, "format"); fk != nil {
				at = fk
			}
			doc.FailAt(at, "extra item %s: %v", ref, err)
			bad[ref] = true
			return
		}
		if f.cat.Item(ref) != nil {
			doc.FailAt(k, "extra item %s is a DTC item: map the column to it directly", ref)
			return
		}
		it := &dflow.Item{Ref: ref, Name: x.Name, Format: ft, Type: dflow.TypeString}
		switch ft.Kind {
		case dflow.KindDate:
			it.Type = dflow.TypeDate
		case dflow.KindDateTime:
			it.Type = dflow.TypeTimestamp
		}
		c.Extra[ref] = it
	})
	cols, _ := defs.Child(doc.Root(), "columns")
	eachKey(cols, func(k, v *yaml.Node) {
		h, ref := k.Value, f.Columns[k.Value]
		c.Order = append(c.Order, h)
		if f.cat.Item(ref) == nil && c.Extra[ref] == nil && !bad[ref] {
			doc.FailAt(v, "column %q maps to %s, which is neither a DTC item nor an extra item", h, ref)
		}
		if o, ok := c.Names[Normalise(h)]; ok {
			doc.FailAt(k, "column %q is column %q written another way (headings match whatever their case, spaces, '-', '_' and '.')", h, o)
			return
		}
		c.Names[Normalise(h)] = h
	})
	aliases, _ := defs.Child(doc.Root(), "aliases")
	eachKey(aliases, func(k, v *yaml.Node) {
		h := k.Value
		if _, ok := f.Columns[h]; !ok {
			doc.FailAt(k, "aliases of %q: no such column", h)
			return
		}
		for i, a := range f.Aliases[h] {
			at := v
			if v.Kind == yaml.SequenceNode && i < len(v.Content) {
				at = v.Content[i]
			}
			n := Normalise(a)
			if n == "" {
				doc.FailAt(at, "alias %q of %q is empty once spacing is ignored", a, h)
				continue
			}
			if o, ok := c.Names[n]; ok {
				doc.FailAt(at, "alias %q of %q is already a name of %q", a, h, o)
				continue
			}
			c.Names[n] = h
		}
	})
	pos, _ := defs.Child(doc.Root(), "positional")
	seen := map[string]bool{}
	for i, l := range f.Positional {
		at := pos
		if pos != nil && i < len(pos.Content) {
			at = pos.Content[i]
		}
		switch {
		case l.Name == "" || seen[l.Name]:
			doc.FailAt(at, "positional layout %d needs a name of its own", i+1)
			continue
		case l.TitleRows < 0 || l.TitleRows > 10:
			doc.FailAt(at, "positional layout %s: title_rows is 0 to 10", l.Name)
			continue
		}
		seen[l.Name] = true
		twice := map[string]bool{}
		ok := true
		for _, h := range l.Columns {
			if _, known := f.Columns[h]; !known || twice[h] {
				doc.FailAt(at, "positional layout %s: column %q is not a column of the mapping, or is listed twice", l.Name, h)
				ok = false
			}
			twice[h] = true
		}
		for _, h := range c.requiredOr(f.Required) {
			if !twice[h] {
				doc.FailAt(at, "positional layout %s lacks required column %q", l.Name, h)
				ok = false
			}
		}
		if ok {
			c.Layouts = append(c.Layouts, Layout{Name: l.Name, TitleRows: l.TitleRows, Columns: l.Columns})
		}
	}
	req, _ := defs.Child(doc.Root(), "required")
	if req == nil {
		if _, ok := f.Columns["mpan-core"]; ok {
			c.Required = []string{"mpan-core"}
		}
		return
	}
	for i, h := range f.Required {
		if _, ok := f.Columns[h]; !ok {
			at := req
			if req.Kind == yaml.SequenceNode && i < len(req.Content) {
				at = req.Content[i]
			}
			doc.FailAt(at, "required column %q is not among the columns", h)
		}
	}
}

// requiredOr is the required columns as Validate settles them: the
// file's list, else mpan-core when mapped.
func (c *Columns) requiredOr(req []string) []string {
	if req != nil {
		return req
	}
	if _, ok := c.Header["mpan-core"]; ok {
		return []string{"mpan-core"}
	}
	return nil
}

// eachKey calls fn with each key and value of mapping n, in file order.
func eachKey(n *yaml.Node, fn func(k, v *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		fn(n.Content[i], n.Content[i+1])
	}
}

// Refs lists the refs of every column, sorted.
func (c *Columns) Refs() []string {
	var refs []string
	for _, r := range c.Header {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	return refs
}
