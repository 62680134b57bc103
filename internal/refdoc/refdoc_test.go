package refdoc

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the committed reference pages")

// Pages are the generated reference pages of the definition files.
var Pages = []Page{
	{File: "pipeline-fields.md", Title: "Cut type definitions: `pipelines/cuts/<name>.yaml`", Dir: "internal/cut", Structs: []string{"Type", "InputSpec"},
		Intro: "One file per cut type; the file name is the cut type's name. Decoded strictly (an unknown key is an error at file:line:col), then defaults, then validation; `datacut lint` and `allocate lint` check them. The masking rules a pipeline names are in [dpia-methods.md](dpia-methods.md)."},
	{File: "plan-fields.md", Title: "Allocation plans: `pipelines/plans/<name>.yaml`", Dir: "internal/plan", Structs: []string{"Plan", "Sources", "Policy", "Environment", "Demand"},
		Intro: "One file per plan; the file name is the plan's name. Decoded strictly, then defaults, then validation; `allocate lint` checks them. The walkthrough is [../allocation.md](../allocation.md)."},
}

func TestReferenceIsFresh(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, p := range Pages {
		var b bytes.Buffer
		if err := p.Write(&b, root); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(root, "docs", "reference", p.File)
		if *update {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, b.Bytes()) {
			t.Errorf("docs/reference/%s is stale (%v): run go test ./internal/refdoc -update", p.File, err)
		}
	}
}

// A reference page is only as good as its comments: every key says what
// it means.
func TestEveryKeyIsDocumented(t *testing.T) {
	for _, p := range Pages {
		structs, err := Parse(filepath.Join("..", "..", p.Dir), p.Structs...)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range structs {
			for _, f := range s.Fields {
				if f.Doc == "" {
					t.Errorf("%s: %s.%s (key %s) has no doc comment", p.Dir, s.Name, f.Key, f.Key)
				}
			}
		}
	}
}

// The page lists a struct's keys with their comments, follows inline
// fields, and leaves out what YAML never reads.
func TestParseFollowsYAMLTags(t *testing.T) {
	dir := t.TempDir()
	src := `package x

// Outer is the top.
type Outer struct {
	// A is first.
	A string ` + "`yaml:\"a_key\"`" + `
	Inner ` + "`yaml:\",inline\"`" + `
	Skip string ` + "`yaml:\"-\"`" + `
	hidden string
	List []Inner ` + "`yaml:\"list\"`" + `
}

// Inner is inlined.
type Inner struct {
	B int ` + "`yaml:\"b\"`" + ` // B is a number.
}
`
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Parse(dir, "Outer")
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{{"a_key", "text", "A is first."}, {"b", "number", "B is a number."}, {"list", "list of `Inner` (below)", ""}}
	if len(got) != 1 || got[0].Doc != "Outer is the top." || len(got[0].Fields) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i, f := range want {
		if got[0].Fields[i] != f {
			t.Errorf("field %d: got %+v, want %+v", i, got[0].Fields[i], f)
		}
	}
}
