package dflow

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Encoding is the character encoding of a D-flow's text.
type Encoding string

const (
	// EncodingAuto reads UTF-8, and reads a line that is not UTF-8 but is
	// valid Windows-1252 as Windows-1252, with a warning (the default).
	EncodingAuto Encoding = "auto"
	// EncodingUTF8 reads UTF-8 only: a value that is not is an error.
	EncodingUTF8 Encoding = "utf-8"
	// EncodingWindows1252 reads every byte above 0x7F as Windows-1252.
	EncodingWindows1252 Encoding = "windows-1252"
)

// Encodings are the encodings a definition or --encoding may declare.
var Encodings = []Encoding{EncodingAuto, EncodingUTF8, EncodingWindows1252}

// ParseEncoding accepts one of Encodings; "" is EncodingAuto.
func ParseEncoding(s string) (Encoding, error) {
	if s == "" {
		return EncodingAuto, nil
	}
	for _, e := range Encodings {
		if string(e) == s {
			return e, nil
		}
	}
	names := make([]string, len(Encodings))
	for i, e := range Encodings {
		names[i] = string(e)
	}
	return "", fmt.Errorf("unknown encoding %q (one of %s)", s, strings.Join(names, ", "))
}

// cp1252 is the UTF-8 form of each byte above 0x7F in Windows-1252. The
// five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D)
// are their C1 control characters, as WHATWG decodes them, and marked
// undefined: a line holding one is not Windows-1252 text.
var cp1252 = func() (t [128]struct {
	n         uint8
	b         [3]byte
	undefined bool
}) {
	for i := range t {
		c := byte(0x80 + i)
		r := charmap.Windows1252.DecodeByte(c)
		if r == utf8.RuneError {
			r, t[i].undefined = rune(c), true
		}
		t[i].n = uint8(utf8.EncodeRune(t[i].b[:], r))
	}
	return t
}()

// isCP1252 reports whether every byte of b is defined in Windows-1252.
func isCP1252(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 && cp1252[c-0x80].undefined {
			return false
		}
	}
	return true
}

// decodeCP1252 appends b, read as Windows-1252, to dst as UTF-8.
func decodeCP1252(dst, b []byte) []byte {
	for _, c := range b {
		if c < 0x80 {
			dst = append(dst, c)
			continue
		}
		e := &cp1252[c-0x80]
		dst = append(dst, e.b[:e.n]...)
	}
	return dst
}

// hasControl reports whether b holds a control character: C0 (NUL to US),
// DEL, or C1 (U+0080 to U+009F, as UTF-8).
func hasControl(b []byte) bool {
	for i, c := range b {
		switch {
		case c < 0x20 || c == 0x7f:
			return true
		case c == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f:
			return true
		}
	}
	return false
}

// highReader remembers whether what it has read held a byte above 0x7F,
// so that a reader of a file all in ASCII never looks at its lines again.
type highReader struct {
	r    io.Reader
	high bool
}

func (h *highReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if !h.high && hasHigh(p[:n]) {
		h.high = true
	}
	return n, err
}

// hasHigh reports whether b has a byte above 0x7F, 8 bytes at a time.
func hasHigh(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}
