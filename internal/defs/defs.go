// Package defs loads the project's declarative definitions (cut pipelines,
// DPIA rules, EES columns, allocation plans) one way: read the file, decode
// it strictly (an unknown key is an error), apply defaults, validate. Every
// problem is reported at file:line:col, all of them at once, and no read or
// parse error is ever dropped.
package defs

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Definition is what every definition type implements: Defaults fills in
// what the file may leave out, Validate reports what is wrong through the
// document, naming the YAML keys.
type Definition interface {
	Defaults()
	Validate(doc *Doc)
}

// Load reads file from fsys into def: strict decoding, then Defaults, then
// Validate. It returns an *Error listing every problem, or a read error.
func Load(fsys fs.FS, file string, def Definition) (*Doc, error) {
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	return LoadBytes(file, b, def)
}

// LoadBytes is Load on the bytes of a file named file (for messages).
func LoadBytes(file string, b []byte, def Definition) (*Doc, error) {
	doc := Parse(file, b)
	if doc.Err() != nil {
		return doc, doc.Err()
	}
	if !doc.Decode(doc.Root(), def) {
		return doc, doc.Err()
	}
	def.Defaults()
	def.Validate(doc)
	return doc, doc.Err()
}

// Problem is one thing wrong in a definition file.
type Problem struct {
	File      string
	Line, Col int
	Msg       string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
}

// Error lists every problem of a definition file.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%d problems:\n  %s", len(lines), strings.Join(lines, "\n  "))
}

// Doc is one definition file being loaded: its bytes, its YAML tree and
// the problems found so far.
type Doc struct {
	File     string
	Bytes    []byte
	node     *yaml.Node
	problems []Problem
}

// Parse parses b as the definition file named file (for messages).
func Parse(file string, b []byte) *Doc {
	d := &Doc{File: file, Bytes: b, node: &yaml.Node{}}
	if err := yaml.Unmarshal(b, d.node); err != nil {
		d.yamlError(err, d.node)
	}
	return d
}

// Root is the document's top node (a mapping for every definition file).
func (d *Doc) Root() *yaml.Node {
	if d.node.Kind == yaml.DocumentNode && len(d.node.Content) > 0 {
		return d.node.Content[0]
	}
	return d.node
}

// Decode decodes n strictly into v: a wrong type or a key v does not have
// is a problem at its line. It reports whether n decoded cleanly.
func (d *Doc) Decode(n *yaml.Node, v any) bool {
	before := len(d.problems)
	d.unknownKeys(n, reflect.TypeOf(v))
	if err := n.Decode(v); err != nil {
		d.yamlError(err, n)
	}
	return len(d.problems) == before
}

var unmarshaler = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// unknownKeys reports every mapping key of n that t has no field for, and
// every number with a fraction where t has an integer, following t into
// nested structs, slices and maps. yaml.Node has no strict mode of its own,
// going through text would lose the file's lines, and yaml.v3 truncates a
// float into an int silently (count: 2.5 would be 2).
func (d *Doc) unknownKeys(n *yaml.Node, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || reflect.PointerTo(t).Implements(unmarshaler) || t == reflect.TypeOf(yaml.Node{}) {
		return
	}
	if isInteger(t.Kind()) && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
		d.FailAt(n, "cannot unmarshal !!float `%s` into %s: a whole number is needed", n.Value, t.Kind())
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // n.Decode reports the type mismatch
		}
		fields := yamlFields(t)
		var known []string
		for name := range fields {
			known = append(known, name)
		}
		sort.Strings(known)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				d.FailAt(k, "unknown key %q (known here: %s)", k.Value, strings.Join(known, ", "))
				continue
			}
			d.unknownKeys(n.Content[i+1], ft)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				d.unknownKeys(c, t.Elem())
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 1; i < len(n.Content); i += 2 {
				d.unknownKeys(n.Content[i], t.Elem())
			}
		}
	}
}

func isInteger(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// yamlFields maps a struct's YAML keys to their types, inline fields
// included, as yaml.v3 names them.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

var lineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlError turns a YAML error into problems, each at its line.
func (d *Doc) yamlError(err error, n *yaml.Node) {
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		line, col := n.Line, n.Column
		if sm := lineRE.FindStringSubmatch(m); sm != nil {
			l, _ := strconv.Atoi(sm[1])
			line, col, m = l, d.column(l), sm[2]
		}
		d.problems = append(d.problems, Problem{File: d.File, Line: max(line, 1), Col: max(col, 1), Msg: m})
	}
}

// column is where the first node on line starts (1 if none).
func (d *Doc) column(line int) int {
	col := 0
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Line == line && (col == 0 || n.Column < col) {
			col = n.Column
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(d.node)
	return max(col, 1)
}

// Key finds the key node at path (mapping keys from the root, "input",
// "flows"), or the deepest ancestor present: messages point at the key.
func (d *Doc) Key(path ...string) *yaml.Node {
	at, n := d.Root(), d.Root()
	for _, k := range path {
		next, key := Child(n, k)
		if next == nil {
			return at
		}
		at, n = key, next
	}
	return at
}

// Child is the value and key node of key in mapping n, or nils.
func Child(n *yaml.Node, key string) (value, keyNode *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1], n.Content[i]
		}
	}
	return nil, nil
}

// Fail records a problem at the key path (see Key).
func (d *Doc) Fail(path []string, format string, a ...any) {
	d.FailAt(d.Key(path...), format, a...)
}

// FailAt records a problem at node n.
func (d *Doc) FailAt(n *yaml.Node, format string, a ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	d.problems = append(d.problems, Problem{File: d.File, Line: line, Col: col, Msg: fmt.Sprintf(format, a...)})
}

// Err is nil when nothing is wrong, else an *Error with every problem.
func (d *Doc) Err() error {
	if len(d.problems) == 0 {
		return nil
	}
	return &Error{Problems: append([]Problem(nil), d.problems...)}
}

// Path is a key path, for Fail: defs.Path("input", "flows").
func Path(keys ...string) []string { return keys }

// Join combines the errors of several files into one: their problems in
// one *Error when all are definition problems (a file two definitions name
// is reported once), else the errors joined.
func Join(errs []error) error {
	all := &Error{}
	seen := map[Problem]bool{}
	for _, err := range errs {
		var de *Error
		if !errors.As(err, &de) {
			return errors.Join(errs...)
		}
		for _, p := range de.Problems {
			if !seen[p] {
				seen[p] = true
				all.Problems = append(all.Problems, p)
			}
		}
	}
	if len(all.Problems) == 0 {
		return nil
	}
	return all
}

// FailWith records err at the key path, or, when err is itself an *Error
// (a file this one names, such as a rule set), its problems as they are,
// each at its own file:line:col.
func (d *Doc) FailWith(path []string, err error) {
	var de *Error
	if errors.As(err, &de) {
		d.problems = append(d.problems, de.Problems...)
		return
	}
	d.Fail(path, "%v", err)
}
