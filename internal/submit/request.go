package submit

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
)

// Request is a submission as its sender asks for it: datacut submit's flags.
type Request struct {
	MPID, Cut string
	// AsAt is when the data was extracted, a date or an RFC 3339 time; ""
	// is today's date (UTC).
	AsAt string
	// Amend is the version an amendment changes; 0 for a full submission.
	Amend     int
	Replaces  []string
	Withdraws []string
	// ID names the submission; "" generates one.
	ID string
	// AllowBroken uploads files the worker will quarantine.
	AllowBroken bool
	// Files are the local files to send.
	Files []string
	// MaxFindings caps the findings kept per file (default 20).
	MaxFindings int
	// Tool names the program and its version in the audit record.
	Tool string
}

// RequestError is a mistake in a request, corrected by changing it (a usage
// error of datacut submit).
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

func requestErr(errs []string) error {
	if len(errs) == 0 {
		return nil
	}
	return &RequestError{Msg: strings.Join(errs, "; ")}
}

// Plan is a checked request: the submission.json to write and what
// checking found in each file.
type Plan struct {
	Request
	Submission *cut.Submission
	Files      []*FileReport
}

// Broken lists the files the worker would quarantine.
func (p *Plan) Broken() []*FileReport {
	var out []*FileReport
	for _, f := range p.Files {
		if f.Broken {
			out = append(out, f)
		}
	}
	return out
}

// Rejected counts the instances the worker would keep aside, in files it
// would read.
func (p *Plan) Rejected() int {
	n := 0
	for _, f := range p.Files {
		if !f.Broken {
			n += f.Rejected
		}
	}
	return n
}

// Refused says the plan must not be uploaded: a file is broken and the
// request does not allow that.
func (p *Plan) Refused() bool { return len(p.Broken()) > 0 && !p.AllowBroken }

// check finds the request's own mistakes, all at once, before any file is
// read; it fills in the as-at default.
func (r *Request) check(d *Definitions, now time.Time) error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if !cut.IsMPID(r.MPID) {
		bad("--mpid %q is not an MPID (4 characters A-Z, 0-9)", r.MPID)
	}
	if d.Types.Named(r.Cut) == nil {
		bad("--cut %q is not a cut type (one of %s)", r.Cut, strings.Join(d.Types.Names(), ", "))
	}
	if r.AsAt == "" {
		r.AsAt = now.UTC().Format(time.DateOnly)
	} else if _, err := cut.ParseAsAt(r.AsAt); err != nil {
		bad("--as-at: %v", err)
	}
	switch {
	case r.Amend < 0:
		bad("--amend %d: versions are numbered from 1", r.Amend)
	case r.Amend == 0 && (len(r.Replaces) > 0 || len(r.Withdraws) > 0):
		bad("--replace and --withdraw name files of the version an amendment changes: give --amend VERSION too")
	}
	for _, n := range append(append([]string{}, r.Replaces...), r.Withdraws...) {
		if n == "" || strings.ContainsAny(n, `/\`) {
			bad("%q is not a file name: --replace and --withdraw take the names of files in the amended version, without folders", n)
		}
	}
	if r.ID != "" && !cut.IsSubmissionID(r.ID) {
		bad("--id %q is not a submission id (up to 80 letters, digits, '.', '_', '-', starting with a letter or digit)", r.ID)
	}
	if len(r.Files) == 0 && !(r.Amend > 0 && len(r.Withdraws) > 0) {
		bad("no FILE to submit (only an amendment that withdraws files sends none)")
	}
	seen := map[string]string{}
	for _, f := range r.Files {
		name := filepath.Base(f)
		if prev, ok := seen[name]; ok {
			bad("two files are called %s (%s and %s): the files of a submission have distinct names", name, prev, f)
		}
		seen[name] = f
	}
	return requestErr(errs)
}

// Prepare checks a request and then every file, reading each once (which
// hashes it), and builds the submission; submission.json's own check
// (cut.Submission.Check) must pass too. A *RequestError is the request's
// mistake; files the worker would quarantine are in the plan (Broken), not
// an error. progress reports bytes read of the files' total.
func Prepare(d *Definitions, req Request, now time.Time, progress func(done, total int64)) (*Plan, error) {
	if err := req.check(d, now); err != nil {
		return nil, err
	}
	if req.MaxFindings <= 0 {
		req.MaxFindings = 20
	}
	p := &Plan{Request: req}
	var total, done int64
	var missing []string
	for _, f := range req.Files {
		size, err := statFile(f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, fmt.Sprintf("%s: no such file", f))
		case err != nil:
			missing = append(missing, err.Error())
		}
		total += size
	}
	if err := requestErr(missing); err != nil {
		return nil, err
	}
	bySHA := map[string]string{}
	for _, f := range req.Files {
		rep, err := d.Check(f, req.MPID, req.Cut, req.MaxFindings, func(n int64) {
			done += n
			if progress != nil {
				progress(done, total)
			}
		})
		if err != nil {
			return nil, err
		}
		if first, ok := bySHA[rep.SHA256]; ok && !rep.Broken {
			fd := dflow.Finding{Rule: "cut.duplicate-file", Severity: dflow.SevError,
				Message: fmt.Sprintf("the same content as %s (SHA-256 %s): a file is sent once; leave one of them out", first, rep.SHA256[:16])}
			rep.breaks(fd)
			rep.Findings = append([]dflow.Finding{fd}, rep.Findings...)
		}
		if _, ok := bySHA[rep.SHA256]; !ok {
			bySHA[rep.SHA256] = rep.Name
		}
		p.Files = append(p.Files, rep)
	}
	s := &cut.Submission{Schema: cut.SubmissionSchema, MPID: req.MPID, Cut: req.Cut, AsAt: req.AsAt, Kind: cut.KindFull,
		Files: []cut.SubmittedFile{}}
	if req.Amend > 0 {
		s.Kind, s.Amends, s.Replaces, s.Withdraws = cut.KindAmend, req.Amend, req.Replaces, req.Withdraws
	}
	for _, f := range p.Files {
		s.Files = append(s.Files, cut.SubmittedFile{Name: f.Name, Size: f.Size, SHA256: f.SHA256})
	}
	if err := s.Check(req.MPID, req.Cut); err != nil {
		return nil, &RequestError{Msg: err.Error()}
	}
	p.Submission = s
	return p, nil
}
