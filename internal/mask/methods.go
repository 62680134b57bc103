package mask

import (
	"strings"
	"unicode/utf8"
)

// method masks one non-empty value of an item that is width characters
// wide (0: no limit). Methods are safe for concurrent use.
type method interface {
	mask(v []byte, width int) ([]byte, error)
}

// batchMethod is a method that masks many values at once faster than one
// by one: FF1's AES blocks of several values share the cipher's pipeline.
// out[i] is vs[i] masked.
type batchMethod interface {
	method
	maskAll(vs [][]byte, width int) ([][]byte, error)
}

// maskOne masks one value through maskAll.
func maskOne(m batchMethod, v []byte, width int) ([]byte, error) {
	out, err := m.maskAll([][]byte{v}, width)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// fit cuts s to width characters at a word boundary where possible.
func fit(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)[:width]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > width/2 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut)
}
