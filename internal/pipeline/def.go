// Package pipeline is the batch worker: it reads pending cuts from the
// store's inbox, validates and masks them, and publishes each as Parquet
// tables with a manifest written last (the layout and manifest are
// internal/cut's). Pipelines are declared in YAML (pipelines/cuts/*.yaml);
// each input format is one file, format_<name>.go.
package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/programme"
)

// Definition is one cut type's pipeline (pipelines/cuts/<name>.yaml): the
// cut type's contract plus what reading and masking it needs.
type Definition struct {
	cut.Type `yaml:",inline"`

	Path    string        `yaml:"-"`
	fsys    fs.FS         `yaml:"-"`
	in      input         `yaml:"-"`
	rules   *mask.Rules   `yaml:"-"`
	resolve mask.Resolver `yaml:"-"`
}

// Defaults fills in what the file may leave out.
func (d *Definition) Defaults() { d.Type.Defaults() }

// Validate checks the cut type and its input section; rules are checked
// once the whole set is read (they may name other pipelines' items).
func (d *Definition) Validate(doc *defs.Doc) {
	d.Type.Validate(doc)
	f := formatNamed(d.Input.Format)
	if f == nil {
		doc.Fail(defs.Path("input", "format"), "unknown input format %q (one of %s)", d.Input.Format, formatNames())
		return
	}
	d.in = f.schema(d.Input, d.fsys, doc)
}

// RulesSet is the loaded DPIA rule set of the pipeline.
func (d *Definition) RulesSet() *mask.Rules { return d.rules }

// Resolver resolves the pipeline's data items.
func (d *Definition) Resolver() mask.Resolver { return d.resolve }

// Set is every pipeline of a definitions directory, with the rule sets
// they name and one resolver for every data item they can read.
type Set struct {
	ByName map[string]*Definition
	// Register is the programme register of the definitions directory, or
	// nil when it has none: then senders are not checked.
	Register *programme.Register
	rules    map[string]*mask.Rules // by path
	resolve  mask.Resolver
}

// Names lists the pipelines in order.
func (s *Set) Names() []string {
	n := make([]string, 0, len(s.ByName))
	for k := range s.ByName {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Types are the cut types the pipelines define.
func (s *Set) Types() cut.Types {
	var ts cut.Types
	for _, n := range s.Names() {
		ts = append(ts, &s.ByName[n].Type)
	}
	return ts
}

// Rules is the loaded rule set at path (as pipelines name it), or nil.
func (s *Set) Rules(path string) *mask.Rules { return s.rules[path] }

// Resolver resolves every data item of the set: the DTC catalogue's and
// the extra items the definitions declare.
func (s *Set) Resolver() mask.Resolver { return s.resolve }

// DefaultRules is the rule set of the built-in pipelines, the one single
// files are masked with (datacut mask, verify --raw).
const DefaultRules = "dpia.yaml"

// SharedColumns is the definitions directory's EES column mapping: its
// extra items (EES columns without a DTC item) may be named by any rule set.
const SharedColumns = "ees-columns.yaml"

// Load reads and lints every pipeline in cuts/ of the definitions file
// system: strict decoding, known formats and flows, loadable rule sets and
// fail-closed coverage of every item a pipeline can read. All problems are
// reported together, each at file:line:col; nothing read is ever dropped.
func Load(fsys fs.FS) (*Set, error) {
	files, err := fs.Glob(fsys, cut.TypesGlob)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no pipeline definitions in %s", cut.TypesGlob)
	}
	set := &Set{ByName: map[string]*Definition{}, rules: map[string]*mask.Rules{}}
	var errs []error
	docs := map[*Definition]*defs.Doc{}
	var order []*Definition
	for _, f := range files {
		d := &Definition{Path: f, fsys: fsys}
		doc, err := defs.Load(fsys, f, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev := set.ByName[d.Name]; prev != nil {
			doc.Fail(defs.Path("name"), "pipeline %q is also defined in %s", d.Name, prev.Path)
			errs = append(errs, doc.Err())
			continue
		}
		set.ByName[d.Name], docs[d] = d, doc
		order = append(order, d)
	}
	extra, err := sharedExtra(fsys, order)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		// Rule sets name the items of every pipeline: checked once the
		// definitions they refer to are sound.
		return nil, fmt.Errorf("invalid pipelines:\n  %w", defs.Join(errs))
	}
	for _, d := range order {
		for ref, it := range d.in.extra() {
			extra[ref] = it
		}
	}
	set.resolve = mask.CatalogResolver(dflow.DefaultCatalog(), extra)
	for _, d := range order {
		if err := set.prepare(d, docs[d]); err != nil {
			errs = append(errs, err)
		}
	}
	if set.Register, err = loadRegister(fsys, set.Types()); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid pipelines:\n  %w", defs.Join(errs))
	}
	return set, nil
}

// loadRegister reads the directory's programme register, if it has one.
func loadRegister(fsys fs.FS, types cut.Types) (*programme.Register, error) {
	if _, err := fs.Stat(fsys, programme.File); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return programme.Load(fsys, programme.File, types)
}

// sharedExtra reads the extra items of the directory's SharedColumns, if
// it has one and no pipeline already read it as its input.
func sharedExtra(fsys fs.FS, pipelines []*Definition) (map[string]*dflow.Item, error) {
	for _, d := range pipelines {
		if d.Input.Columns == SharedColumns {
			return map[string]*dflow.Item{}, nil
		}
	}
	if _, err := fs.Stat(fsys, SharedColumns); errors.Is(err, fs.ErrNotExist) {
		return map[string]*dflow.Item{}, nil
	}
	cols, err := ees.LoadColumnsFS(fsys, SharedColumns, dflow.DefaultCatalog())
	if err != nil {
		return nil, err
	}
	extra := map[string]*dflow.Item{}
	for ref, it := range cols.Extra {
		extra[ref] = it
	}
	return extra, nil
}

// prepare loads the pipeline's rule set (once per file for the whole set)
// and checks that it covers every item the pipeline can read.
func (s *Set) prepare(d *Definition, doc *defs.Doc) error {
	d.resolve = s.resolve
	rules, seen := s.rules[d.Rules]
	if !seen {
		var err error
		if rules, err = mask.LoadRulesFS(d.fsys, d.Rules, s.resolve); err != nil {
			s.rules[d.Rules] = nil // reported once, for the first pipeline naming it
			var de *defs.Error
			if errors.As(err, &de) {
				return err
			}
			doc.Fail(defs.Path("rules"), "%v", err)
			return doc.Err()
		}
		s.rules[d.Rules] = rules
	}
	if rules == nil {
		return nil
	}
	if err := rules.RequireCoverage("pipeline "+d.Name, d.in.refs(), s.resolve); err != nil {
		doc.Fail(defs.Path("rules"), "%v", err)
		return doc.Err()
	}
	d.rules = rules
	return nil
}

// describe names a definition set's pipelines for messages.
func (s *Set) describe() string { return strings.Join(s.Names(), ", ") }
