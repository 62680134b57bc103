package pipeline

import (
	"io"
	"io/fs"
	"strings"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/store"
)

// A format reads one kind of input file. Each lives in a file of its own,
// format_<name>.go, and is listed in formats: adding one is a new file and
// a line there.
type format interface {
	// name is the input.format value that selects it.
	name() string
	// schema checks a pipeline's input section, reporting problems on doc
	// at their keys, and returns the input it describes (nil if invalid).
	schema(in cut.InputSpec, fsys fs.FS, doc *defs.Doc) input
}

// formats lists every input format, in the order errors name them.
var formats = []format{
	dflowFormat{},
	eesFormat{},
}

func formatNames() string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.name()
	}
	return strings.Join(names, ", ")
}

func formatNamed(name string) format {
	for _, f := range formats {
		if f.name() == name {
			return f
		}
	}
	return nil
}

// input is a pipeline's validated input section.
type input interface {
	// refs are the data items its files can hold: the rules must cover
	// every one (fail-closed).
	refs() []string
	// extra are the items beyond the DTC catalogue that it declares, for
	// the rules to name.
	extra() map[string]*dflow.Item
	// units are the tables whose rows are units (a level-1 instance's own
	// record, or an EES row): an MPAN twice in one of them is a warning.
	units() map[string]bool
	// reader starts reading a cut's files: it is called once per cut, and
	// the function it returns once per file, in order.
	reader() readFunc
	// verify walks one raw file beside the published tables, row by row,
	// for the leak check.
	verify(v *verifier, key string, src io.Reader) error
}

// readFunc reads one input file into the cut being built: units through
// c.tally, good rows to c.tw. A file that cannot be published at all comes
// back as a brokenInput; an error stops the cut.
type readFunc func(c *cutBuild, in store.Info, src io.Reader) (cut.Input, *brokenInput, error)
