// Package submit is the participant's side of a submission (docs/submissions.md):
// it checks local files the way the worker will read them, uploads them to
// inbox/<MPID>/<cut type>/<submission id>/ with submission.json last, and
// waits for the submission's receipt.
package submit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/programme"
)

// Input formats of cut types (cut.InputSpec.Format).
const (
	FormatDflow = "dflow"
	FormatEES   = "ees-csv"
)

// Definitions are what checking needs of a pipelines directory: the cut
// types, the EES column mappings they name and the programme register.
type Definitions struct {
	Types cut.Types
	// Register is the programme register, or nil when the directory has
	// none: then senders are not checked (nor does the worker check them).
	Register *programme.Register
	columns  map[string]*ees.Columns // by cut type, for ees-csv types
	cat      *dflow.Catalog
}

// LoadDefinitions reads the cut types of a pipelines directory, the
// column mappings of its ees-csv types and its programme register, if any.
func LoadDefinitions(fsys fs.FS) (*Definitions, error) {
	types, err := cut.LoadTypes(fsys)
	if err != nil {
		return nil, err
	}
	d := &Definitions{Types: types, columns: map[string]*ees.Columns{}, cat: dflow.DefaultCatalog()}
	for _, t := range types {
		if t.Input.Format != FormatEES {
			continue
		}
		cols, err := ees.LoadColumnsFS(fsys, t.Input.Columns, d.cat)
		if err != nil {
			return nil, fmt.Errorf("cut type %s: %w", t.Name, err)
		}
		d.columns[t.Name] = cols
	}
	if _, err := fs.Stat(fsys, programme.File); err == nil {
		if d.Register, err = programme.Load(fsys, programme.File, types); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return d, nil
}

// FileReport is what checking says of one local file. Findings carry the
// file's values: they are the participant's own data, shown on its own
// machine, never uploaded.
type FileReport struct {
	Path   string `json:"path"`
	Name   string `json:"name"` // its name in the submission
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Flow   string `json:"flow,omitempty"` // D0150 v002, or EES
	Sender string `json:"sender,omitempty"`
	// Instances counts instances (EES: rows); Rejected those with errors,
	// which the worker keeps aside and publishes the rest.
	Instances int `json:"instances"`
	Rejected  int `json:"rejected"`
	Errors    int `json:"errors"`
	Warnings  int `json:"warnings"`
	// Broken says the worker would quarantine the whole file; Rule and
	// Reason say why.
	Broken   bool            `json:"broken"`
	Rule     string          `json:"rule,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Findings []dflow.Finding `json:"findings"`
	Unlisted int             `json:"findingsNotListed,omitempty"`
}

// Check reads a local file of mpid's cut of cutType the way the worker
// will: format, flow, sender and every instance. It reads the file once,
// hashing it as it goes; read reports bytes read. At most maxFindings
// findings are kept (all are counted).
func (d *Definitions) Check(path, mpid, cutType string, maxFindings int, read func(n int64)) (*FileReport, error) {
	t := d.Types.Named(cutType)
	if t == nil {
		return nil, fmt.Errorf("unknown cut type %q", cutType)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep := &FileReport{Path: path, Name: filepath.Base(path), Findings: []dflow.Finding{}}
	h := sha256.New()
	cr := &countingReader{r: f, read: read}
	src := io.TeeReader(cr, h)
	add := func(fs ...dflow.Finding) {
		for _, fd := range fs {
			if len(rep.Findings) < maxFindings {
				rep.Findings = append(rep.Findings, fd)
			} else {
				rep.Unlisted++
			}
		}
	}
	switch t.Input.Format {
	case FormatDflow:
		err = d.checkDflow(rep, t, mpid, src, add)
	case FormatEES:
		err = d.checkEES(rep, t, mpid, src, add)
	default:
		return nil, fmt.Errorf("cut type %s has input format %q, which datacut submit cannot check (%s, %s)", t.Name, t.Input.Format, FormatDflow, FormatEES)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := io.Copy(io.Discard, src); err != nil { // hash what the reader did not need
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rep.Size, rep.SHA256 = cr.n, hex.EncodeToString(h.Sum(nil))
	return rep, nil
}

func (rep *FileReport) breaks(f dflow.Finding) {
	rep.Broken, rep.Rule, rep.Reason = true, f.Rule, f.Message
	rep.Errors++
}

// brokenBy makes an error that breaks the file the file's finding (nil);
// any other error is returned.
func (rep *FileReport) brokenBy(err error, add func(...dflow.Finding)) error {
	var be *dflow.BrokenError
	if errors.As(err, &be) {
		rep.breaks(be.Finding)
		add(be.Finding)
		return nil
	}
	return err
}

func (d *Definitions) checkDflow(rep *FileReport, t *cut.Type, mpid string, src io.Reader, add func(...dflow.Finding)) error {
	enc, err := dflow.ParseEncoding(t.Input.Encoding)
	if err != nil {
		return err
	}
	rd := dflow.NewReader(src, rep.Name, dflow.Options{Reveal: func(string) bool { return true }, Encoding: enc})
	defer func() {
		add(rd.FileFindings()...)
		st := rd.Stats()
		rep.Instances, rep.Rejected = st.Instances, st.Rejected
		rep.Errors += st.Errors
		rep.Warnings += st.Warnings
	}()
	fail := func(err error) error { return rep.brokenBy(err, add) }
	h, err := rd.Header()
	if err != nil {
		return fail(err)
	}
	rep.Flow, rep.Sender = h.Flow+" v"+h.Version, h.FromMPID
	if !slices.Contains(t.Input.Flows, h.Flow) {
		f := dflow.Finding{Line: 1, Group: "ZHV", Rule: "pipeline.flow", Severity: dflow.SevError,
			Message: fmt.Sprintf("flow %s does not belong to cut %s (it reads %s): submit it as the right cut", h.Flow, t.Name, strings.Join(t.Input.Flows, ", "))}
		rep.breaks(f)
		add(f)
		return nil
	}
	if f, ok := d.checkSender(mpid, h.FromMPID, t.Name); !ok {
		rep.breaks(f)
		add(f)
		return nil
	}
	for {
		in, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fail(err)
		}
		add(in.Findings...)
		rep.Unlisted += in.Errors + in.Warnings - len(in.Findings)
	}
}

func (d *Definitions) checkEES(rep *FileReport, t *cut.Type, mpid string, src io.Reader, add func(...dflow.Finding)) error {
	rep.Flow, rep.Sender = "EES", mpid
	if f, ok := d.checkSender(mpid, mpid, t.Name); !ok { // an export has no header: its sender is the folder's
		f.Group = ""
		rep.breaks(f)
		add(f)
		return nil
	}
	cols := d.columns[t.Name]
	rd := ees.NewReader(src, rep.Name, cols, d.resolve(cols))
	defer func() {
		st := rd.Stats()
		rep.Instances, rep.Rejected = st.Instances, st.Rejected
		rep.Errors += st.Errors
	}()
	fail := func(err error) error { return rep.brokenBy(err, add) }
	columns, err := rd.Columns()
	if err != nil {
		return fail(err)
	}
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fail(err)
		}
		for _, f := range row.Findings {
			add(revealEES(f, columns, row.Values))
		}
		rep.Unlisted += row.Errors - len(row.Findings)
	}
}

// revealEES adds the value to a finding about a column, the way a D-flow
// reader that may reveal values words it. The EES reader never does: its
// findings go into reports beside masked data.
func revealEES(f dflow.Finding, columns []ees.Column, values [][]byte) dflow.Finding {
	if f.Item == "" {
		return f
	}
	for i, c := range columns {
		head := "column " + c.Header + " (" + c.Field.Ref + ") "
		if c.Field.Ref == f.Item && strings.HasPrefix(f.Message, head) && i < len(values) {
			f.Message = head + "value " + strconv.Quote(string(values[i])) + " " + strings.TrimPrefix(f.Message, head)
			return f
		}
	}
	return f
}

// checkSender is the worker's check of a file's sender against the
// programme register (rule header.sender); ok without a register.
func (d *Definitions) checkSender(folder, sender, cutType string) (dflow.Finding, bool) {
	if d.Register == nil {
		return dflow.Finding{}, true
	}
	err := d.Register.MaySend(folder, sender, cutType)
	if err == nil {
		return dflow.Finding{}, true
	}
	return dflow.Finding{Line: 1, Group: "ZHV", Rule: programme.RuleSender, Severity: dflow.SevError, Message: err.Error()}, false
}

func (d *Definitions) resolve(cols *ees.Columns) func(string) *dflow.Item {
	return func(ref string) *dflow.Item {
		if it := d.cat.Item(ref); it != nil {
			return it
		}
		return cols.Extra[ref]
	}
}

// countingReader counts bytes read and reports them.
type countingReader struct {
	r    io.Reader
	n    int64
	read func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.read != nil && n > 0 {
		c.read(int64(n))
	}
	return n, err
}

// statFile is the size of a regular file.
func statFile(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	return fi.Size(), nil
}
