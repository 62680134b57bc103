// Package ees knows the EES portfolio export: its columns and the DTC data
// items they carry (pipelines/ees-columns.yaml).
package ees

import (
	"fmt"
	"io/fs"
	"os"
	"sort"

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
	c := &Columns{Header: f.Columns, Required: f.Required, Extra: map[string]*dflow.Item{}}
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
	})
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
