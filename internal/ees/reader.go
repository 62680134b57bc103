package ees

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mpan"
)

// Column is one column of the EES table: one of the mapping's, in its
// order, whether or not a file has it.
type Column struct {
	Header   string // the mapping's name for it (never a file's cell)
	Name     string // snake_case column name in tables
	Field    dflow.Field
	Pos      int  // 1-based position in the file read; 0 if the file has no such column
	Required bool // a file must have it, with a value in every row
}

// Row is one data row: the unit of rejection of an EES file.
type Row struct {
	Line     int      // 1-based line of the row in the file
	Ordinal  int      // 1-based data row number
	Values   [][]byte // normalised to DTC form (dates ccyymmdd, booleans T/F), per Columns; empty if the file has no such column
	Fields   [][]byte // the CSV record as read, per the file's columns
	Findings []dflow.Finding
	Errors   int
	MPAN     []byte
	days     []int32 // per Columns: a valid date's day number, where dated
	dated    []bool
}

// Rejected reports whether the row has errors.
func (r *Row) Rejected() bool { return r.Errors > 0 }

// Strings is the CSV record as read, as strings (one allocation a value:
// for rows set aside, not the hot path).
func (r *Row) Strings() []string {
	out := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		out[i] = string(f)
	}
	return out
}

// MaxLine bounds one CSV line, or one record (a quoted value may span
// lines), in bytes.
const MaxLine = 1 << 20

// Reader streams an EES portfolio export, validating each value against
// its data item. Columns are matched by header name, in any order; the
// rows come out in the mapping's column order. Findings never include
// values: they name columns by the mapping's names or by position.
type Reader struct {
	name    string
	cols    *Columns
	resolve func(ref string) *dflow.Item
	csv     *csvReader
	header  []string // as read
	columns []Column // the mapping's
	pos     []int    // file position -> index in columns
	row     Row
	scratch [][]byte // per column: a value normalised
	broken  *dflow.BrokenError
	stats   dflow.Stats
	// pending is the first data row of a file read by position, read
	// while choosing its layout; Next returns it first.
	pending      [][][]byte
	pendingLines []int
	file         []dflow.Finding
}

// NewReader reads an EES CSV; resolve finds the items the columns map to.
// Lines may end in LF, CRLF or CR alone.
func NewReader(r io.Reader, name string, cols *Columns, resolve func(ref string) *dflow.Item) *Reader {
	return &Reader{name: name, cols: cols, resolve: resolve, csv: newCSVReader(r)}
}

func (r *Reader) breakf(line int, rule, msg string) error {
	r.broken = &dflow.BrokenError{File: r.name, Finding: dflow.Finding{Line: line, Group: "EES", Rule: rule, Severity: dflow.SevError, Message: msg}}
	return r.broken
}

// csvBroken breaks the file at a CSV error, at the line where the bad
// record starts.
func (r *Reader) csvBroken(err error, what string) error {
	var pe *csvError
	var ll *lineTooLong
	switch {
	case errors.As(err, &ll):
		why := ""
		if ll.quoted {
			why = " (a quoted value that is never closed?)"
		}
		return r.breakf(ll.start, RuleCSV, fmt.Sprintf("%s: the record starting on line %d is longer than %d bytes%s", what, ll.start, MaxLine, why))
	case errors.As(err, &pe) && !pe.bare:
		return r.breakf(pe.startLine, RuleCSV, fmt.Sprintf("%s: the record starting on line %d has a quoted value that is not closed, or text after its closing quote (found on line %d, byte %d)", what, pe.startLine, pe.line, pe.column))
	case errors.As(err, &pe):
		return r.breakf(pe.startLine, RuleCSV, fmt.Sprintf("%s: a quote inside an unquoted value on line %d, byte %d (quote the whole value and double the quote)", what, pe.line, pe.column))
	}
	return r.breakf(r.csv.recStart, RuleCSV, what+": "+err.Error())
}

// Columns reads the header row (once) and returns the table's columns:
// every column of the mapping, in its order, with where the file has it.
func (r *Reader) Columns() ([]Column, error) {
	if r.columns != nil || r.broken != nil {
		if r.broken != nil {
			return nil, r.broken
		}
		return r.columns, nil
	}
	fields, _, err := r.csv.read()
	if err == io.EOF {
		return nil, r.breakf(1, dflow.RuleHeaderMissing, "file is empty: an EES export starts with a header row")
	}
	if err != nil {
		return nil, r.csvBroken(err, "the header row is not valid CSV")
	}
	hdr := make([]string, len(fields))
	for i, f := range fields {
		hdr[i] = string(f)
	}
	r.header = hdr
	index := make(map[string]int, len(r.cols.Order))
	cols := make([]Column, len(r.cols.Order))
	for i, h := range r.cols.Order {
		ref := r.cols.Header[h]
		it := r.resolve(ref)
		cols[i] = Column{Header: h, Name: dflow.ColumnName(h), Field: dflow.Field{Ref: ref, Name: it.Name, Format: it.Format, Item: it}}
		index[h] = i
	}
	for _, h := range r.cols.Required {
		cols[index[h]].Required = true
	}
	var unknown, twice []string
	var unknownAt []int
	r.pos = make([]int, len(hdr))
	for i, h := range hdr {
		name, ok := r.cols.Lookup(h)
		j := index[name]
		if !ok {
			unknown = append(unknown, strconv.Itoa(i+1))
			unknownAt = append(unknownAt, i)
			r.pos[i] = -1
			continue
		}
		r.pos[i] = j
		if c := &cols[j]; c.Pos != 0 {
			twice = append(twice, fmt.Sprintf("%s appears twice (columns %d and %d)", c.Header, c.Pos, i+1))
			continue
		}
		cols[j].Pos = i + 1
	}
	if len(unknown) == len(hdr) && len(r.cols.Layouts) > 0 {
		return r.positional(cols, index)
	}
	if len(unknown) == len(hdr) {
		return nil, r.breakf(1, RuleNoHeader, fmt.Sprintf("line 1 is not a header row: none of its %d values is an EES column name; an EES export starts with a header row naming its columns (known: %s)", len(hdr), strings.Join(r.cols.Order, ", ")))
	}
	var missing []string
	for _, c := range cols {
		if c.Required && c.Pos == 0 {
			missing = append(missing, c.Header)
		}
	}
	if len(unknown)+len(twice)+len(missing) == 0 {
		r.columns = cols
		r.scratch = make([][]byte, len(cols))
		return cols, nil
	}
	var problems []string
	rule := RuleMissingColumn
	if len(missing) > 0 {
		problems = append(problems, "the header lacks required column "+strings.Join(missing, ", "))
	}
	if len(twice) > 0 {
		rule = RuleDuplicateColumn
		problems = append(problems, strings.Join(twice, "; ")+": each column appears once")
	}
	if len(unknown) > 0 {
		rule = RuleUnknownColumn
		what := "column " + unknown[0] + " is"
		if len(unknown) > 1 {
			what = "columns " + strings.Join(unknown, ", ") + " are"
		}
		var closest []string
		for _, i := range unknownAt[:min(len(unknownAt), 5)] {
			closest = append(closest, fmt.Sprintf("column %d: %s", i+1, strings.Join(r.cols.Closest(hdr[i], 3), ", ")))
		}
		problems = append(problems, fmt.Sprintf("%s not an EES column this pipeline knows: it cannot be masked (closest known names, %s; name it as in ees-columns.yaml or give it an alias there, or add it there and to dpia.yaml; known: %s)", what, strings.Join(closest, "; "), strings.Join(r.cols.Order, ", ")))
	}
	slices.Reverse(problems) // the rule's problem first
	return nil, r.breakf(1, rule, strings.Join(problems, "; "))
}

// positional reads a file whose first line names no column by the first
// layout whose column count its first data row has, skipping the layout's
// title rows (the first line is the first of them). Rows read while
// choosing are held back for Next.
func (r *Reader) positional(cols []Column, index map[string]int) ([]Column, error) {
	first := make([][]byte, len(r.header))
	for i, h := range r.header {
		first[i] = []byte(h)
	}
	rows, lines := [][][]byte{first}, []int{1} // the file's rows read so far
	var tried []string
	for _, l := range r.cols.Layouts {
		tried = append(tried, fmt.Sprintf("%s (%d columns after %d title rows)", l.Name, len(l.Columns), l.TitleRows))
		for len(rows) <= l.TitleRows {
			f, line, err := r.csv.read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, r.csvBroken(err, "not valid CSV")
			}
			cp := make([][]byte, len(f))
			for i, v := range f {
				cp[i] = bytes.Clone(v)
			}
			rows, lines = append(rows, cp), append(lines, line)
		}
		if len(rows) <= l.TitleRows || len(rows[l.TitleRows]) != len(l.Columns) || holdsMPAN(rows[:l.TitleRows]) {
			continue // a "title row" with an MPAN core is data: never skipped
		}
		r.pos = make([]int, len(l.Columns))
		for i, h := range l.Columns {
			r.pos[i] = index[h]
			cols[index[h]].Pos = i + 1
		}
		r.header = l.Columns
		r.pending, r.pendingLines = rows[l.TitleRows:], lines[l.TitleRows:]
		r.columns = cols
		r.scratch = make([][]byte, len(cols))
		r.file = append(r.file, dflow.Finding{Line: 1, Group: "EES", Rule: RulePositional, Severity: dflow.SevWarning,
			Message: fmt.Sprintf("line 1 names no EES column: read by position as layout %s of ees-columns.yaml (%d title rows skipped, %d columns)", l.Name, l.TitleRows, len(l.Columns))})
		return cols, nil
	}
	return nil, r.breakf(1, RuleNoHeader, fmt.Sprintf("line 1 is not a header row: none of its %d values is an EES column name, and no positional layout of ees-columns.yaml fits the first data row (tried %s); an EES export starts with a header row naming its columns (known: %s)", len(first), strings.Join(tried, ", "), strings.Join(r.cols.Order, ", ")))
}

// holdsMPAN reports whether any value of the rows is a valid MPAN core.
func holdsMPAN(rows [][][]byte) bool {
	for _, r := range rows {
		for _, v := range r {
			if v = trimSpace(v); len(v) == 13 && mpan.Valid(v) {
				return true
			}
		}
	}
	return false
}

// FileFindings are findings about the file as a whole (read by position).
func (r *Reader) FileFindings() []dflow.Finding { return r.file }

// Header is the header row as read (nil until Columns has read it).
func (r *Reader) Header() []string { return r.header }

// Rule ids specific to EES files.
const (
	RuleCSV             = "ees.csv"
	RuleNoHeader        = "ees.no-header"
	RuleUnknownColumn   = "ees.unknown-column"
	RuleDuplicateColumn = "ees.duplicate-column"
	RuleMissingColumn   = "ees.missing-column"
	// RulePositional is a warning: the file's first line named no column
	// and a positional layout read it.
	RulePositional = "ees.positional"
)

// Next returns the next row (valid until the following call), io.EOF at
// the end, or a *dflow.BrokenError.
func (r *Reader) Next() (*Row, error) {
	if _, err := r.Columns(); err != nil {
		return nil, err
	}
	var rec [][]byte
	var line int
	var err error
	if len(r.pending) > 0 {
		rec, line = r.pending[0], r.pendingLines[0]
		r.pending, r.pendingLines = r.pending[1:], r.pendingLines[1:]
	} else {
		rec, line, err = r.csv.read()
	}
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, r.csvBroken(err, "not valid CSV")
	}
	row := &r.row
	row.Ordinal++
	row.Line, row.Fields = line, rec
	row.Findings, row.Errors, row.MPAN = row.Findings[:0], 0, nil
	if cap(row.Values) < len(r.columns) {
		row.Values = make([][]byte, len(r.columns))
	}
	row.Values = row.Values[:len(r.columns)]
	clear(row.Values)
	if cap(row.dated) < len(r.columns) {
		row.days, row.dated = make([]int32, len(r.columns)), make([]bool, len(r.columns))
	}
	row.days, row.dated = row.days[:len(r.columns)], row.dated[:len(r.columns)]
	clear(row.dated)
	fail := func(item, rule, msg string) {
		row.Errors++
		if len(row.Findings) < dflow.MaxInstanceFindings {
			row.Findings = append(row.Findings, dflow.Finding{Line: line, Group: "EES", Item: item, Rule: rule, Severity: dflow.SevError, Message: msg})
		}
	}
	if len(rec) != len(r.pos) {
		fail("", dflow.RuleFieldCount, fmt.Sprintf("row has %d values, the header %d", len(rec), len(r.pos)))
	}
	for p, i := range r.pos {
		c := &r.columns[i]
		var v []byte
		if p < len(rec) {
			v = r.normalise(i, c.Field.Format.Kind, trimSpace(rec[p]))
		}
		row.Values[i] = v
		if len(v) == 0 {
			if c.Required {
				fail(c.Field.Ref, dflow.RuleMandatory, c.Header+" is mandatory")
			}
			continue
		}
		if c.Field.Format.Kind == dflow.KindDate {
			// A valid date is validated and converted at once (what
			// CheckValue would check, and the day the table holds).
			if d, ok := dflow.DateDays(v); ok && !c.Field.Item.MPAN && c.Field.Item.InValidSet(v) {
				row.days[i], row.dated[i] = d, true
				continue
			}
		}
		if rule, why := dflow.CheckValue(c.Field.Item, c.Field.Format, v); rule != "" {
			fail(c.Field.Ref, rule, fmt.Sprintf("column %s (%s) %s", c.Header, c.Field.Ref, why))
		} else if c.Field.Item.MPAN && row.MPAN == nil && mpan.Valid(v) {
			row.MPAN = v
		}
	}
	r.stats.Records++
	r.stats.Instances++
	if row.Rejected() {
		r.stats.Rejected++
		r.stats.Errors += row.Errors
	}
	return row, nil
}

// Stats counts what was read.
func (r *Reader) Stats() dflow.Stats { return r.stats }

// normalise turns EES spellings into DTC form: dd/mm/yyyy dates into
// ccyymmdd, true/false/Y/N (any case) into T/F. Anything else is kept, as
// it is, for validation to judge. A value changed is made in column i's
// scratch; one kept is v itself.
func (r *Reader) normalise(i int, kind dflow.Kind, v []byte) []byte {
	switch kind {
	case dflow.KindDate:
		if len(v) == 10 && v[2] == '/' && v[5] == '/' {
			d := append(r.scratch[i][:0], v[6:10]...)
			d = append(append(d, v[3:5]...), v[0:2]...)
			r.scratch[i] = d
			return d
		}
	case dflow.KindBoolean:
		if b := boolean(v); b != 0 {
			r.scratch[i] = append(r.scratch[i][:0], b)
			return r.scratch[i]
		}
	}
	return v
}

// boolean is 'T' or 'F' for the spellings of true and false (ASCII case
// folded, as strings.ToLower folds them: no other letter lowers to these),
// else 0.
func boolean(v []byte) byte {
	if len(v) == 0 || len(v) > 5 {
		return 0
	}
	var l [5]byte
	for i, c := range v {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		l[i] = c
	}
	switch string(l[:len(v)]) {
	case "true", "t", "y", "yes":
		return 'T'
	case "false", "f", "n", "no":
		return 'F'
	}
	return 0
}

// trimSpace is bytes.TrimSpace with a fast path for values with no space
// at either end.
func trimSpace(v []byte) []byte {
	if len(v) == 0 || v[0] > ' ' && v[0] < 0x80 && v[len(v)-1] > ' ' && v[len(v)-1] < 0x80 {
		return v
	}
	return bytes.TrimSpace(v)
}

// lineTooLong is the error of a record longer than MaxLine.
type lineTooLong struct {
	start  int
	quoted bool // inside a quoted value when it grew too long
}

func (e *lineTooLong) Error() string {
	return fmt.Sprintf("the record starting on line %d is longer than %d bytes", e.start, MaxLine)
}
