// Package refdoc writes the reference pages of the definition files
// (docs/reference/*.md) from the Go structs they decode into: each YAML
// key with its type and the doc comment of its field, so the reference
// says what the code reads. TestReferenceIsFresh fails when a committed
// page is stale.
package refdoc

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"path/filepath"
	"reflect"
	"strings"
)

// Field is one YAML key of a struct.
type Field struct {
	Key, Type, Doc string
}

// Struct is a struct decoded from YAML: its doc and keys, in source order.
type Struct struct {
	Name, Doc string
	Fields    []Field
}

// Parse reads the named structs of the Go package in dir. Fields without a
// YAML key (yaml:"-", unexported) are left out; inline fields are listed in
// place as their struct's keys.
func Parse(dir string, names ...string) ([]Struct, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	specs := map[string]*ast.TypeSpec{}
	docs := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				ts := s.(*ast.TypeSpec)
				specs[ts.Name.Name] = ts
				docs[ts.Name.Name] = text(ts.Doc, g.Doc)
			}
		}
	}
	var out []Struct
	for _, n := range names {
		ts := specs[n]
		if ts == nil {
			return nil, fmt.Errorf("%s: no type %s", dir, n)
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return nil, fmt.Errorf("%s: %s is not a struct", dir, n)
		}
		s := Struct{Name: n, Doc: docs[n]}
		s.Fields, err = fields(dir, st, specs)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func fields(dir string, st *ast.StructType, specs map[string]*ast.TypeSpec) ([]Field, error) {
	var out []Field
	for _, f := range st.Fields.List {
		tag := ""
		if f.Tag != nil {
			tag = reflect.StructTag(strings.Trim(f.Tag.Value, "`")).Get("yaml")
		}
		key, opts, _ := strings.Cut(tag, ",")
		if key == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			name := typeString(f.Type)
			name = name[strings.LastIndexByte(name, '.')+1:]
			inner, ok := specs[name]
			if !ok {
				return nil, fmt.Errorf("%s: inline type %s is not in the package", dir, name)
			}
			in, err := fields(dir, inner.Type.(*ast.StructType), specs)
			if err != nil {
				return nil, err
			}
			out = append(out, in...)
			continue
		}
		for _, n := range f.Names {
			if !n.IsExported() {
				continue
			}
			k := key
			if k == "" {
				k = strings.ToLower(n.Name)
			}
			out = append(out, Field{Key: k, Type: yamlType(f.Type), Doc: text(f.Doc, f.Comment)})
		}
	}
	return out, nil
}

// text is a comment as one paragraph.
func text(groups ...*ast.CommentGroup) string {
	for _, g := range groups {
		if t := strings.TrimSpace(g.Text()); t != "" {
			return strings.Join(strings.Fields(t), " ")
		}
	}
	return ""
}

func typeString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.SelectorExpr:
		return typeString(t.X) + "." + t.Sel.Name
	case *ast.StarExpr:
		return typeString(t.X)
	case *ast.ArrayType:
		return "[]" + typeString(t.Elt)
	case *ast.MapType:
		return "map[" + typeString(t.Key) + "]" + typeString(t.Value)
	}
	return fmt.Sprintf("%T", e)
}

// yamlType says in YAML's words what a key holds.
func yamlType(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return yamlType(t.X)
	case *ast.ArrayType:
		return "list of " + yamlType(t.Elt)
	case *ast.MapType:
		return "map of " + yamlType(t.Key) + " to " + yamlType(t.Value)
	}
	switch n := typeString(e); n {
	case "string":
		return "text"
	case "bool":
		return "true/false"
	case "int", "int64", "uint64":
		return "whole number"
	case "float64":
		return "number"
	default:
		return "`" + n[strings.LastIndexByte(n, '.')+1:] + "` (below)"
	}
}

// Page is one reference page: the structs of a package, as decoded from
// one kind of definition file.
type Page struct {
	File    string // under docs/reference/
	Title   string
	Intro   string
	Dir     string   // the package, relative to the module root
	Structs []string // the top-level struct first
}

// Write renders the page as Markdown.
func (p Page) Write(w io.Writer, root string) error {
	structs, err := Parse(root+"/"+p.Dir, p.Structs...)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "# %s\n\n<!-- Generated from %s by internal/refdoc; do not edit: run go test ./internal/refdoc -update -->\n\n%s\n", p.Title, p.Dir, p.Intro)
	for _, s := range structs {
		fmt.Fprintf(w, "\n## `%s`\n\n", s.Name)
		if s.Doc != "" {
			fmt.Fprintf(w, "%s\n\n", s.Doc)
		}
		fmt.Fprintf(w, "| key | holds | meaning |\n|---|---|---|\n")
		for _, f := range s.Fields {
			fmt.Fprintf(w, "| `%s` | %s | %s |\n", f.Key, f.Type, strings.ReplaceAll(f.Doc, "|", "\\|"))
		}
	}
	return nil
}
