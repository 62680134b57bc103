package ees

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CSVRecords reads data with the package's CSV reader: each record as
// "line: fields" (fields quoted), then how it ended.
func CSVRecords(data string) []string {
	c := newCSVReader(strings.NewReader(data))
	var out []string
	for {
		rec, line, err := c.read()
		if err != nil {
			return append(out, describeErr(err))
		}
		out = append(out, fmt.Sprintf("%d: %q", line, rec))
	}
}

// ReferenceCSVRecords reads data as the reader did before it had a CSV
// reader of its own: encoding/csv (LazyQuotes off, any number of fields)
// over lineLimit, the filter that reads a CR alone as a line end and bounds
// a record at MaxLine.
func ReferenceCSVRecords(data string) []string {
	lim := &lineLimit{r: bufio.NewReaderSize(strings.NewReader(data), 64<<10), line: 1, start: 1}
	c := csv.NewReader(lim)
	c.FieldsPerRecord = -1
	var out []string
	for {
		rec, err := c.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				err = &csvError{startLine: pe.StartLine, line: pe.Line, column: pe.Column, bare: errors.Is(pe.Err, csv.ErrBareQuote)}
			}
			return append(out, describeErr(err))
		}
		line, _ := c.FieldPos(0)
		b := make([][]byte, len(rec))
		for i, f := range rec {
			b[i] = []byte(f)
		}
		out = append(out, fmt.Sprintf("%d: %q", line, b))
	}
}

func describeErr(err error) string {
	var ce *csvError
	var ll *lineTooLong
	switch {
	case err == io.EOF:
		return "EOF"
	case errors.As(err, &ce):
		return fmt.Sprintf("csv error %+v", *ce)
	case errors.As(err, &ll):
		return fmt.Sprintf("too long %+v", *ll)
	}
	return "error " + err.Error()
}

// lineTooLong and lineLimit below are the reader's filter before it had a
// CSV reader of its own, kept as the reference the tests compare with.

// lineLimit feeds the CSV reader: it turns a CR that ends a line without
// LF into LF (files saved with classic Mac line ends), and fails once a
// record grows past MaxLine, so neither a file without line breaks nor an
// unclosed quote can exhaust memory. It follows quotes to know where
// records end (a quote toggles; a doubled one toggles twice).
type lineLimit struct {
	r      *bufio.Reader
	run    int  // bytes of the record so far
	quoted bool // inside a quoted value
	line   int  // the line being read, 1-based
	start  int  // the line the record being read starts on
}

// special marks the bytes lineLimit looks at.
var special = [256]bool{'"': true, '\r': true, '\n': true}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	from := 0 // where the record being read starts in p
	for i := 0; i < n; i++ {
		if !special[p[i]] {
			continue
		}
		switch p[i] {
		case '"':
			l.quoted = !l.quoted
			continue
		case '\r':
			if i+1 < n {
				if p[i+1] == '\n' {
					continue
				}
			} else if next, perr := l.r.Peek(1); perr == nil && next[0] == '\n' {
				continue
			}
			p[i] = '\n'
		}
		l.line++
		if !l.quoted {
			if l.run+i-from > MaxLine {
				return 0, &lineTooLong{start: l.start, quoted: l.quoted}
			}
			l.run, l.start, from = 0, l.line, i+1
		}
	}
	if l.run += n - from; l.run > MaxLine {
		return 0, &lineTooLong{start: l.start, quoted: l.quoted}
	}
	return n, err
}
