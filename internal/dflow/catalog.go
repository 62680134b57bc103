// Package dflow is the DTC 15.4 data flows: the catalogue of flows, groups and
// data items (generated into catalog.json, embedded), a streaming reader and
// validator of D-flow files, a writer, and conversion to and from Arrow tables.
package dflow

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:generate go run ./cmd/gencatalog -src ../../../shared/dtc/15.4 -out catalog.json

// Catalog is the Data Transfer Catalogue as the project uses it: every flow
// version's groups and fields, and the data-item dictionary. It is generated
// from the shared DTC extraction (see cmd/gencatalog) and embedded.
type Catalog struct {
	DTCVersion string           `json:"dtcVersion"`
	Flows      []*Flow          `json:"flows"`
	Items      map[string]*Item `json:"items"`

	// Corrections are the project's corrections file as applied to the
	// embedded catalogue (nil for a catalogue parsed without them).
	Corrections *Corrections `json:"-"`

	byID map[string][]*Flow // flow id -> versions, ascending
}

// Flow is one version of one D-flow.
type Flow struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Name    string `json:"name"`
	// Routes are who sends the flow to whom, by DTC route role name
	// (Supplier, MOP, NHHDC, SMEM, ...): which roles hold its data.
	Routes []Route  `json:"routes,omitempty"`
	Groups []*Group `json:"groups"` // catalogue order: depth-first

	byCode map[string]*Group
	codes  []uint64 // Groups' codes packed (packShort), for groupOf
}

// Route is one way a flow travels: from a DTC route role to another.
type Route struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Involves reports whether a role named in routes sends or receives the
// flow: either way it holds the flow's data.
func (f *Flow) Involves(routeRoles ...string) bool {
	for _, r := range f.Routes {
		for _, n := range routeRoles {
			if r.From == n || r.To == n {
				return true
			}
		}
	}
	return false
}

// Group is one record type of a flow.
type Group struct {
	Code   string  `json:"code"`
	Name   string  `json:"name"`
	Parent string  `json:"parent,omitempty"` // "" for level 1
	Level  int     `json:"level"`
	Min    int     `json:"min"`
	Max    int     `json:"max"` // Unbounded when many
	Fields []Field `json:"fields"`
	// Cond, from the corrections file, makes Min depend on the file:
	// the recipient's role or an item of the parent record. Nil: Min holds.
	Cond *Condition `json:"-"`

	// Filled in by indexing.
	Flow     *Flow    `json:"-"`
	ParentG  *Group   `json:"-"`
	Children []*Group `json:"-"`
	childIdx int      // position in ParentG.Children (or flow's level-1 list)
	idx      int      // position in Flow.Groups
	unit     bool     // starts a unit of rejection: the shallowest group holding J0003
	context  bool     // an ancestor of unit groups: a record of its own
	counted  bool     // counted in the trailer's flow count
}

// Unbounded is Group.Max when the catalogue allows any number.
const Unbounded = -1

// Field is one data item's place in a group.
type Field struct {
	Ref      string `json:"ref"`
	Name     string `json:"name"`
	Format   Format `json:"format"`
	Required bool   `json:"required"`

	Item *Item `json:"-"`
}

// Item is a data item of the dictionary.
type Item struct {
	Ref      string   `json:"ref"`
	Name     string   `json:"name"`
	Domain   string   `json:"domain,omitempty"`
	Format   Format   `json:"format"`
	Type     Type     `json:"type"`
	ValidSet []string `json:"validSet,omitempty"`
	// MPAN marks items holding an MPAN core (J0003 and its aliases); their
	// check digit is validated and they share one masking domain.
	MPAN bool `json:"mpan,omitempty"`
	// Unresolved marks alias items whose format the catalogue leaves blank
	// and no override resolves: accepted as free text with a warning.
	Unresolved bool `json:"unresolved,omitempty"`

	valid map[string]struct{}
	// short holds the valid set packed (packShort), sorted, when every
	// value fits: the reader checks a value per field, and a scan of a few
	// numbers beats hashing a string.
	short []uint64
}

// Kind is a DTC logical format.
type Kind string

const (
	KindChar     Kind = "CHAR"
	KindNum      Kind = "NUM"
	KindInt      Kind = "INT"
	KindDate     Kind = "DATE"
	KindDateTime Kind = "DATETIME"
	KindTime     Kind = "TIME"
	KindBoolean  Kind = "BOOLEAN"
	KindText     Kind = "TEXT" // unresolved: free text of any length
)

// Format is a field's resolved logical format: CHAR(10), ±NUM(14,4), DATE...
type Format struct {
	Kind   Kind `json:"kind"`
	Width  int  `json:"width,omitempty"` // CHAR length or NUM/INT digits; 0 = no limit
	Scale  int  `json:"scale,omitempty"` // NUM decimals
	Signed bool `json:"signed,omitempty"`
}

func (f Format) String() string {
	var b strings.Builder
	if f.Signed {
		b.WriteString("±")
	}
	b.WriteString(string(f.Kind))
	switch {
	case f.Scale > 0:
		fmt.Fprintf(&b, "(%d,%d)", f.Width, f.Scale)
	case f.Width > 0:
		fmt.Fprintf(&b, "(%d)", f.Width)
	}
	return b.String()
}

// Type is the column type a data item gets in Arrow and Parquet.
type Type string

const (
	TypeString    Type = "string"
	TypeInt64     Type = "int64"
	TypeDecimal   Type = "decimal"
	TypeDate      Type = "date"
	TypeTimestamp Type = "timestamp"
	TypeBool      Type = "bool"
)

//go:embed catalog.json
var catalogJSON []byte

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// CatalogJSON returns the embedded generated catalogue bytes.
func CatalogJSON() []byte { return catalogJSON }

// DefaultCatalog returns the embedded DTC catalogue with the project's
// corrections (corrections.yaml) applied.
func DefaultCatalog() *Catalog {
	defaultOnce.Do(func() {
		defaultCat, defaultErr = ParseCatalog(catalogJSON)
		if defaultErr == nil {
			defaultErr = defaultCat.ApplyCorrections(correctionsYAML)
		}
	})
	if defaultErr != nil {
		panic("embedded DTC catalogue is corrupt: " + defaultErr.Error())
	}
	return defaultCat
}

// ParseCatalog decodes and indexes a generated catalogue.
func ParseCatalog(b []byte) (*Catalog, error) {
	c := &Catalog{}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("decoding catalogue: %w", err)
	}
	return c, c.index()
}

func (c *Catalog) index() error {
	c.byID = map[string][]*Flow{}
	for ref, it := range c.Items {
		it.Ref = ref
		if len(it.ValidSet) > 0 {
			it.valid = make(map[string]struct{}, len(it.ValidSet))
			fits := true
			for _, v := range it.ValidSet {
				it.valid[v] = struct{}{}
				k, ok := packShort([]byte(v))
				fits = fits && ok
				it.short = append(it.short, k)
			}
			if slices.Sort(it.short); !fits {
				it.short = nil
			}
		}
	}
	for _, f := range c.Flows {
		c.byID[f.ID] = append(c.byID[f.ID], f)
		f.byCode = map[string]*Group{}
		var top []*Group
		for i, g := range f.Groups {
			g.Flow, g.idx = f, i
			f.byCode[g.Code] = g
			k, ok := packShort([]byte(g.Code))
			if !ok {
				k = ^uint64(0) // matches no packed code: groupOf looks such codes up by map
			}
			f.codes = append(f.codes, k)
			for i := range g.Fields {
				it := c.Items[g.Fields[i].Ref]
				if it == nil {
					return fmt.Errorf("flow %s group %s: unknown data item %s", f.ID, g.Code, g.Fields[i].Ref)
				}
				g.Fields[i].Item = it
			}
		}
		for _, g := range f.Groups {
			if g.Parent == "" {
				g.childIdx = len(top)
				top = append(top, g)
				continue
			}
			p := f.byCode[g.Parent]
			if p == nil {
				return fmt.Errorf("flow %s group %s: unknown parent %s", f.ID, g.Code, g.Parent)
			}
			g.ParentG = p
			g.childIdx = len(p.Children)
			p.Children = append(p.Children, g)
		}
	}
	for _, f := range c.Flows {
		markUnits(f)
		markCounted(f)
	}
	for _, vs := range c.byID {
		sort.Slice(vs, func(i, j int) bool { return vs[i].Version < vs[j].Version })
	}
	return nil
}

// markUnits finds the flow's units of rejection: a group holding the MPAN
// core (J0003) with no such ancestor is a unit (one MPAN's subtree); its
// ancestors, such as the file sequence number and instruction groups of the
// registration flows, are context records. Flows without J0003 fall back to
// level-1 groups.
func markUnits(f *Flow) {
	for _, g := range f.Groups {
		if !hasRef(g, "J0003") {
			continue
		}
		above := false
		for p := g.ParentG; p != nil; p = p.ParentG {
			above = above || hasRef(p, "J0003")
		}
		if above {
			continue
		}
		g.unit = true
		for p := g.ParentG; p != nil; p = p.ParentG {
			p.context = true
		}
	}
}

func hasRef(g *Group, ref string) bool {
	for _, f := range g.Fields {
		if f.Ref == ref {
			return true
		}
	}
	return false
}

// Unit reports whether a record of this group starts an instance: the
// unit of rejection (see markUnits), or a level-1 group.
func (g *Group) Unit() bool { return g.unit || (g.Level == 1 && !g.context) }

// Context reports whether the group is an ancestor of unit groups; each of
// its records is an instance of its own, and the units below it are
// rejected when it is.
func (g *Group) Context() bool { return g.context }

// TopGroups returns the flow's level-1 groups.
func (f *Flow) TopGroups() []*Group {
	var top []*Group
	for _, g := range f.Groups {
		if g.Level == 1 {
			top = append(top, g)
		}
	}
	return top
}

// Group returns the group with the code, or nil.
func (f *Flow) Group(code string) *Group { return f.byCode[code] }

// groupOf is Group for a record's code: the reader's lookup, once per
// record, done by scanning the few packed codes instead of hashing.
func (f *Flow) groupOf(code []byte) *Group {
	k, ok := packShort(code)
	if !ok {
		return f.byCode[string(code)]
	}
	for i, c := range f.codes {
		if c == k {
			return f.Groups[i]
		}
	}
	return nil
}

// Key is the flow id and version as in a ZHV header, e.g. D0150002.
func (f *Flow) Key() string { return f.ID + f.Version }

// Flow returns the exact flow version, or nil.
func (c *Catalog) Flow(id, version string) *Flow {
	for _, f := range c.byID[id] {
		if f.Version == version {
			return f
		}
	}
	return nil
}

// Versions lists the catalogue versions of a flow id, ascending.
func (c *Catalog) Versions(id string) []*Flow { return c.byID[id] }

// Nearest returns the catalogue version of the flow nearest to version
// (numerically; ties go to the newer), exact reports whether it matched.
func (c *Catalog) Nearest(id, version string) (f *Flow, exact bool) {
	vs := c.byID[id]
	if len(vs) == 0 {
		return nil, false
	}
	want, err := strconv.Atoi(version)
	best, bestD := vs[len(vs)-1], -1
	for _, v := range vs {
		if v.Version == version {
			return v, true
		}
		if err != nil {
			continue
		}
		n, _ := strconv.Atoi(v.Version)
		d := n - want
		if d < 0 {
			d = -d
		}
		if bestD < 0 || d <= bestD {
			best, bestD = v, d
		}
	}
	return best, false
}

// Item returns a data item by J-ref, or nil.
func (c *Catalog) Item(ref string) *Item { return c.Items[ref] }

// InValidSet reports whether v is in the item's enumeration; items without
// one accept anything.
func (it *Item) InValidSet(v []byte) bool {
	if it.valid == nil {
		return true
	}
	if it.short == nil {
		_, ok := it.valid[string(v)]
		return ok
	}
	k, ok := packShort(v)
	if !ok {
		return false
	}
	if len(it.short) <= 16 {
		return slices.Contains(it.short, k)
	}
	_, ok = slices.BinarySearch(it.short, k)
	return ok
}

// packShort packs a value of at most 7 bytes with its length.
func packShort(v []byte) (uint64, bool) {
	if len(v) > 7 {
		return 0, false
	}
	k := uint64(len(v)) << 56
	for i, c := range v {
		k |= uint64(c) << (8 * i)
	}
	return k, true
}

var formatRe = regexp.MustCompile(`^(±?)\s*([A-Z]+)\s*(?:\(\s*(\d*)\s*(?:,\s*(\d+)\s*)?\))?$`)

// ParseFormat parses a DTC logical format such as "CHAR(10)", "±NUM(14 ,4)",
// "DATE(0)" or "BOOLEAN".
func ParseFormat(s string) (Format, error) {
	m := formatRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Format{}, fmt.Errorf("unrecognised format %q", s)
	}
	f := Format{Kind: Kind(m[2]), Signed: m[1] != ""}
	switch f.Kind {
	case KindChar, KindNum, KindInt:
		f.Width, _ = strconv.Atoi(m[3])
		f.Scale, _ = strconv.Atoi(m[4])
	case KindDate, KindDateTime, KindTime, KindBoolean:
	case "TIMESTAMP":
		f.Kind = KindDateTime
	default:
		return Format{}, fmt.Errorf("unknown format kind in %q", s)
	}
	return f, nil
}

// FlowCounted reports whether a record of the group counts in the
// trailer's flow count: the DTC's Flow Count (J1066) is the "number of
// flow instances excluding file header/trailer". A level-1 group that may
// repeat is a flow instance; one that appears once per file (a file
// header such as D0019's ZPI, D0204's File Sequence Number 751, D0379's
// Validation Flag 64L) is not, and when it has children, the repeating
// groups below it are the instances (D0204's instructions, 763). A flow
// with no repeating group counts its level-1 groups.
func (g *Group) FlowCounted() bool { return g.counted }

// FlowCountGroups are the groups whose records the trailer's flow count
// counts (see Group.FlowCounted).
func (f *Flow) FlowCountGroups() []*Group {
	var gs []*Group
	for _, g := range f.Groups {
		if g.counted {
			gs = append(gs, g)
		}
	}
	return gs
}

// markCounted marks the groups the trailer's flow count counts.
func markCounted(f *Flow) {
	var walk func(g *Group) bool
	walk = func(g *Group) bool {
		if g.Max != 1 {
			g.counted = true
			return true
		}
		found := false
		for _, c := range g.Children {
			found = walk(c) || found
		}
		return found
	}
	found := false
	for _, g := range f.TopGroups() {
		found = walk(g) || found
	}
	if !found {
		for _, g := range f.TopGroups() {
			g.counted = true
		}
	}
}
