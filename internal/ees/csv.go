package ees

import (
	"bytes"
	"fmt"
	"io"
)

// csvReader reads RFC 4180 CSV as encoding/csv does with a comma, no
// comment character, LazyQuotes off and any number of fields per record:
// the same records, the same errors at the same lines and bytes. It also
// reads lines ending in CR alone (as LF), and breaks a record longer than
// MaxLine. Fields are slices of its own buffers, valid until the next
// read: no allocation per record or field once the buffers have grown.
type csvReader struct {
	r       io.Reader
	buf     []byte // input; buf[pos:end] not yet consumed
	pos     int
	end     int
	rerr    error // the reader's error, once buf is drained
	numLine int   // lines read so far (a CR alone ends a line)

	raw    []byte // a line longer than the free buffer, gathered
	rec    []byte // unescaped fields of a record with quotes
	fields [][]byte

	endsBuf []int // field ends in rec

	recStart int // line the record being read starts on
	recRaw   int // raw bytes of the record before the line being read
	quoted   bool
}

func newCSVReader(r io.Reader) *csvReader {
	return &csvReader{r: r, buf: make([]byte, 64<<10)}
}

// csvError is encoding/csv's ParseError, for the two errors it gives with
// LazyQuotes off and FieldsPerRecord -1.
type csvError struct {
	startLine, line, column int
	bare                    bool // a quote in an unquoted field, else a quoted field not closed or text after it
}

func (e *csvError) Error() string {
	if e.bare {
		return fmt.Sprintf("record on line %d; parse error on line %d, column %d: bare \" in non-quoted-field", e.startLine, e.line, e.column)
	}
	return fmt.Sprintf("record on line %d; parse error on line %d, column %d: extraneous or missing \" in quoted-field", e.startLine, e.line, e.column)
}

// fill reads more input after buf[pos:end], moving it to the front.
func (c *csvReader) fill() {
	if c.pos > 0 {
		c.end = copy(c.buf, c.buf[c.pos:c.end])
		c.pos = 0
	}
	for c.rerr == nil && c.end < len(c.buf) {
		n, err := c.r.Read(c.buf[c.end:])
		c.end += n
		if err != nil {
			c.rerr = err
		}
		if n > 0 {
			return
		}
	}
}

// readLine returns the next line with its end as one '\n' (CRLF and CR
// alone become LF; the last line may have none), as encoding/csv's
// readLine sees lines through lineLimit. A line that takes the record past
// MaxLine is not returned: the error is a *lineTooLong.
func (c *csvReader) readLine() ([]byte, error) {
	c.raw = c.raw[:0]
	off := 0 // bytes at buf[pos:] known to hold no line end
	for {
		i := indexLineEnd(c.buf[c.pos+off : c.end])
		if i >= 0 {
			off += i
			e := c.pos + off
			if c.buf[e] != '\r' || e+1 < c.end || c.rerr != nil { // not a CR whose next byte is still to come
				size := len(c.raw) + off // raw bytes before the line end, with the CR of a CRLF
				nl := 1
				if c.buf[e] == '\r' && e+1 < c.end && c.buf[e+1] == '\n' {
					nl, size = 2, size+1
				}
				if c.recRaw+size > MaxLine {
					return c.tooLong()
				}
				var line []byte
				if len(c.raw) > 0 {
					c.raw = append(append(c.raw, c.buf[c.pos:e]...), '\n')
					line = c.raw
				} else {
					c.buf[e] = '\n'
					line = c.buf[c.pos : e+1]
				}
				c.pos = e + nl
				c.recRaw += size + 1
				c.numLine++
				return line, nil
			}
		} else {
			off = c.end - c.pos
		}
		if c.recRaw+len(c.raw)+off > MaxLine {
			return c.tooLong()
		}
		if c.rerr != nil { // no line end before the end of input
			if c.rerr != io.EOF {
				return nil, c.rerr
			}
			line := c.buf[c.pos:c.end]
			if len(c.raw) > 0 {
				c.raw = append(c.raw, line...)
				line = c.raw
			}
			c.pos = c.end
			if len(line) == 0 {
				return nil, io.EOF
			}
			c.numLine++
			c.recRaw += len(line)
			return line, nil
		}
		if c.pos == 0 && c.end == len(c.buf) { // full: gather what has no line end
			c.raw = append(c.raw, c.buf[:off]...)
			c.pos = off
			off = 0
		}
		c.fill()
	}
}

// tooLong is the error of a record past MaxLine. Like lineLimit, it says
// whether the record was inside a quoted value there.
func (c *csvReader) tooLong() ([]byte, error) {
	q := c.quoted
	rest := MaxLine - c.recRaw
	for _, part := range [][]byte{c.raw, c.buf[c.pos:c.end]} {
		if rest <= 0 {
			break
		}
		part = part[:min(len(part), rest)]
		rest -= len(part)
		if bytes.Count(part, []byte{'"'})%2 == 1 {
			q = !q
		}
	}
	c.rerr = &lineTooLong{start: c.recStart, quoted: q}
	c.pos = c.end
	return nil, c.rerr
}

// indexLineEnd is the index of the first LF or CR in b, or -1.
func indexLineEnd(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		i = len(b)
	}
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		return j
	}
	if i == len(b) {
		return -1
	}
	return i
}

// lengthNL is 1 if b ends in '\n'.
func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}

// read returns the next record's fields and the line it starts on, or
// io.EOF, a *csvError, a *lineTooLong or the reader's error. Empty lines
// are skipped. This is encoding/csv's readRecord, fields kept as slices.
func (c *csvReader) read() ([][]byte, int, error) {
	var line []byte
	var errRead error
	for errRead == nil {
		c.recStart, c.recRaw, c.quoted = c.numLine+1, 0, false
		line, errRead = c.readLine()
		if errRead == nil && len(line) == lengthNL(line) {
			line = nil
			continue // empty line
		}
		break
	}
	if errRead != nil {
		return nil, 0, errRead
	}
	recLine := c.numLine
	c.fields = c.fields[:0]
	// Fast path: no quote in the line, every field a slice of it.
	if bytes.IndexByte(line, '"') < 0 {
		line = line[:len(line)-lengthNL(line)]
		for {
			i := bytes.IndexByte(line, ',')
			if i < 0 {
				c.fields = append(c.fields, line)
				return c.fields, recLine, nil
			}
			c.fields = append(c.fields, line[:i:i])
			line = line[i+1:]
		}
	}
	c.rec = c.rec[:0]
	ends := c.endsBuf[:0]
	var err error
	col := 1
	lineNo := c.numLine
parseField:
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, ',')
			field := line
			if i >= 0 {
				field = field[:i]
			} else {
				field = field[:len(field)-lengthNL(field)]
			}
			if j := bytes.IndexByte(field, '"'); j >= 0 {
				err = &csvError{startLine: recLine, line: c.numLine, column: col + j, bare: true}
				break parseField
			}
			c.rec = append(c.rec, field...)
			ends = append(ends, len(c.rec))
			if i >= 0 {
				line = line[i+1:]
				col += i + 1
				continue parseField
			}
			break parseField
		}
		// Quoted field.
		line = line[1:]
		col++
		c.quoted = true
		for {
			i := bytes.IndexByte(line, '"')
			if i >= 0 {
				c.rec = append(c.rec, line[:i]...)
				line = line[i+1:]
				col += i + 1
				switch {
				case len(line) > 0 && line[0] == '"':
					c.rec = append(c.rec, '"')
					line = line[1:]
					col++
				case len(line) > 0 && line[0] == ',':
					line = line[1:]
					col++
					ends = append(ends, len(c.rec))
					c.quoted = false
					continue parseField
				case lengthNL(line) == len(line):
					ends = append(ends, len(c.rec))
					break parseField
				default:
					err = &csvError{startLine: recLine, line: c.numLine, column: col - 1}
					break parseField
				}
			} else if len(line) > 0 {
				c.rec = append(c.rec, line...)
				if errRead != nil {
					break parseField
				}
				col += len(line)
				// The line was a slice of the input buffer: the
				// record's bytes so far are in c.rec.
				line, errRead = c.readLine()
				if len(line) > 0 {
					lineNo++
					col = 1
				}
				if errRead == io.EOF {
					errRead = nil
				}
			} else {
				if errRead == nil {
					err = &csvError{startLine: recLine, line: lineNo, column: col}
					break parseField
				}
				ends = append(ends, len(c.rec))
				break parseField
			}
		}
	}
	c.endsBuf = ends
	if err == nil {
		err = errRead
	}
	if err != nil {
		return nil, recLine, err
	}
	from := 0
	for _, e := range ends {
		c.fields = append(c.fields, c.rec[from:e:e])
		from = e
	}
	return c.fields, recLine, nil
}
