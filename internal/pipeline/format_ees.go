package pipeline

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"sync"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/store"
)

// eesFormat reads EES portfolio exports (CSV): input.columns names the file
// mapping CSV columns to data items; every file becomes rows of one table,
// ees_portfolio.
type eesFormat struct{}

func (eesFormat) name() string { return "ees-csv" }

func (eesFormat) schema(in cut.InputSpec, fsys fs.FS, doc *defs.Doc) input {
	if len(in.Flows) > 0 {
		doc.Fail(defs.Path("input", "flows"), "flows are for the dflow format; an ees-csv input names its columns file")
	}
	if in.Encoding != "" {
		doc.Fail(defs.Path("input", "encoding"), "encoding is for the dflow format")
	}
	if in.Columns == "" {
		doc.Fail(defs.Path("input"), "an ees-csv input names its columns file (input.columns: ees-columns.yaml)")
		return nil
	}
	cols, err := ees.LoadColumnsFS(fsys, in.Columns, dflow.DefaultCatalog())
	if err != nil {
		doc.FailWith(defs.Path("input", "columns"), err)
		return nil
	}
	return &eesInput{columns: cols}
}

type eesInput struct {
	columns *ees.Columns
	// sizes are the column sizes of the file any cut read last: a cut's
	// first file starts at them, its later files at their own cut's.
	mu    sync.Mutex
	sizes ees.Sizes
}

func (e *eesInput) lastSizes() ees.Sizes {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sizes
}

func (e *eesInput) keepSizes(s ees.Sizes) {
	e.mu.Lock()
	e.sizes = s
	e.mu.Unlock()
}

func (e *eesInput) refs() []string                { return e.columns.Refs() }
func (e *eesInput) extra() map[string]*dflow.Item { return e.columns.Extra }

func (e *eesInput) reader() readFunc { return e.read }

func (e *eesInput) units() map[string]bool { return map[string]bool{ees.Table: true} }

func (e *eesInput) read(c *cutBuild, in store.Info, src io.Reader) (cut.Input, *brokenInput, error) {
	info := cut.Input{Flow: "EES", FileID: cut.BaseName(in.Key)}
	if b := c.checkSender(in, c.mpid); b != nil { // an export has no header: its sender is the folder's
		b.finding.Group = ""
		return info, b, nil
	}
	rd := ees.NewReader(src, in.Key, e.columns, c.def.resolve)
	broken := func(err error) (cut.Input, *brokenInput, error) {
		var be *dflow.BrokenError
		if errors.As(err, &be) {
			return info, &brokenInput{input: in, finding: be.Finding}, nil
		}
		return info, nil, err
	}
	cols, err := rd.Columns()
	if err != nil {
		return broken(err)
	}
	b := ees.NewArrowBuilder(cols)
	if c.eesSizes.Empty() {
		c.eesSizes = e.lastSizes()
	}
	b.SizeLike(c.eesSizes)
	defer b.Release()
	name := cut.BaseName(in.Key)
	flush := func() { c.tw.send(ees.Table, b.Record()) }
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return broken(err)
		}
		if !c.tally(&info, in, row.Rejected(), row.Ordinal, row.Line, row.Findings) {
			if err := c.rejectedRow(in, rd.Header(), row.Strings()); err != nil {
				return info, nil, err
			}
			continue
		}
		if err := b.Append(name, row); err != nil {
			return info, nil, err
		}
		if b.Rows() >= batchRows {
			flush()
		}
	}
	if b.Rows() > 0 {
		flush()
	}
	c.eesSizes = b.Sizes()
	e.keepSizes(c.eesSizes)
	c.fileFindings(in.Key, rd.FileFindings())
	return info, nil, nil
}

func (e *eesInput) verify(v *verifier, key string, src io.Reader) error {
	rd := ees.NewReader(src, key, e.columns, v.def.resolve)
	cols, err := rd.Columns()
	if err != nil {
		return err
	}
	name := cut.BaseName(key)
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if row.Rejected() && v.collect == nil {
			continue
		}
		r, i, err := v.next(ees.Table, key, name, row.Line)
		if err != nil {
			return err
		}
		for j := range cols {
			v.check(cols[j].Field.Ref, row.Values[j], r, dflow.LineageColumns+j, i)
		}
		if v.collect != nil { // as it came, too: values are normalised (dates, booleans) before they are checked
			for j := range cols {
				if p := cols[j].Pos - 1; p >= 0 && p < len(row.Fields) {
					v.check(cols[j].Field.Ref, bytes.TrimSpace(row.Fields[p]), nil, 0, 0)
				}
			}
		}
	}
}
