package dflow_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// corpus is testdata/realworld/PROVENANCE.yaml.
type corpus struct {
	Files []struct {
		File       string `yaml:"file"`
		Repository string `yaml:"repository"`
		Path       string `yaml:"path"`
		Lines      string `yaml:"lines"`
		Commit     string `yaml:"commit"`
		Licence    string `yaml:"licence"`
		Broken     string `yaml:"broken"`
		Findings   []struct {
			Line     int    `yaml:"line"`
			Group    string `yaml:"group"`
			Item     string `yaml:"item"`
			Rule     string `yaml:"rule"`
			Severity string `yaml:"severity"`
			Why      string `yaml:"why"`
		} `yaml:"findings"`
	} `yaml:"files"`
}

const realworld = "../../testdata/realworld"

// TestRealWorldCorpus: public D-flow samples written by others validate
// with exactly the findings pinned for them, each the file's fault.
func TestRealWorldCorpus(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(realworld, "PROVENANCE.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c corpus
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	dats, _ := filepath.Glob(filepath.Join(realworld, "*.dat"))
	if len(dats) == 0 || len(dats) != len(c.Files) {
		t.Fatalf("%d .dat files, %d listed in PROVENANCE.yaml", len(dats), len(c.Files))
	}
	for _, f := range c.Files {
		t.Run(f.File, func(t *testing.T) {
			if f.Repository == "" || f.Path == "" || f.Lines == "" || len(f.Commit) != 40 {
				t.Fatalf("provenance incomplete: %+v", f)
			}
			if !slices.Contains([]string{"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause"}, f.Licence) {
				t.Fatalf("licence %q is not one that lets us keep the file", f.Licence)
			}
			if _, err := os.Stat(filepath.Join(realworld, "LICENSE."+f.Repository[strings.IndexByte(f.Repository, '/')+1:])); err != nil {
				t.Fatalf("the licence text is not kept: %v", err)
			}
			data, err := os.ReadFile(filepath.Join(realworld, f.File))
			if err != nil {
				t.Fatal(err)
			}
			r := dflow.NewReader(bytes.NewReader(data), f.File, dflow.Options{})
			var got []string
			broken := ""
			for {
				in, err := r.Next()
				if err == io.EOF {
					break
				}
				var be *dflow.BrokenError
				if errors.As(err, &be) {
					broken = be.Finding.Rule
					got = append(got, key(be.Finding.Line, be.Finding.Group, be.Finding.Item, be.Finding.Rule, string(be.Finding.Severity)))
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, fd := range in.Findings {
					got = append(got, key(fd.Line, fd.Group, fd.Item, fd.Rule, string(fd.Severity)))
				}
			}
			for _, fd := range r.FileFindings() {
				got = append(got, key(fd.Line, fd.Group, fd.Item, fd.Rule, string(fd.Severity)))
			}
			var want []string
			for _, fd := range f.Findings {
				if len(strings.TrimSpace(fd.Why)) < 10 {
					t.Errorf("finding %s %s at line %d: say why it is the file's fault", fd.Rule, fd.Item, fd.Line)
				}
				want = append(want, key(fd.Line, fd.Group, fd.Item, fd.Rule, fd.Severity))
			}
			slices.Sort(got)
			slices.Sort(want)
			if broken != f.Broken || !slices.Equal(got, want) {
				t.Fatalf("broken %q (want %q)\nfound:\n  %s\npinned:\n  %s", broken, f.Broken, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func key(line int, group, item, rule, sev string) string {
	return strings.Join([]string{strconv.Itoa(line), group, item, rule, sev}, " ")
}
