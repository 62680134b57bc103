package defs

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

type sample struct {
	Name  string `yaml:"name"`
	Count int    `yaml:"count"`
	Input struct {
		Format string   `yaml:"format"`
		Flows  []string `yaml:"flows"`
	} `yaml:"input"`
	Items map[string]struct {
		Domain string `yaml:"domain"`
	} `yaml:"items"`
	defaulted bool
}

func (s *sample) Defaults() {
	s.defaulted = true
	if s.Count == 0 {
		s.Count = 7
	}
}

func (s *sample) Validate(d *Doc) {
	if s.Input.Format != "dflow" {
		d.Fail(Path("input", "format"), "format %q is not dflow", s.Input.Format)
	}
	if s.Name == "" {
		d.Fail(Path("name"), "name is missing")
	}
}

func load(t *testing.T, text string) (*sample, error) {
	t.Helper()
	var s sample
	_, err := Load(fstest.MapFS{"x.yaml": {Data: []byte(text)}}, "x.yaml", &s)
	return &s, err
}

func problems(t *testing.T, err error) []string {
	t.Helper()
	var de *Error
	if !errors.As(err, &de) {
		t.Fatalf("want *defs.Error, got %v", err)
	}
	var out []string
	for _, p := range de.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestLoadAppliesDefaultsThenValidates(t *testing.T) {
	s, err := load(t, "name: a\ninput:\n  format: dflow\n")
	if err != nil || s.Count != 7 || !s.defaulted {
		t.Fatalf("got %+v, %v", s, err)
	}
	_, err = load(t, "name: a\ninput:\n  flows: [D0150]\n  format: ees\n")
	got := problems(t, err)
	if len(got) != 1 || got[0] != `x.yaml:4:3: format "ees" is not dflow` {
		t.Fatalf("problems %q", got)
	}
	_, err = load(t, "input:\n  format: dflow\n")
	if got := problems(t, err); len(got) != 1 || got[0] != "x.yaml:1:1: name is missing" {
		t.Fatalf("a missing key points at its nearest ancestor: %q", got)
	}
}

func TestUnknownKeysAtTheirLineAndColumn(t *testing.T) {
	_, err := load(t, "name: a\ninput:\n  format: dflow\n  flow: [D0150]\nitems:\n  J0003:\n    domian: mpan\nextra: 1\n")
	got := problems(t, err)
	want := []string{
		`x.yaml:4:3: unknown key "flow" (known here: flows, format)`,
		`x.yaml:7:5: unknown key "domian" (known here: domain)`,
		`x.yaml:8:1: unknown key "extra" (known here: count, input, items, name)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTypeAndSyntaxErrorsAtTheirLine(t *testing.T) {
	_, err := load(t, "name: a\ncount: many\ninput:\n  format: dflow\n")
	if got := problems(t, err); len(got) != 1 || !strings.HasPrefix(got[0], "x.yaml:2:1: cannot unmarshal") {
		t.Fatalf("type error: %q", got)
	}
	_, err = load(t, "name: a\ninput: [\n")
	if got := problems(t, err); len(got) != 1 || !strings.HasPrefix(got[0], "x.yaml:2:") {
		t.Fatalf("syntax error: %q", got)
	}
}

func TestReadErrorIsNeverDropped(t *testing.T) {
	var s sample
	_, err := Load(fstest.MapFS{}, "missing.yaml", &s)
	if err == nil || !strings.Contains(err.Error(), "reading missing.yaml") {
		t.Fatalf("got %v", err)
	}
}
