// Package dtcgen builds the project's embedded flow catalogue from the
// machine-readable DTC extraction (shared/dtc/<version>). It resolves every
// field's logical format (flow width, item sign and scale, alias overrides),
// decides each item's column type and marks MPAN-typed items.
package dtcgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// mpanAliases are MPAN-typed items the override file does not tie to J0003
// but whose name and domain make them MPAN cores (13-digit identifiers with
// the J0003 check digit). Kept as data: extend when the catalogue grows.
var mpanAliases = map[string]bool{
	"J0845": true, // Associated MPAN
	"J1814": true, // New GD MPAN Core
	"J2243": true, // Primary MPAN
	"J2244": true, // Secondary MPAN
	"J2274": true, // AMSID Core
	"J2317": true, // Associated Import / Export MSID
}

// stringDomains hold numeric-looking codes whose leading zeros matter.
var stringDomains = map[string]bool{"Identifier": true, "Code": true, "Indicator": true}

type srcManifest struct {
	DTCVersion string `json:"dtcVersion"`
	Flows      []struct {
		FlowID, FlowVersion, FlowName, File string
	} `json:"flows"`
}

type srcItem struct {
	Name          string `json:"name"`
	Domain        string `json:"domain"`
	LogicalFormat string `json:"logicalFormat"`
	ValidSet      struct {
		Kind   string `json:"kind"`
		Values []struct {
			Code string `json:"code"`
		} `json:"values"`
	} `json:"validSet"`
}

type srcOverride struct {
	AliasOf *string `json:"aliasOf"`
	Format  *string `json:"format"`
}

type srcGroup struct {
	Name        string  `json:"name"`
	Parent      *string `json:"parent"`
	Level       int     `json:"level"`
	Cardinality struct {
		Min int  `json:"min"`
		Max *int `json:"max"`
	} `json:"cardinality"`
	Fields []struct {
		Ref      string `json:"ref"`
		Name     string `json:"name"`
		Format   string `json:"format"`
		Required bool   `json:"required"`
	} `json:"fields"`
}

// Build reads the DTC extraction in dir and returns the catalogue JSON
// exactly as committed in internal/dflow/catalog.json.
func Build(dir string) ([]byte, error) {
	var man srcManifest
	if err := readJSON(filepath.Join(dir, "manifest.json"), &man); err != nil {
		return nil, err
	}
	var items map[string]srcItem
	if err := readJSON(filepath.Join(dir, "data-items.json"), &items); err != nil {
		return nil, err
	}
	var ov struct {
		Items map[string]srcOverride `json:"items"`
	}
	if err := readJSON(filepath.Join(dir, "format-overrides.json"), &ov); err != nil {
		return nil, err
	}
	cat := dflow.Catalog{DTCVersion: man.DTCVersion, Items: map[string]*dflow.Item{}}
	for ref, si := range items {
		if ref == "" {
			continue
		}
		it, err := buildItem(ref, si, ov.Items)
		if err != nil {
			return nil, err
		}
		cat.Items[ref] = it
	}
	for _, mf := range man.Flows {
		f, err := buildFlow(filepath.Join(dir, mf.File), cat.Items)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mf.File, err)
		}
		cat.Flows = append(cat.Flows, f)
	}
	sort.Slice(cat.Flows, func(i, j int) bool { return cat.Flows[i].Key() < cat.Flows[j].Key() })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(cat); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func buildItem(ref string, si srcItem, ovs map[string]srcOverride) (*dflow.Item, error) {
	it := &dflow.Item{Name: si.Name, Domain: si.Domain}
	lf := si.LogicalFormat
	base := ref
	if o, ok := ovs[ref]; ok && strings.TrimSpace(lf) == "" {
		if o.Format != nil {
			lf = *o.Format
		}
		if o.AliasOf != nil {
			base = *o.AliasOf
		}
	}
	if strings.TrimSpace(lf) == "" {
		it.Unresolved = true
		it.Format = dflow.Format{Kind: dflow.KindText}
	} else {
		f, err := dflow.ParseFormat(lf)
		if err != nil {
			return nil, fmt.Errorf("item %s: %w", ref, err)
		}
		it.Format = f
	}
	it.MPAN = ref == "J0003" || base == "J0003" || mpanAliases[ref]
	if si.ValidSet.Kind == "enum" {
		for _, v := range si.ValidSet.Values {
			it.ValidSet = append(it.ValidSet, v.Code)
		}
	}
	it.Type = columnType(it)
	return it, nil
}

func columnType(it *dflow.Item) dflow.Type {
	switch it.Format.Kind {
	case dflow.KindNum, dflow.KindInt:
		switch {
		case it.MPAN || stringDomains[it.Domain] || len(it.ValidSet) > 0:
			return dflow.TypeString
		case it.Format.Scale > 0:
			return dflow.TypeDecimal
		case it.Format.Width > 18:
			return dflow.TypeDecimal // beyond int64
		default:
			return dflow.TypeInt64
		}
	case dflow.KindDate:
		return dflow.TypeDate
	case dflow.KindDateTime:
		return dflow.TypeTimestamp
	case dflow.KindBoolean:
		return dflow.TypeBool
	}
	return dflow.TypeString
}

// fieldFormat combines the flow's format (its width) with the item's
// (sign, scale, and everything when the flow leaves it blank).
func fieldFormat(flowFmt string, it *dflow.Item) (dflow.Format, error) {
	ff := strings.TrimSpace(flowFmt)
	if ff == "" || ff == "(0)" {
		return it.Format, nil
	}
	f, err := dflow.ParseFormat(ff)
	if err != nil {
		return f, err
	}
	if f.Kind == dflow.KindNum && it.Format.Kind == dflow.KindNum {
		f.Signed, f.Scale = it.Format.Signed, it.Format.Scale
		if f.Width < f.Scale {
			f.Width = it.Format.Width
		}
	}
	return f, nil
}

func buildFlow(path string, items map[string]*dflow.Item) (*dflow.Flow, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var head struct {
		FlowID      string          `json:"flowId"`
		FlowVersion string          `json:"flowVersion"`
		FlowName    string          `json:"flowName"`
		Routes      []dflow.Route   `json:"routes"`
		Groups      json.RawMessage `json:"groups"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, err
	}
	codes, err := orderedKeys(head.Groups)
	if err != nil {
		return nil, err
	}
	var groups map[string]srcGroup
	if err := json.Unmarshal(head.Groups, &groups); err != nil {
		return nil, err
	}
	f := &dflow.Flow{ID: head.FlowID, Version: head.FlowVersion, Name: head.FlowName, Routes: routes(head.Routes)}
	for _, code := range codes {
		sg := groups[code]
		g := &dflow.Group{Code: code, Name: sg.Name, Level: sg.Level, Min: sg.Cardinality.Min, Max: dflow.Unbounded}
		if sg.Parent != nil {
			g.Parent = *sg.Parent
		}
		if sg.Cardinality.Max != nil {
			g.Max = *sg.Cardinality.Max
		}
		for _, sf := range sg.Fields {
			it := items[sf.Ref]
			if it == nil {
				return nil, fmt.Errorf("group %s: data item %s not in dictionary", code, sf.Ref)
			}
			ft, err := fieldFormat(sf.Format, it)
			if err != nil {
				return nil, fmt.Errorf("group %s item %s: %w", code, sf.Ref, err)
			}
			g.Fields = append(g.Fields, dflow.Field{Ref: sf.Ref, Name: sf.Name, Format: ft, Required: sf.Required})
		}
		f.Groups = append(f.Groups, g)
	}
	return f, nil
}

// routes are a flow's distinct routes (the extraction repeats them per
// catalogue version), sorted.
func routes(in []dflow.Route) []dflow.Route {
	seen := map[dflow.Route]bool{}
	var out []dflow.Route
	for _, r := range in {
		r = dflow.Route{From: r.From, To: r.To}
		if r.From == "" || r.To == "" || seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].To < out[j].To
	})
	return out
}

// orderedKeys returns an object's keys in document order (catalogue order).
func orderedKeys(obj json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading DTC source: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	return nil
}
