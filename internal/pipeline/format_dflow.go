package pipeline

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/defs"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/store"
)

// dflowFormat reads D-flow files (DTC 15.4): input.flows lists the flows a
// cut may hold; each flow and group becomes a table (cut.TableName).
type dflowFormat struct{}

func (dflowFormat) name() string { return "dflow" }

func (dflowFormat) schema(in cut.InputSpec, _ fs.FS, doc *defs.Doc) input {
	cat := dflow.DefaultCatalog()
	if in.Columns != "" {
		doc.Fail(defs.Path("input", "columns"), "columns is for the ees-csv format; a dflow input lists its flows")
	}
	if len(in.Flows) == 0 {
		doc.Fail(defs.Path("input"), "a dflow input lists its flows (input.flows: [D0150, ...])")
		return nil
	}
	d := &dflowInput{flows: map[string]bool{}, unitSet: map[string]bool{}}
	ok := true
	enc, err := dflow.ParseEncoding(in.Encoding)
	if err != nil {
		doc.Fail(defs.Path("input", "encoding"), "%v", err)
		ok = false
	}
	d.enc = enc
	for _, f := range in.Flows {
		if len(cat.Versions(f)) == 0 {
			doc.Fail(defs.Path("input", "flows"), "flow %s is not in DTC %s", f, cat.DTCVersion)
			ok = false
			continue
		}
		d.flows[f] = true
		d.list = append(d.list, f)
		for _, fl := range cat.Versions(f) {
			for _, g := range fl.Groups {
				if g.Unit() {
					d.unitSet[cut.TableName(g)] = true
				}
			}
		}
		d.refList = append(d.refList, mask.FlowRefs(cat, f)...)
	}
	if !ok {
		return nil
	}
	return d
}

type dflowInput struct {
	enc     dflow.Encoding
	flows   map[string]bool
	list    []string
	refList []string
	unitSet map[string]bool
}

func (d *dflowInput) units() map[string]bool { return d.unitSet }

func (d *dflowInput) refs() []string                { return d.refList }
func (d *dflowInput) extra() map[string]*dflow.Item { return nil }

// reader keeps one builder per flow for the whole cut: its columns start
// each batch at the size of the one before, instead of growing from empty
// in every file. A file leaves none of its rows in it.
func (d *dflowInput) reader() readFunc {
	builders := map[*dflow.Flow]*dflow.ArrowBuilder{}
	return func(c *cutBuild, in store.Info, src io.Reader) (cut.Input, *brokenInput, error) {
		return d.read(c, in, src, builders)
	}
}

func (d *dflowInput) read(c *cutBuild, in store.Info, src io.Reader, builders map[*dflow.Flow]*dflow.ArrowBuilder) (cut.Input, *brokenInput, error) {
	var info cut.Input
	rules := c.def.rules
	rd := dflow.NewReader(src, in.Key, dflow.Options{Reveal: func(ref string) bool { return !rules.Sensitive(ref) }, Encoding: d.enc, MaxInstanceBytes: c.maxInstance})
	// A broken file's report lists what else was found of it, its
	// rejected instances' findings first: every finding at once.
	var found []dflow.Finding
	keep := func(fs []dflow.Finding) {
		found = append(found, fs[:min(len(fs), maxReportFindings-len(found))]...)
	}
	broken := func(err error) (cut.Input, *brokenInput, error) {
		var be *dflow.BrokenError
		if errors.As(err, &be) {
			keep(rd.FileFindings())
			return info, &brokenInput{input: in, finding: be.Finding, report: found}, nil
		}
		return info, nil, err
	}
	h, err := rd.Header()
	if err != nil {
		return broken(err)
	}
	if !d.flows[h.Flow] {
		return info, &brokenInput{input: in, finding: dflow.Finding{Line: 1, Group: "ZHV", Rule: "pipeline.flow", Severity: dflow.SevError,
			Message: fmt.Sprintf("flow %s does not belong to cut %s (it reads %s): upload it to the right cut", h.Flow, c.def.Name, strings.Join(d.list, ", "))}}, nil
	}
	if rd.BrokenHeader() != nil { // it breaks the file: validate the body for the report, publish nothing
		for {
			inst, err := rd.Next()
			if err != nil {
				return broken(err)
			}
			keep(inst.Findings)
		}
	}
	if b := c.checkSender(in, h.FromMPID); b != nil {
		return info, b, nil
	}
	info.Flow, info.FileID = rd.Flow().Key(), h.FileID
	info.ToRole, info.ToMPID = h.ToRole, h.ToMPID
	b := builders[rd.Flow()]
	if b == nil {
		b = dflow.NewArrowBuilder(rd.Flow())
		builders[rd.Flow()] = b
	}
	defer b.Release() // rows of a broken file are dropped
	var open contexts
	emit := func(g *dflow.Group, rec arrow.Record) error {
		c.tw.send(cut.TableName(g), rec)
		return nil
	}
	for {
		inst, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return broken(err)
		}
		line := 0
		if len(inst.Records) > 0 {
			line = inst.Records[0].Line
		}
		open.see(inst)
		if inst.Rejected() {
			keep(inst.Findings)
		}
		if !c.tally(&info, in, inst.Rejected(), inst.Ordinal, line, inst.Findings) {
			if err := c.rejectedInstance(in, h, inst, open); err != nil {
				return info, nil, err
			}
			continue
		}
		if err := b.Append(h.FileID, inst); err != nil {
			return info, nil, err
		}
		if err := b.Flush(batchRows, emit); err != nil {
			return info, nil, err
		}
	}
	if err := b.Flush(0, emit); err != nil {
		return info, nil, err
	}
	c.fileFindings(in.Key, rd.FileFindings())
	if rd.TextEncoding() == dflow.EncodingWindows1252 {
		info.Encoding = string(dflow.EncodingWindows1252)
	}
	return info, nil, nil
}

// maxFileWarnings bounds the findings of one file the manifest lists.
const maxFileWarnings = 5

// maxReportFindings bounds the findings a broken file's quarantine report
// lists.
const maxReportFindings = 1000

// fileFindings records what a published file's reader found of the file as
// a whole (no instances, a flow version not in the catalogue, a record out
// of place) as warnings of the version, and counts the errors among them:
// the run then exits as datacut validate does on the file. An item the
// catalogue gives no format is left out: the gap is the catalogue's, not
// something the sender can fix.
func (c *cutBuild) fileFindings(key string, fs []dflow.Finding) {
	name := cut.BaseName(key)
	listed := 0
	for _, f := range fs {
		if f.Rule == dflow.RuleUnresolvedFormat {
			continue
		}
		if f.Severity == dflow.SevError {
			c.m.Counts["fileErrors"]++
		}
		if listed++; listed <= maxFileWarnings {
			c.m.Warnings = append(c.m.Warnings, name+": "+f.String())
		}
	}
	if listed > maxFileWarnings {
		c.m.Warnings = append(c.m.Warnings, fmt.Sprintf("%s: %d more findings of the file (datacut validate lists them)", name, listed-maxFileWarnings))
	}
}

func (d *dflowInput) verify(v *verifier, key string, src io.Reader) error {
	rd := dflow.NewReader(src, key, dflow.Options{Encoding: d.enc})
	h, err := rd.Header()
	if err != nil {
		return err
	}
	for {
		inst, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if inst.Rejected() && v.collect == nil {
			continue
		}
		for _, rec := range inst.Records {
			r, row, err := v.next(cut.TableName(rec.Group), key, h.FileID, rec.Line)
			if err != nil {
				return err
			}
			for i, val := range rec.Fields {
				if rec.Group != nil && i < len(rec.Group.Fields) {
					v.check(rec.Group.Fields[i].Ref, val, r, dflow.LineageColumns+i, row)
				}
			}
		}
	}
}
