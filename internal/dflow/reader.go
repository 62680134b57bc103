package dflow

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// zhvItems and zhvNames name the ZHV's fields for findings.
var (
	zhvItems = [11]string{"", "", "J0001", "J0002", "J0001", "J0002", "", "", "", "", ""}
	zhvNames = [11]string{"file identifier", "flow and version", "from role code", "from MPID", "to role code", "to MPID",
		"creation time", "sending application id", "receiving application id", "broadcast", "test data flag"}
)

// Header is a parsed ZHV record.
type Header struct {
	FileID       string `json:"fileId"`
	Flow         string `json:"flow"`    // D0150
	Version      string `json:"version"` // 002
	FromRole     string `json:"fromRole"`
	FromMPID     string `json:"fromMpid"`
	ToRole       string `json:"toRole"`
	ToMPID       string `json:"toMpid"`
	Created      string `json:"created"` // ccyymmddhhmmss as sent
	SendingApp   string `json:"sendingApp,omitempty"`
	ReceivingApp string `json:"receivingApp,omitempty"`
	Broadcast    string `json:"broadcast,omitempty"`
	TestFlag     string `json:"testFlag"` // OPER for live data
}

// CreatedTime parses Created.
func (h Header) CreatedTime() (time.Time, error) {
	return time.Parse("20060102150405", h.Created)
}

// Trailer is a parsed ZPT record.
type Trailer struct {
	FileID     string `json:"fileId"`
	GroupCount int    `json:"groupCount"`
	Checksum   string `json:"checksum,omitempty"`
	FlowCount  int    `json:"flowCount"`
	Completed  string `json:"completed,omitempty"`
}

// Record is one group record of an instance. Fields are the data items in
// catalogue order, without the group code; they alias the reader's buffers.
type Record struct {
	Line   int
	Group  *Group // nil when the code is unknown to the flow
	Code   string
	Fields [][]byte
	// Parent is the index of the parent record in Instance.Records, or -1
	// at level 1 and when the parent is a context record of an earlier
	// instance; ParentLine is the parent's line either way (0 at level 1).
	Parent     int
	ParentLine int

	spanLo, spanHi int32 // this record's fields in Instance.spans
}

// Instance is one level-1 group record with all its descendants: the unit of
// rejection.
type Instance struct {
	Ordinal  int // 1-based position among the file's level-1 records
	Records  []Record
	Findings []Finding // capped at MaxInstanceFindings; Errors counts all
	Errors   int
	Warnings int
	MPAN     []byte // first MPAN-typed item in the instance, nil if none

	buf   []byte
	spans []span
	fbuf  [][]byte
	bytes int
}

// Rejected reports whether the instance has any error.
func (in *Instance) Rejected() bool { return in.Errors > 0 }

type span struct{ lo, hi int32 }

// Options tune a Reader. The zero value is usable.
type Options struct {
	Catalog *Catalog // default: the embedded catalogue
	// Reveal says whether raw values of a data item may appear in findings.
	// Nil reveals nothing.
	Reveal func(ref string) bool
	// MaxLine bounds one record in bytes (default 64 KiB).
	MaxLine int
	// MaxInstanceBytes bounds the memory one instance may take while it is
	// read, its records' bookkeeping included (default
	// DefaultMaxInstanceBytes); a larger one breaks the file with rule
	// instance.too-large.
	MaxInstanceBytes int
	// Encoding of the file's text (default EncodingAuto).
	Encoding Encoding
}

// DefaultMaxInstanceBytes is the default Options.MaxInstanceBytes: an
// instance is one unit's records (kilobytes), so 32 MiB is far above any
// participant's, and two workers' instances at the bound stay well within 1 GB.
const DefaultMaxInstanceBytes = 32 << 20

// Memory a record and each of its fields take beside their bytes (the
// Record, its span and field slice headers): the bound must count them, or
// an instance of millions of short records passes it at 25 times its size.
const (
	recordCost = int(unsafe.Sizeof(Record{}))
	fieldCost  = int(unsafe.Sizeof(span{}) + unsafe.Sizeof([]byte(nil)))
)

// MaxInstanceFindings caps the findings kept per instance.
const MaxInstanceFindings = 50

// Reader streams a D-flow file instance by instance, validating every
// record against the catalogue. Memory is bounded by the longest instance.
type Reader struct {
	name string
	opt  Options
	br   *bufio.Reader

	line    int
	header  *Header
	flow    *Flow
	trailer *Trailer
	broken  *BrokenError
	done    bool
	// badHeader is the first ZHV finding that breaks the file: the body
	// is still read and validated, then the file is broken by it.
	badHeader *Finding

	src      *highReader
	probed   bool   // line ends looked at
	crOnly   bool   // lines end in a lone CR
	decoded  []byte // a line decoded from Windows-1252
	cp1252At int    // first line read as Windows-1252, 0 if none

	fileFindings []Finding
	unresolved   map[string]bool
	topCounts    []int

	stack  []frame
	counts [][]int // per Group.idx: child counts of its open frame
	// decide holds, per Group.idx, what the conditions of its conditional
	// children (Group.Cond) decided for its open frame; nil for groups
	// without such children.
	decide [][]Decision
	// recipient is the DTC route role of the ZHV's to role code, through
	// the catalogue corrections' roles ("" when not known).
	recipient string

	cur, out  *Instance
	scratch   [][]byte
	instances int
	level1    int // level-1 records: what some senders put in the flow count
	flows     int // flow instances (Group.FlowCounted): the trailer's flow count
	stats     Stats
}

type frame struct {
	g        *Group
	rec      int // index in its instance's records
	line     int
	inst     int  // ordinal of the instance the record belongs to
	rejected bool // a context record with errors: units below are rejected
}

// Stats counts what a reader has seen so far.
type Stats struct {
	Records   int // body records
	Instances int
	Rejected  int
	Errors    int
	Warnings  int
}

// NewReader reads a D-flow from r; name labels findings and errors.
func NewReader(r io.Reader, name string, opt Options) *Reader {
	if opt.Catalog == nil {
		opt.Catalog = DefaultCatalog()
	}
	if opt.MaxLine <= 0 {
		opt.MaxLine = 64 << 10
	}
	if opt.MaxInstanceBytes <= 0 {
		opt.MaxInstanceBytes = DefaultMaxInstanceBytes
	}
	if opt.Encoding == "" {
		opt.Encoding = EncodingAuto
	}
	src := &highReader{r: r}
	return &Reader{
		name: name, opt: opt, src: src,
		br:  bufio.NewReaderSize(src, opt.MaxLine),
		cur: &Instance{}, out: &Instance{},
		unresolved: map[string]bool{},
	}
}

// Name is the label given to NewReader.
func (r *Reader) Name() string { return r.name }

// Flow is the catalogue flow the file is parsed against (after Header).
func (r *Reader) Flow() *Flow { return r.flow }

// Trailer is the parsed ZPT, once Next has returned io.EOF.
func (r *Reader) Trailer() *Trailer { return r.trailer }

// FileFindings are findings that belong to no instance (header, trailer,
// file-level cardinality, unresolved formats).
func (r *Reader) FileFindings() []Finding { return r.fileFindings }

// Stats reports counts so far.
func (r *Reader) Stats() Stats { return r.stats }

// BrokenHeader is the ZHV finding that will break the file once its body
// has been read and validated (Next then returns it as a *BrokenError), or
// nil.
func (r *Reader) BrokenHeader() *Finding { return r.badHeader }

// TextEncoding is what the file's text has been read as so far: utf-8, or
// windows-1252 when declared so or when a line was not UTF-8 but was
// Windows-1252.
func (r *Reader) TextEncoding() Encoding {
	if r.opt.Encoding == EncodingWindows1252 || r.cp1252At > 0 {
		return EncodingWindows1252
	}
	return EncodingUTF8
}

// probe looks at the first line end: a file whose lines end in a lone CR
// (classic Mac OS) is read line by line all the same, with a warning.
func (r *Reader) probe() {
	r.probed = true
	p, _ := r.br.Peek(r.br.Size())
	i := bytes.IndexAny(p, "\r\n")
	if i >= 0 && p[i] == '\r' && i+1 < len(p) && p[i+1] != '\n' {
		r.crOnly = true
		r.fileFinding(Finding{Line: 1, Group: "ZHV", Rule: RuleCRLineEnds, Severity: SevWarning,
			Message: "lines end in a lone CR (carriage return): read as line ends; D-flows end lines in LF or CR LF"})
	}
}

// readLine returns the next line without its line ending. The slice is
// valid until the next call.
func (r *Reader) readLine() ([]byte, error) {
	if !r.probed {
		r.probe()
	}
	eol := byte('\n')
	if r.crOnly {
		eol = '\r'
	}
	b, err := r.br.ReadSlice(eol)
	if errors.Is(err, bufio.ErrBufferFull) {
		// Not read to its end: a file that never ends a line (/dev/zero)
		// is broken at MaxLine, not waited on.
		r.line++
		return nil, r.breakf(Finding{Line: r.line, Rule: RuleTooLong,
			Message: fmt.Sprintf("record is longer than %d bytes: not a D-flow record", r.opt.MaxLine)})
	}
	if len(b) == 0 && err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("%s: reading line %d: %w", r.name, r.line+1, err)
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: reading line %d: %w", r.name, r.line+1, err)
	}
	r.line++
	if r.crOnly {
		if len(b) > 0 && b[0] == '\n' { // a CR LF among CRs: one line end
			b = b[1:]
		}
	} else if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	if r.line == 1 {
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	}
	return b, nil
}

func (r *Reader) breakf(f Finding) error {
	f.Severity = SevError
	if r.badHeader != nil && f != *r.badHeader { // the header breaks it; this is one more finding
		r.fileFinding(f)
		f = *r.badHeader
	}
	r.broken = &BrokenError{File: r.name, Finding: f}
	r.done = true
	return r.broken
}

func (r *Reader) fileFinding(f Finding) {
	r.countFinding(f.Severity)
	if len(r.fileFindings) < 1000 {
		r.fileFindings = append(r.fileFindings, f)
	}
}

func (r *Reader) countFinding(s Severity) {
	if s == SevError {
		r.stats.Errors++
	} else {
		r.stats.Warnings++
	}
}

// splitFields splits a record (without line ending) into its fields after
// the group code; it reports whether the record ended with '|'.
func splitFields(dst [][]byte, line []byte) (code []byte, fields [][]byte, trailing bool) {
	trailing = len(line) > 0 && line[len(line)-1] == '|'
	if trailing {
		line = line[:len(line)-1]
	}
	i := bytes.IndexByte(line, '|')
	if i < 0 {
		return line, dst[:0], trailing
	}
	code, rest := line[:i], line[i+1:]
	fields = dst[:0]
	start := 0
	for k, c := range rest { // fields are short: a plain loop beats IndexByte's call
		if c == '|' {
			fields = append(fields, rest[start:k])
			start = k + 1
		}
	}
	return code, append(fields, rest[start:]), trailing
}

// text splits a line, reading it in the declared encoding first when it
// holds bytes beyond ASCII (looked for only once the file has shown one).
func (r *Reader) text(dst [][]byte, line []byte) (code []byte, fields [][]byte, trailing bool) {
	code, fields, trailing = splitFields(dst, line)
	if r.src.high && hasHigh(line) {
		code, fields, trailing = r.decode(line, code, fields, trailing)
	}
	return code, fields, trailing
}

// decode reads a line that holds bytes beyond ASCII in the declared
// encoding: in auto, a line that is not UTF-8 but is Windows-1252 is
// decoded (warning once, at its first line), one that is neither is left
// for the values' item.encoding findings. It returns the line's fields again
// when it decoded it; they alias r.decoded until the next line.
func (r *Reader) decode(line []byte, code []byte, fields [][]byte, trailing bool) ([]byte, [][]byte, bool) {
	switch r.opt.Encoding {
	case EncodingUTF8:
		return code, fields, trailing
	case EncodingWindows1252:
		if !hasHigh(line) {
			return code, fields, trailing
		}
	default:
		if utf8.Valid(line) || !isCP1252(line) {
			return code, fields, trailing
		}
		if r.cp1252At == 0 {
			grp := string(code)
			if !isGroupCode(code) {
				grp = ""
			}
			r.fileFinding(Finding{Line: r.line, Group: grp, Rule: RuleWindows1252, Severity: SevWarning,
				Message: "text is not UTF-8 but is Windows-1252 (first at this line): read as Windows-1252; declaring encoding windows-1252 (input.encoding, --encoding) silences this"})
		}
	}
	if r.cp1252At == 0 {
		r.cp1252At = r.line
	}
	r.decoded = decodeCP1252(r.decoded[:0], line)
	return splitFields(fields[:0], r.decoded)
}

// Header reads and checks the ZHV record and selects the catalogue flow.
func (r *Reader) Header() (*Header, error) {
	if r.header != nil {
		return r.header, nil
	}
	if r.broken != nil {
		return nil, r.broken
	}
	line, err := r.readLine()
	if err == io.EOF {
		return nil, r.breakf(Finding{Line: 1, Group: "ZHV", Rule: RuleHeaderMissing, Message: "file is empty: a D-flow starts with a ZHV header"})
	}
	if err != nil {
		return nil, err
	}
	code, f, trailing := r.text(make([][]byte, 0, 12), line)
	if string(code) != "ZHV" {
		return nil, r.breakf(Finding{Line: 1, Group: "ZHV", Rule: RuleHeaderMissing, Message: "first record is not a ZHV header: not a D-flow file"})
	}
	if len(f) != 11 || !trailing {
		return nil, r.breakf(Finding{Line: 1, Group: "ZHV", Rule: RuleHeaderMalformed,
			Message: fmt.Sprintf("ZHV must have 11 fields ending with '|', found %d", len(f))})
	}
	h := &Header{FileID: string(f[0]), FromRole: string(f[2]), FromMPID: string(f[3]), ToRole: string(f[4]), ToMPID: string(f[5]),
		Created: string(f[6]), SendingApp: string(f[7]), ReceivingApp: string(f[8]), Broadcast: string(f[9]), TestFlag: string(f[10])}
	fv := f[1]
	if len(fv) != 8 || fv[0] != 'D' || !isDigits(fv[1:]) {
		return nil, r.breakf(Finding{Line: 1, Group: "ZHV", Rule: RuleHeaderMalformed, Message: "flow and version must be 8 characters like D0150002"})
	}
	// A bad field of the header breaks the file, but only once its body has
	// been validated too: every finding is reported at once.
	bad := func(item, rule, msg string) {
		fd := Finding{Line: 1, Group: "ZHV", Item: item, Rule: rule, Severity: SevError, Message: msg}
		if r.badHeader == nil {
			r.badHeader = &fd
		} else {
			r.fileFinding(fd)
		}
	}
	for i, v := range f {
		if hasControl(v) {
			bad(zhvItems[i], RuleControlChar, fmt.Sprintf("ZHV field %d (%s) holds a control character", i+1, zhvNames[i]))
		}
	}
	if len(h.FileID) == 0 || len(h.FileID) > 10 {
		bad("", RuleHeaderMalformed, "file id must be 1 to 10 characters")
	}
	if len(h.FromRole) != 1 || len(h.ToRole) != 1 {
		bad("J0001", RuleHeaderMalformed, "from and to role codes must be 1 character")
	}
	if len(h.FromMPID) != 4 || len(h.ToMPID) != 4 {
		bad("J0002", RuleHeaderMalformed, "from and to MPIDs must be 4 characters")
	}
	if len(h.Created) != 14 || !isDigits(f[6]) || !validDate(f[6][:8]) || !validClock(f[6][8:]) {
		bad("", RuleHeaderMalformed, "creation time must be a valid ccyymmddhhmmss")
	}
	if len(h.TestFlag) > 4 {
		bad("", RuleHeaderMalformed, "test data flag must be at most 4 characters (OPER for live)")
	}
	h.Flow, h.Version = string(fv[:5]), string(fv[5:])
	flow, exact := r.opt.Catalog.Nearest(h.Flow, h.Version)
	if flow == nil {
		if r.badHeader != nil { // nothing of the body can be validated: the flow breaks it
			r.fileFinding(*r.badHeader)
			r.badHeader = nil
		}
		return nil, r.breakf(Finding{Line: 1, Group: "ZHV", Rule: RuleUnknownFlow,
			Message: fmt.Sprintf("flow %s is not in DTC %s", h.Flow, r.opt.Catalog.DTCVersion)})
	}
	if !exact {
		r.fileFinding(Finding{Line: 1, Group: "ZHV", Rule: RuleUnknownVersion, Severity: SevWarning,
			Message: fmt.Sprintf("version %s of %s is not in DTC %s; parsed against version %s", h.Version, h.Flow, r.opt.Catalog.DTCVersion, flow.Version)})
	}
	r.header, r.flow = h, flow
	if cr := r.opt.Catalog.Corrections; cr != nil {
		r.recipient = cr.Roles[h.ToRole]
	}
	r.counts = make([][]int, len(flow.Groups))
	r.decide = make([][]Decision, len(flow.Groups))
	for i, g := range flow.Groups {
		r.counts[i] = make([]int, len(g.Children))
		for _, c := range g.Children {
			if c.Cond != nil {
				r.decide[i] = make([]Decision, len(g.Children))
				break
			}
		}
	}
	r.topCounts = make([]int, len(flow.TopGroups()))
	return h, nil
}

// Next returns the next level-1 instance, valid until the following call.
// At the end it checks the trailer and returns io.EOF; structural breakage
// returns a *BrokenError.
func (r *Reader) Next() (*Instance, error) {
	if r.header == nil {
		if _, err := r.Header(); err != nil {
			return nil, err
		}
	}
	if r.broken != nil {
		return nil, r.broken
	}
	if r.done {
		return nil, r.eof()
	}
	for {
		line, err := r.readLine()
		if err == io.EOF {
			return nil, r.breakf(Finding{Line: r.line, Group: "ZPT", Rule: RuleTrailerMissing,
				Message: "file ends without a ZPT trailer: truncated?"})
		}
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			r.fileFinding(Finding{Line: r.line, Rule: RuleBlankLine, Severity: SevWarning, Message: "blank line ignored"})
			continue
		}
		code, fields, trailing := r.text(r.scratch[:0], line)
		r.scratch = fields[:0]
		if string(code) == "ZPT" {
			err := r.readTrailer(fields, trailing)
			if err != nil && r.broken == nil {
				return nil, err
			}
			// A trailer that breaks the file still ends the last
			// instance: it is returned, and the next call breaks the
			// file, so what the body holds is reported all the same.
			if r.cur.Ordinal > 0 {
				return r.finish(), nil
			}
			if err != nil {
				return nil, err
			}
			return nil, r.eof()
		}
		if !isGroupCode(code) {
			return nil, r.breakf(Finding{Line: r.line, Rule: RuleGarbage,
				Message: "record does not start with a group code: not a D-flow record"})
		}
		r.stats.Records++
		g := r.flow.groupOf(code)
		if g != nil && g.counted {
			r.flows++
		}
		if g != nil && (g.Unit() || g.Context()) {
			var done *Instance
			if r.cur.Ordinal > 0 {
				done = r.finish()
			}
			r.startInstance(g)
			if err := r.addRecord(g, code, fields, trailing); err != nil {
				return nil, err
			}
			if done != nil {
				return done, nil
			}
			continue
		}
		if r.cur.Ordinal == 0 {
			r.fileFinding(Finding{Line: r.line, Group: string(code), Rule: RuleOutOfPlace, Severity: SevError,
				Message: "record before any level-1 group: it belongs to no instance and is skipped"})
			continue
		}
		if err := r.addRecord(g, code, fields, trailing); err != nil {
			return nil, err
		}
	}
}

// eof ends a file that was read to its end: with io.EOF, or with the
// header's breakage once the body has been validated.
func (r *Reader) eof() error {
	if r.badHeader != nil {
		if r.broken == nil {
			r.breakf(*r.badHeader)
		}
		return r.broken
	}
	return io.EOF
}

// isGroupCode accepts what the catalogue uses: 2 or 3 (allow 4) upper-case
// letters and digits.
func isGroupCode(c []byte) bool {
	if len(c) < 2 || len(c) > 4 {
		return false
	}
	for _, b := range c {
		if !(b >= '0' && b <= '9' || b >= 'A' && b <= 'Z') {
			return false
		}
	}
	return true
}

func (r *Reader) startInstance(g *Group) {
	r.instances++
	in := r.cur
	in.Ordinal = r.instances
	in.Records = in.Records[:0]
	in.Findings = in.Findings[:0]
	in.Errors, in.Warnings = 0, 0
	in.MPAN = nil
	in.buf = in.buf[:0]
	in.spans = in.spans[:0]
	in.bytes = 0
	if g.Level != 1 {
		return
	}
	r.level1++
	for len(r.stack) > 0 {
		r.pop()
	}
	if i := g.childIdx; i < len(r.topCounts) {
		r.topCounts[i]++
		if g.Max != Unbounded && r.topCounts[i] > g.Max {
			r.finding(in, Finding{Line: r.line, Group: g.Code, Rule: RuleCardMax, Severity: SevError,
				Message: fmt.Sprintf("group %s (%s) may appear at most %d times in a file", g.Code, g.Name, g.Max)})
		}
	}
}

// finding records an instance finding; Stats counts it when the instance
// is complete (a broken file's unfinished instance is not reported).
func (r *Reader) finding(in *Instance, f Finding) {
	if f.Severity == SevError {
		in.Errors++
	} else {
		in.Warnings++
	}
	if len(in.Findings) < MaxInstanceFindings {
		in.Findings = append(in.Findings, f)
	}
}

// addRecord places a record in the hierarchy of the current instance and
// validates its fields.
func (r *Reader) addRecord(g *Group, code []byte, fields [][]byte, trailing bool) error {
	in := r.cur
	in.bytes += len(code) + recordCost + len(fields)*fieldCost
	for _, f := range fields {
		in.bytes += len(f)
	}
	if in.bytes > r.opt.MaxInstanceBytes {
		start := r.line
		if len(in.Records) > 0 {
			start = in.Records[0].Line
		}
		return r.breakf(Finding{Line: r.line, Group: string(code), Rule: RuleInstanceTooLarge,
			Message: fmt.Sprintf("instance %d (from line %d) needs more than %d MiB to read, at %d records: an instance is one unit's records, so this file is not as a participant's system writes it; if it is, read it with a larger --max-instance-mib",
				in.Ordinal, start, r.opt.MaxInstanceBytes>>20, len(in.Records))})
	}
	rec := Record{Line: r.line, Group: g, Parent: -1}
	lo := int32(len(in.spans))
	for _, f := range fields {
		s := span{int32(len(in.buf)), 0}
		in.buf = append(in.buf, f...)
		s.hi = int32(len(in.buf))
		in.spans = append(in.spans, s)
	}
	rec.spanLo, rec.spanHi = lo, int32(len(in.spans))
	idx := len(in.Records)
	if !trailing {
		r.finding(in, Finding{Line: r.line, Group: string(code), Rule: RuleNoTrailingPipe, Severity: SevError,
			Message: "record must end with '|'"})
	}
	if g == nil {
		rec.Code = string(code)
		in.Records = append(in.Records, rec)
		r.finding(in, Finding{Line: r.line, Group: rec.Code, Rule: RuleUnknownGroup, Severity: SevError,
			Message: fmt.Sprintf("group %s is not part of %s version %s", rec.Code, r.flow.ID, r.flow.Version)})
		return nil
	}
	rec.Code = g.Code
	placed := true
	if g.Level > 1 {
		placed = r.place(in, g, idx, &rec, fields)
	} else {
		r.push(g, idx, fields)
	}
	if placed && (g.Unit() || g.Context()) { // an out-of-place record has no frame, nor ancestors
		for _, fr := range r.stack[:len(r.stack)-1] {
			if fr.rejected {
				r.finding(in, Finding{Line: r.line, Group: g.Code, Rule: RuleParentRejected, Severity: SevError,
					Message: fmt.Sprintf("enclosing group %s at line %d was rejected", fr.g.Code, fr.line)})
				break
			}
		}
	}
	in.Records = append(in.Records, rec)
	if len(fields) != len(g.Fields) {
		r.finding(in, Finding{Line: r.line, Group: g.Code, Rule: RuleFieldCount, Severity: SevError,
			Message: fmt.Sprintf("group %s (%s) has %d data items, found %d", g.Code, g.Name, len(g.Fields), len(fields))})
	}
	n := min(len(fields), len(g.Fields))
	for i := 0; i < n; i++ {
		fd := &g.Fields[i]
		v := fields[i]
		if len(v) == 0 {
			if fd.Required {
				r.finding(in, Finding{Line: r.line, Group: g.Code, Item: fd.Ref, Rule: RuleMandatory, Severity: SevError,
					Message: fmt.Sprintf("%s (%s) is mandatory", fd.Ref, fd.Name)})
			}
			continue
		}
		if fd.Format.Kind == KindText && !r.unresolved[fd.Ref] {
			r.unresolved[fd.Ref] = true
			r.fileFinding(Finding{Line: r.line, Group: g.Code, Item: fd.Ref, Rule: RuleUnresolvedFormat, Severity: SevWarning,
				Message: fmt.Sprintf("%s (%s) has no format in the catalogue: accepted as free text", fd.Ref, fd.Name)})
		}
		if rule, why := checkValue(fd, v, true); rule != "" {
			msg := fmt.Sprintf("%s (%s) %s", fd.Ref, fd.Name, why)
			if r.opt.Reveal != nil && r.opt.Reveal(fd.Ref) && rule != RuleControlChar { // it would carry the character
				msg = fmt.Sprintf("%s (%s) value %q %s", fd.Ref, fd.Name, v, why)
			}
			r.finding(in, Finding{Line: r.line, Group: g.Code, Item: fd.Ref, Rule: rule, Severity: SevError, Message: msg})
		}
	}
	return nil
}

// place pops the stack to the group's parent and pushes the group; false
// (with a finding) when the parent is not open.
func (r *Reader) place(in *Instance, g *Group, idx int, rec *Record, fields [][]byte) bool {
	for len(r.stack) > 0 && r.stack[len(r.stack)-1].g != g.ParentG {
		r.pop()
	}
	if len(r.stack) == 0 {
		r.finding(in, Finding{Line: r.line, Group: g.Code, Rule: RuleOutOfPlace, Severity: SevError,
			Message: fmt.Sprintf("group %s (%s) must follow its parent group %s", g.Code, g.Name, g.Parent)})
		return false
	}
	top := r.stack[len(r.stack)-1]
	rec.ParentLine = top.line
	if top.inst == in.Ordinal {
		rec.Parent = top.rec
	}
	cnt := r.counts[top.g.idx]
	cnt[g.childIdx]++
	if g.Max != Unbounded && cnt[g.childIdx] > g.Max {
		r.finding(in, Finding{Line: r.line, Group: g.Code, Rule: RuleCardMax, Severity: SevError,
			Message: fmt.Sprintf("group %s (%s) may appear at most %d times under %s", g.Code, g.Name, g.Max, g.Parent)})
	}
	r.push(g, idx, fields)
	return true
}

// push opens a frame for a record of g, deciding the conditions of g's
// conditional children from the record's fields.
func (r *Reader) push(g *Group, idx int, fields [][]byte) {
	c := r.counts[g.idx]
	for i := range c {
		c[i] = 0
	}
	if d := r.decide[g.idx]; d != nil {
		for i, ch := range g.Children {
			if ch.Cond != nil {
				d[i] = ch.Cond.Decide(r.recipient, fields)
			}
		}
	}
	r.stack = append(r.stack, frame{g: g, rec: idx, line: r.line, inst: r.cur.Ordinal})
}

// pop closes the top frame, checking its children's minimum cardinality.
// The finding goes to the frame's instance while it is being read, else
// (a context record already returned) to the file's findings.
func (r *Reader) pop() {
	top := r.stack[len(r.stack)-1]
	r.stack = r.stack[:len(r.stack)-1]
	cnt := r.counts[top.g.idx]
	for i, c := range top.g.Children {
		if cnt[i] < c.Min {
			f := Finding{Line: top.line, Group: top.g.Code, Rule: RuleCardMin, Severity: SevError,
				Message: fmt.Sprintf("group %s (%s) needs at least %d child group %s (%s), found %d", top.g.Code, top.g.Name, c.Min, c.Code, c.Name, cnt[i])}
			if c.Cond != nil {
				var ok bool
				if f, ok = r.conditional(f, c, r.decide[top.g.idx][i]); !ok {
					continue
				}
			}
			if top.inst == r.cur.Ordinal && !r.done {
				r.finding(r.cur, f)
			} else {
				r.fileFinding(f)
			}
		}
	}
}

// finish closes the current instance and swaps it out for return.
func (r *Reader) finish() *Instance {
	in := r.cur
	// Close the instance's own frames; a context record's frame stays open
	// for the units below it.
	for len(r.stack) > 0 {
		top := &r.stack[len(r.stack)-1]
		if top.inst != in.Ordinal {
			break
		}
		if top.g.Context() {
			top.rejected = in.Rejected()
			break
		}
		r.pop()
	}
	in.fbuf = in.fbuf[:0]
	for i := range in.Records {
		rec := &in.Records[i]
		lo := len(in.fbuf)
		for _, s := range in.spans[rec.spanLo:rec.spanHi] {
			in.fbuf = append(in.fbuf, in.buf[s.lo:s.hi:s.hi])
		}
		rec.Fields = in.fbuf[lo:len(in.fbuf):len(in.fbuf)]
	}
	in.MPAN = nil
	for _, rec := range in.Records {
		if rec.Group == nil {
			continue
		}
		for i, fd := range rec.Group.Fields {
			if fd.Item.MPAN && i < len(rec.Fields) && len(rec.Fields[i]) > 0 {
				in.MPAN = rec.Fields[i]
				break
			}
		}
		if in.MPAN != nil {
			break
		}
	}
	r.stats.Instances++
	r.stats.Errors += in.Errors
	r.stats.Warnings += in.Warnings
	if in.Rejected() {
		r.stats.Rejected++
	}
	r.cur, r.out = r.out, in
	return in
}

func (r *Reader) readTrailer(f [][]byte, trailing bool) error {
	for len(r.stack) > 0 {
		r.pop()
	}
	r.done = true
	// What breaks the trailer breaks the file, but only after the body's
	// last checks (the file's cardinality): every finding at once.
	var bad *Finding
	badf := func(rule, msg string) {
		bad = &Finding{Line: r.line, Group: "ZPT", Rule: rule, Severity: SevError, Message: msg}
	}
	t := &Trailer{}
	if len(f) != 5 || !trailing {
		badf(RuleTrailerMalformed, fmt.Sprintf("ZPT must have 5 fields ending with '|', found %d", len(f)))
	} else {
		t = &Trailer{FileID: string(f[0]), Checksum: string(f[2]), Completed: string(f[4])}
		var err1, err2 error
		t.GroupCount, err1 = strconv.Atoi(string(f[1]))
		t.FlowCount, err2 = strconv.Atoi(string(f[3]))
		switch {
		case err1 != nil || err2 != nil:
			badf(RuleTrailerMalformed, "ZPT group and flow counts must be integers")
		case t.FileID != r.header.FileID:
			badf(RuleTrailerFileID, "the trailer's file id is not the header's (line 1): the trailer belongs to another file, or one of them was edited")
		case t.GroupCount != r.stats.Records:
			badf(RuleTrailerGroups, fmt.Sprintf("trailer says %d group records, file has %d: truncated or edited?", t.GroupCount, r.stats.Records))
		case t.FlowCount != r.flows && t.FlowCount == r.level1:
			// Another reading of the DTC's flow count: the data is whole
			// (the group count says so), so it is not broken for it.
			r.fileFinding(Finding{Line: r.line, Group: "ZPT", Rule: RuleTrailerFlowsLevel1, Severity: SevWarning,
				Message: fmt.Sprintf("trailer's flow count %d counts every level-1 group; the DTC's flow count (J1066, flow instances without file headers) is %d here, the records of %s", t.FlowCount, r.flows, r.flowCountGroups())})
		case t.FlowCount != r.flows:
			badf(RuleTrailerFlows, fmt.Sprintf("trailer says %d flow instances, file has %d (the DTC's flow count, J1066: records of %s)", t.FlowCount, r.flows, r.flowCountGroups()))
		}
	}
	for bad == nil {
		line, err := r.readLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(line)) > 0 {
			return r.breakf(Finding{Line: r.line, Rule: RuleAfterTrailer, Message: "data after the ZPT trailer"})
		}
	}
	r.checkTopCounts()
	if bad != nil {
		return r.breakf(*bad)
	}
	r.trailer = t
	return nil
}

// checkTopCounts checks the file's level-1 groups' minimum cardinality.
func (r *Reader) checkTopCounts() {
	for i, g := range r.flow.TopGroups() {
		if r.topCounts[i] < g.Min {
			f := Finding{Line: r.line, Group: g.Code, Rule: RuleCardMin, Severity: SevError,
				Message: fmt.Sprintf("file needs at least %d group %s (%s), found %d", g.Min, g.Code, g.Name, r.topCounts[i])}
			if g.Cond != nil {
				var ok bool
				if f, ok = r.conditional(f, g, g.Cond.Decide(r.recipient, nil)); !ok {
					continue
				}
			}
			r.fileFinding(f)
		}
	}
}

// conditional turns the finding for a missing conditional group c as its
// condition decided: an error when it requires the group, nothing (false)
// when the group may be left out, a warning when the condition cannot be
// decided from the file.
func (r *Reader) conditional(f Finding, c *Group, d Decision) (Finding, bool) {
	switch d {
	case Optional:
		return f, false
	case Required:
		f.Message += fmt.Sprintf(" (%s: %s)", c.Code, c.Cond.Describe())
		return f, true
	}
	on := fmt.Sprintf("the recipient's role code %q is not in %s", r.header.ToRole, CorrectionsFile)
	switch c.Cond.On {
	case OnRecipient:
		if r.recipient != "" {
			on = "the recipient's role (" + r.recipient + ") is not one the condition names"
		}
	case OnUndecidable:
		on = "the file does not show what the condition depends on"
	default:
		on = c.Cond.On + " in the parent record is empty or not a value the condition names"
	}
	f.Rule, f.Severity = RuleCondUndecided, SevWarning
	f.Message = fmt.Sprintf("group %s (%s) is missing but conditional (%s); %s, so it is not an error", c.Code, c.Name, c.Cond.Describe(), on)
	return f, true
}

// flowCountGroups names the groups the flow count counts, for messages.
func (r *Reader) flowCountGroups() string {
	var codes []string
	for _, g := range r.flow.FlowCountGroups() {
		codes = append(codes, g.Code)
	}
	return "group " + strings.Join(codes, ", ")
}
