// Package pipeline runs the data cut pipelines: it reads pending cuts from
// the store's inbox, validates and masks them, and publishes each as Parquet
// tables with a manifest written last.
package pipeline

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/mask"
)

// Input formats a pipeline can read.
const (
	FormatDFlow  = "dflow"
	FormatEESCSV = "ees-csv"
)

// Definition is one cut type's pipeline (pipelines/cuts/<name>.yaml).
type Definition struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Rules       string `yaml:"rules"`
	Input       struct {
		Format  string   `yaml:"format"`
		Flows   []string `yaml:"flows"`
		Columns string   `yaml:"columns"`
	} `yaml:"input"`
	Tables string `yaml:"tables"`

	Path    string          `yaml:"-"`
	rules   *mask.Rules     `yaml:"-"`
	resolve mask.Resolver   `yaml:"-"`
	columns *ees.Columns    `yaml:"-"`
	flows   map[string]bool `yaml:"-"`
}

// RulesSet is the loaded DPIA rule set of the pipeline.
func (d *Definition) RulesSet() *mask.Rules { return d.rules }

// Resolver resolves the pipeline's data items.
func (d *Definition) Resolver() mask.Resolver { return d.resolve }

// Accepts reports whether the pipeline reads a flow id (D0150).
func (d *Definition) Accepts(flow string) bool { return d.flows[flow] }

// Set is every pipeline of a definitions directory, by name.
type Set map[string]*Definition

// Names lists the pipelines in order.
func (s Set) Names() []string {
	var n []string
	for k := range s {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Load reads and lints every pipeline in cuts/ of the definitions file
// system: strict decoding, known formats and flows, a loadable rule set and
// fail-closed coverage of every item the pipeline can read. All problems
// are reported together, each at file:line.
func Load(defs fs.FS) (Set, error) {
	files, err := fs.Glob(defs, "cuts/*.yaml")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no pipeline definitions in cuts/*.yaml")
	}
	set := Set{}
	var problems []string
	for _, f := range files {
		d, errs := loadOne(defs, f)
		problems = append(problems, errs...)
		if d != nil {
			if prev := set[d.Name]; prev != nil {
				problems = append(problems, fmt.Sprintf("%s: pipeline %q is also defined in %s", f, d.Name, prev.Path))
			}
			set[d.Name] = d
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid pipelines:\n  %s", strings.Join(problems, "\n  "))
	}
	return set, nil
}

func loadOne(defs fs.FS, file string) (*Definition, []string) {
	b, err := fs.ReadFile(defs, file)
	if err != nil {
		return nil, []string{err.Error()}
	}
	var node yaml.Node
	if err := yaml.Unmarshal(b, &node); err != nil {
		return nil, []string{fmt.Sprintf("%s: %v", file, err)}
	}
	d := &Definition{Path: file}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(d); err != nil {
		return nil, []string{fmt.Sprintf("%s: %v", file, err)}
	}
	var errs []string
	fail := func(key, format string, a ...any) {
		errs = append(errs, fmt.Sprintf("%s:%d: %s", file, keyLine(&node, key), fmt.Sprintf(format, a...)))
	}
	if want := strings.TrimSuffix(path.Base(file), ".yaml"); d.Name != want {
		fail("name", "name %q must match the file name %q (it is the inbox folder of the cut)", d.Name, want)
	}
	if d.Tables != "per-group" {
		fail("tables", "tables must be per-group (one table per flow and group, or ees_portfolio)")
	}
	cat := dflow.DefaultCatalog()
	var extra map[string]*dflow.Item
	var refs []string
	switch d.Input.Format {
	case FormatDFlow:
		if len(d.Input.Flows) == 0 {
			fail("input", "a dflow input lists its flows")
		}
		d.flows = map[string]bool{}
		for _, f := range d.Input.Flows {
			if len(cat.Versions(f)) == 0 {
				fail("input", "flow %s is not in DTC %s", f, cat.DTCVersion)
				continue
			}
			d.flows[f] = true
			refs = append(refs, mask.FlowRefs(cat, f)...)
		}
	case FormatEESCSV:
		cb, err := fs.ReadFile(defs, d.Input.Columns)
		if err != nil {
			fail("input", "columns: %v", err)
			break
		}
		if d.columns, err = ees.ParseColumns(d.Input.Columns, cb, cat); err != nil {
			fail("input", "%v", err)
			break
		}
		extra = d.columns.Extra
		refs = d.columns.Refs()
	default:
		fail("input", "unknown input format %q (dflow or ees-csv)", d.Input.Format)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	d.resolve = mask.CatalogResolver(cat, extra)
	if d.columns == nil {
		// D-flow pipelines still resolve EES extra items the shared rules name.
		if cb, err := fs.ReadFile(defs, "ees-columns.yaml"); err == nil {
			if cols, err := ees.ParseColumns("ees-columns.yaml", cb, cat); err == nil {
				d.resolve = mask.CatalogResolver(cat, cols.Extra)
			}
		}
	}
	rb, err := fs.ReadFile(defs, d.Rules)
	if err != nil {
		fail("rules", "%v", err)
		return nil, errs
	}
	if d.rules, err = mask.ParseRules(d.Rules, rb, d.resolve); err != nil {
		fail("rules", "%v", err)
		return nil, errs
	}
	if err := d.rules.RequireCoverage("pipeline "+d.Name, refs, d.resolve); err != nil {
		fail("rules", "%v", err)
		return nil, errs
	}
	return d, nil
}

// keyLine is the line of a top-level key in a YAML document (1 if absent).
func keyLine(doc *yaml.Node, key string) int {
	if len(doc.Content) == 0 {
		return 1
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i].Line
		}
	}
	return 1
}
