package dflow

import "strings"

// Dummy is a value of valid format for the item that says nothing about
// any real value: `0` for numbers, `19700101` for dates
// (`19700101000000`, `000000` for date-times and times), `F` for
// booleans, the first value of an item with a valid set, else `X`s up to
// the width (at most 8). It needs no key: the masking method constant
// publishes it for an item its rule gives no value, and the allocator's
// top-up writes it straight into a synthetic unit's published tables.
func (it *Item) Dummy() string {
	switch it.Format.Kind {
	case KindNum, KindInt:
		return "0"
	case KindDate:
		return "19700101"
	case KindDateTime:
		return "19700101000000"
	case KindTime:
		return "000000"
	case KindBoolean:
		return "F"
	}
	if len(it.ValidSet) > 0 {
		return it.ValidSet[0]
	}
	n := it.Format.Width
	if n == 0 || n > 8 {
		n = 8
	}
	return strings.Repeat("X", n)
}

// Redacted is what free text becomes (the masking method redact): the
// marker REDACTED, cut to width (0: not cut). Like Dummy it needs no key.
func Redacted(width int) string {
	const marker = "REDACTED"
	if width > 0 && width < len(marker) {
		return marker[:width]
	}
	return marker
}
