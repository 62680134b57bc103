package ees

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mpan"
)

// Column is one column of an EES file as read.
type Column struct {
	Header string
	Name   string // snake_case column name in tables
	Field  dflow.Field
}

// Row is one data row: the unit of rejection of an EES file.
type Row struct {
	Line     int      // 1-based line of the row in the file
	Ordinal  int      // 1-based data row number
	Values   [][]byte // normalised to DTC form (dates ccyymmdd, booleans T/F), per Columns
	Raw      []string // the CSV record as read
	Findings []dflow.Finding
	Errors   int
	MPAN     []byte
}

// Rejected reports whether the row has errors.
func (r *Row) Rejected() bool { return r.Errors > 0 }

// MaxLine bounds one CSV line in bytes.
const MaxLine = 1 << 20

// Reader streams an EES portfolio export, validating each value against
// its data item. Findings never include values.
type Reader struct {
	name    string
	cols    *Columns
	resolve func(ref string) *dflow.Item
	csv     *csv.Reader
	header  []string // as read
	columns []Column
	row     Row
	broken  *dflow.BrokenError
	stats   dflow.Stats
}

// NewReader reads an EES CSV; resolve finds the items the columns map to.
func NewReader(r io.Reader, name string, cols *Columns, resolve func(ref string) *dflow.Item) *Reader {
	c := csv.NewReader(&lineLimit{r: bufio.NewReaderSize(r, 64<<10)})
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	return &Reader{name: name, cols: cols, resolve: resolve, csv: c}
}

func (r *Reader) breakf(line int, rule, msg string) error {
	r.broken = &dflow.BrokenError{File: r.name, Finding: dflow.Finding{Line: line, Group: "EES", Rule: rule, Severity: dflow.SevError, Message: msg}}
	return r.broken
}

// Columns reads the header row (once) and returns the columns.
func (r *Reader) Columns() ([]Column, error) {
	if r.columns != nil || r.broken != nil {
		if r.broken != nil {
			return nil, r.broken
		}
		return r.columns, nil
	}
	hdr, err := r.csv.Read()
	if err == io.EOF {
		return nil, r.breakf(1, dflow.RuleHeaderMissing, "file is empty: an EES export starts with a header row")
	}
	if err != nil {
		return nil, r.breakf(1, RuleCSV, "header row is not valid CSV: "+csvReason(err))
	}
	r.header = slices.Clone(hdr)
	seen := map[string]bool{}
	for i, h := range hdr {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		ref, ok := r.cols.Header[h]
		if !ok {
			return nil, r.breakf(1, RuleUnknownColumn, fmt.Sprintf("column %d %q is not an EES column this pipeline knows: it cannot be masked (add it to ees-columns.yaml and dpia.yaml)", i+1, h))
		}
		if seen[h] {
			return nil, r.breakf(1, RuleUnknownColumn, fmt.Sprintf("column %q appears twice", h))
		}
		seen[h] = true
		it := r.resolve(ref)
		r.columns = append(r.columns, Column{Header: h, Name: dflow.ColumnName(h), Field: dflow.Field{Ref: ref, Name: it.Name, Format: it.Format, Item: it}})
	}
	if !seen["mpan-core"] {
		return nil, r.breakf(1, dflow.RuleHeaderMalformed, "the header has no mpan-core column")
	}
	return r.columns, nil
}

// Header is the header row as read (nil until Columns has read it).
func (r *Reader) Header() []string { return r.header }

// Rule ids specific to EES files.
const (
	RuleCSV           = "ees.csv"
	RuleUnknownColumn = "ees.unknown-column"
)

// Next returns the next row (valid until the following call), io.EOF at
// the end, or a *dflow.BrokenError.
func (r *Reader) Next() (*Row, error) {
	if _, err := r.Columns(); err != nil {
		return nil, err
	}
	rec, err := r.csv.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		line := 0
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line = pe.Line
		}
		return nil, r.breakf(line, RuleCSV, "not valid CSV: "+csvReason(err))
	}
	line, _ := r.csv.FieldPos(0)
	row := &r.row
	row.Ordinal++
	row.Line, row.Raw = line, rec
	row.Findings, row.Errors, row.MPAN = row.Findings[:0], 0, nil
	if cap(row.Values) < len(r.columns) {
		row.Values = make([][]byte, len(r.columns))
	}
	row.Values = row.Values[:len(r.columns)]
	fail := func(item, rule, msg string) {
		row.Errors++
		if len(row.Findings) < dflow.MaxInstanceFindings {
			row.Findings = append(row.Findings, dflow.Finding{Line: line, Group: "EES", Item: item, Rule: rule, Severity: dflow.SevError, Message: msg})
		}
	}
	if len(rec) != len(r.columns) {
		fail("", dflow.RuleFieldCount, fmt.Sprintf("row has %d values, the header %d", len(rec), len(r.columns)))
	}
	for i := range r.columns {
		c := &r.columns[i]
		var v []byte
		if i < len(rec) {
			v = normalise(c.Field.Format.Kind, strings.TrimSpace(rec[i]), row.Values[i][:0])
		}
		row.Values[i] = v
		if len(v) == 0 {
			if c.Header == "mpan-core" {
				fail(c.Field.Ref, dflow.RuleMandatory, "mpan-core is mandatory")
			}
			continue
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
// ccyymmdd, true/false/Y/N into T/F. Anything else is kept for validation
// to judge.
func normalise(kind dflow.Kind, v string, dst []byte) []byte {
	switch kind {
	case dflow.KindDate:
		if len(v) == 10 && v[2] == '/' && v[5] == '/' {
			return append(dst, v[6:10]+v[3:5]+v[0:2]...)
		}
	case dflow.KindBoolean:
		switch strings.ToLower(v) {
		case "true", "t", "y", "yes":
			return append(dst, 'T')
		case "false", "f", "n", "no":
			return append(dst, 'F')
		}
	}
	return append(dst, v...)
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

var errLineTooLong = fmt.Errorf("a line is longer than %d bytes", MaxLine)

// lineLimit fails reads once a line grows past MaxLine, so a file without
// line breaks cannot exhaust memory.
type lineLimit struct {
	r   *bufio.Reader
	run int
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			l.run = 0
		} else if l.run++; l.run > MaxLine {
			return 0, errLineTooLong
		}
	}
	return n, err
}
