// Package ees knows the EES portfolio export: its columns and the DTC data
// items they carry (pipelines/ees-columns.yaml).
package ees

import (
	"bytes"
	"fmt"
	"os"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Columns maps EES headers to data item refs, with the extra items (EES.*
// refs) that have no DTC item.
type Columns struct {
	Header map[string]string      // CSV header -> ref
	Extra  map[string]*dflow.Item // EES.* ref -> item
}

// LoadColumns reads and checks an EES column mapping against the catalogue.
func LoadColumns(path string, cat *dflow.Catalog) (*Columns, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading EES columns: %w", err)
	}
	return ParseColumns(path, b, cat)
}

// ParseColumns is LoadColumns on bytes; path names them in errors.
func ParseColumns(path string, b []byte, cat *dflow.Catalog) (*Columns, error) {
	var f struct {
		Columns    map[string]string `yaml:"columns"`
		ExtraItems map[string]struct {
			Name   string `yaml:"name"`
			Format string `yaml:"format"`
		} `yaml:"extra_items"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := &Columns{Header: f.Columns, Extra: map[string]*dflow.Item{}}
	for ref, x := range f.ExtraItems {
		ft, err := dflow.ParseFormat(x.Format)
		if err != nil {
			return nil, fmt.Errorf("%s: extra item %s: %w", path, ref, err)
		}
		if cat.Item(ref) != nil {
			return nil, fmt.Errorf("%s: extra item %s is a DTC item: map the column to it directly", path, ref)
		}
		it := &dflow.Item{Ref: ref, Name: x.Name, Format: ft, Type: dflow.TypeString}
		switch ft.Kind {
		case dflow.KindDate:
			it.Type = dflow.TypeDate
		case dflow.KindDateTime:
			it.Type = dflow.TypeTimestamp
		}
		c.Extra[ref] = it
	}
	for h, ref := range c.Header {
		if cat.Item(ref) == nil && c.Extra[ref] == nil {
			return nil, fmt.Errorf("%s: column %q maps to %s, which is neither a DTC item nor an extra item", path, h, ref)
		}
	}
	return c, nil
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
