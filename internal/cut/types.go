package cut

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/mhhs-sit/datacut/internal/defs"
)

// What the allocator's universe takes from a cut type (Type.Universe).
const (
	// UniverseAttributes: the MPANs of its ees_portfolio table, with the
	// attributes demands filter on and the appointed participants.
	UniverseAttributes = "attributes"
	// UniverseLinks: related MPANs (its d0204_48m table), which link MPANs
	// into units that move together.
	UniverseLinks = "links"
	// UniverseMTD: every MPAN in its tables has meter technical details.
	UniverseMTD = "mtd"
	// UniverseCustomer: every MPAN in its tables has customer details.
	UniverseCustomer = "customer"
)

var universeRoles = []string{UniverseAttributes, UniverseLinks, UniverseMTD, UniverseCustomer}

// Type is a cut type as its definition declares it, pipelines/cuts/<name>.yaml:
// what both the batch worker (how to read it) and the allocator (what it
// holds and who loads it) need.
type Type struct {
	// Name is the cut type: the inbox folder participants upload it to.
	Name string `yaml:"name"`
	// Description says what the cut holds, for people.
	Description string `yaml:"description"`
	// Rules is the DPIA rule set that masks it, relative to the definitions.
	Rules string `yaml:"rules"`
	// Input says how its files are read.
	Input InputSpec `yaml:"input"`
	// Tables is how the cut is laid out as tables: per-group (one table per
	// flow and group, or ees_portfolio).
	Tables string `yaml:"tables"`
	// LoadedBy are the roles whose load packs carry the cut by default.
	LoadedBy []string `yaml:"loaded_by"`
	// Universe is what the allocator's universe takes from the cut:
	// attributes, links, mtd, customer, or nothing (the cut only travels in
	// packs). Whatever it says, the universe records which MPANs each
	// D-flow of the cut holds, so eligibility can ask whether a role's pack
	// will hold an MPAN's data.
	Universe string `yaml:"universe"`
}

// InputSpec is a cut type's input section.
type InputSpec struct {
	// Format is how files are read: dflow or ees-csv.
	Format string `yaml:"format"`
	// Flows are the D-flows a dflow cut may hold.
	Flows []string `yaml:"flows"`
	// Columns is the ees-csv column mapping file, relative to the definitions.
	Columns string `yaml:"columns"`
	// Encoding is a dflow input's text encoding: auto (the default: UTF-8,
	// and a line that is not UTF-8 but is Windows-1252 read as Windows-1252
	// with a warning), utf-8, or windows-1252.
	Encoding string `yaml:"encoding"`
}

// Defaults fills in what a definition may leave out.
func (t *Type) Defaults() {
	if t.Tables == "" {
		t.Tables = "per-group"
	}
}

var typeNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// Validate checks what the cut type declares, except its input section,
// which the batch worker's formats check.
func (t *Type) Validate(doc *defs.Doc) {
	if want := strings.TrimSuffix(path.Base(doc.File), ".yaml"); t.Name != want {
		doc.Fail(defs.Path("name"), "name %q must match the file name %q (it is the inbox folder of the cut)", t.Name, want)
	} else if !typeNameRE.MatchString(t.Name) {
		doc.Fail(defs.Path("name"), "name %q must be lower-case letters, digits and '-', starting with a letter (it is a folder name in the store)", t.Name)
	}
	if t.Tables != "per-group" {
		doc.Fail(defs.Path("tables"), "tables must be per-group (one table per flow and group, or ees_portfolio)")
	}
	for _, r := range t.LoadedBy {
		if !slices.Contains(AllRoles, r) {
			doc.Fail(defs.Path("loaded_by"), "unknown role %q (one of %s)", r, strings.Join(AllRoles, ", "))
		}
	}
	if t.Universe != "" && !slices.Contains(universeRoles, t.Universe) {
		doc.Fail(defs.Path("universe"), "universe %q: one of %s, or leave it out when the allocator only carries the cut in packs", t.Universe, strings.Join(universeRoles, ", "))
	}
}

// TypesGlob is where cut type definitions live in a definitions directory.
const TypesGlob = "cuts/*.yaml"

// LoadTypes reads every cut type of a definitions directory, in name order.
// All problems are reported together.
func LoadTypes(fsys fs.FS) (Types, error) {
	files, err := fs.Glob(fsys, TypesGlob)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no cut type definitions (%s)", TypesGlob)
	}
	var ts Types
	var errs []error
	for _, f := range files {
		t := &Type{}
		if _, err := defs.Load(fsys, f, t); err != nil {
			errs = append(errs, err)
			continue
		}
		ts = append(ts, t)
	}
	if len(errs) > 0 {
		return nil, defs.Join(errs)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	return ts, nil
}

// Types are the cut types of a definitions directory, in name order.
type Types []*Type

// Named is the cut type called name, or nil.
func (ts Types) Named(name string) *Type {
	for _, t := range ts {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Names lists the cut types' names, in order.
func (ts Types) Names() []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}
