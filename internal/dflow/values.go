package dflow

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mhhs-sit/datacut/internal/mpan"
)

// checkValue validates one non-empty value against a field's format, valid
// set and MPAN check digit, and, with controls, that text holds no control
// character. It returns the rule broken and a description that never
// includes the value, or "" when the value is fine.
func checkValue(f *Field, v []byte, controls bool) (rule, why string) {
	ft := f.Format
	switch ft.Kind {
	case KindText:
		if controls && hasControl(v) {
			return RuleControlChar, controlWhy
		}
		if !utf8.Valid(v) {
			return RuleEncoding, "is not valid UTF-8"
		}
	case KindChar:
		n := len(v)
		if !isPrintableASCII(v) { // as cheap as looking for ASCII alone
			if controls && hasControl(v) {
				return RuleControlChar, controlWhy
			}
			if !isASCII(v) {
				if !utf8.Valid(v) {
					return RuleEncoding, "is not valid UTF-8"
				}
				n = utf8.RuneCount(v)
			}
		}
		if ft.Width > 0 && n > ft.Width {
			return RuleWidth, fmt.Sprintf("is %d characters, longer than %s allows", n, ft)
		}
	case KindNum, KindInt:
		if rule, why := checkNumber(ft, v); rule != "" {
			return rule, why
		}
	case KindDate:
		if len(v) != 8 || !isDigits(v) || !validDate(v) {
			return RuleDate, "is not a valid DATE (ccyymmdd)"
		}
	case KindDateTime:
		if len(v) != 14 || !isDigits(v) || !validDate(v[:8]) || !validClock(v[8:]) {
			return RuleDateTime, "is not a valid DATETIME (ccyymmddhhmmss)"
		}
	case KindTime:
		if len(v) != 6 || !isDigits(v) || !validClock(v) {
			return RuleTime, "is not a valid TIME (hhmmss)"
		}
	case KindBoolean:
		if len(v) != 1 || (v[0] != 'T' && v[0] != 'F') {
			return RuleBoolean, "is not a BOOLEAN (T or F)"
		}
	}
	it := f.Item
	if it.MPAN {
		if p := mpan.Problem(v); p != "" {
			return RuleMPANCheck, strings.TrimPrefix(p, "MPAN core ")
		}
	}
	if !it.InValidSet(v) {
		return RuleValidSet, "is not in the valid set (" + validSetText(it.ValidSet) + ")"
	}
	return "", ""
}

func validSetText(vs []string) string {
	if len(vs) > 12 {
		return strings.Join(vs[:12], ", ") + fmt.Sprintf(", … %d codes", len(vs))
	}
	return strings.Join(vs, ", ")
}

func checkNumber(ft Format, v []byte) (string, string) {
	rule := RuleNumber
	if ft.Kind == KindInt {
		rule = RuleInteger
	}
	i := 0
	if v[0] == '-' || v[0] == '+' {
		if !ft.Signed && !(ft.Kind == KindInt && v[0] == '-') {
			return rule, fmt.Sprintf("has a sign but %s is unsigned", ft)
		}
		i = 1
	}
	// digits counts significant digits: leading zeros of the integer part
	// of a decimal do not use up the width ("0.25" fits NUM(2,2)).
	digits, decimals, seen, point := 0, 0, false, false
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			seen = true
			if point {
				decimals++
				digits++
			} else if c != '0' || digits > 0 || ft.Scale == 0 {
				digits++
			}
		case c == '.' && !point && ft.Kind == KindNum && ft.Scale > 0:
			point = true
		default:
			return rule, fmt.Sprintf("is not a number of format %s", ft)
		}
	}
	if !seen {
		return rule, fmt.Sprintf("is not a number of format %s", ft)
	}
	if decimals > ft.Scale {
		return RuleWidth, fmt.Sprintf("has %d decimals, more than %s allows", decimals, ft)
	}
	if ft.Width > 0 && digits > ft.Width {
		return RuleWidth, fmt.Sprintf("has %d digits, more than %s allows", digits, ft)
	}
	return "", ""
}

// controlWhy says what is wrong with a value holding a control character.
const controlWhy = "holds a control character (C0 such as NUL, TAB or CR, DEL, or C1)"

// isPrintableASCII reports whether v is all ASCII from space to '~'.
func isPrintableASCII(v []byte) bool {
	for _, c := range v {
		if c-0x20 > 0x5e {
			return false
		}
	}
	return true
}

func isASCII(v []byte) bool {
	for _, c := range v {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isDigits(v []byte) bool {
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func num2(v []byte) int { return int(v[0]-'0')*10 + int(v[1]-'0') }

// validDate checks 8 digits ccyymmdd as a calendar date.
func validDate(v []byte) bool {
	y := num2(v)*100 + num2(v[2:])
	m, d := num2(v[4:]), num2(v[6:])
	if y == 0 || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// validClock checks 6 digits hhmmss.
func validClock(v []byte) bool { return num2(v) < 24 && num2(v[2:]) < 60 && num2(v[4:]) < 60 }

// CheckValue validates a non-empty value of an item in the given format
// (the item's own, or a field's): it returns the broken rule and why, or
// "" when the value is valid. The reason never includes the value.
func CheckValue(it *Item, ft Format, v []byte) (rule, why string) {
	if len(v) == 0 {
		return "", ""
	}
	return checkValue(&Field{Ref: it.Ref, Name: it.Name, Format: ft, Item: it}, v, false)
}
