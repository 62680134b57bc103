package mask

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// methods lists every masking method, in the order error texts and the
// reference (docs/reference/dpia-methods.md) give them. A method is one
// unit, a methodSpec in its own method_<name>.go: adding one is writing
// that file and listing it here.
var methods = []*methodSpec{
	keepSpec,
	blankSpec,
	constantSpec,
	redactSpec,
	mpanSpec,
	identifierSpec,
	fakeSpec,
}

// methodSpec is one masking method: its name and reference text, the
// options it takes, what it may be applied to, whether its results are
// cached, and how to build it.
type methodSpec struct {
	name    string
	summary string // what it does, one line of markdown (the reference's table)
	usedFor string // what the DPIA rules use it for, one line of markdown
	details string // more markdown for the method's section; may be empty
	options []*option

	// cached: a Session memoises the method's results (it is costly: FF1,
	// HMAC and a faker). perInstance: the results are remembered by
	// instance ordinal first, since the values (an MPAN, a meter's serial)
	// recur within their instance's tables; needs cached.
	cached, perInstance bool

	// What it may mask: onlyMPAN, only MPAN-typed items; mpanItems,
	// MPAN-typed items too (they must keep their links); textOnly, only
	// text items (numbers and dates are kept or blanked, never scrambled).
	onlyMPAN, mpanItems, textOnly bool

	// checkDomain says what is wrong with a domain of this method beyond
	// its options' allowed values: the key at fault ("" for the domain)
	// and why. Optional.
	checkDomain func(d *Domain) (key, msg string)
	// check says what is wrong with applying the method to an item beyond
	// the above. Optional.
	check func(r *Rule, it *dflow.Item) string

	// build makes the method for a domain with the domain's own key.
	build func(d *Domain, key []byte) (method, error)
}

// option is a key a method takes in its domain, or with an item
// ({domain: d, value: ...}).
type option struct {
	key      string
	doc      string        // one line of markdown
	values   []optionValue // the allowed values; none: any
	required bool
	perItem  bool // given with the item, not the domain
	// get is the option's value in a domain or rule (r is nil for domain
	// options) and whether it was given.
	get func(d *Domain, r *Rule) (string, bool)
}

type optionValue struct {
	value, doc string
}

func (o *option) allowed() []string {
	var vs []string
	for _, v := range o.values {
		vs = append(vs, v.value)
	}
	return vs
}

// method masks one non-empty value of an item that is width characters
// wide (0: no limit). Methods are safe for concurrent use.
type method interface {
	mask(v []byte, width int) ([]byte, error)
}

// itemMethod is a method whose masker depends on the item (a constant of
// the item's format): the masker asks it once per item.
type itemMethod interface {
	method
	forItem(r *Rule, it *dflow.Item) method
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

// methodNamed is the method called name, or nil.
func methodNamed(name string) *methodSpec {
	for _, m := range methods {
		if m.name == name {
			return m
		}
	}
	return nil
}

// methodNames lists the methods' names in order.
func methodNames() []string {
	names := make([]string, len(methods))
	for i, m := range methods {
		names[i] = m.name
	}
	return names
}

func unknownMethod(name string) string {
	return fmt.Sprintf("unknown method %q (one of %s)", name, strings.Join(methodNames(), ", "))
}

// option is the method's option called key, or nil.
func (m *methodSpec) option(key string) *option {
	for _, o := range m.options {
		if o.key == key {
			return o
		}
	}
	return nil
}

// allOptions lists every method's options once each, in method order.
func allOptions() []*option {
	var all []*option
	seen := map[string]bool{}
	for _, m := range methods {
		for _, o := range m.options {
			if !seen[o.key] {
				seen[o.key] = true
				all = append(all, o)
			}
		}
	}
	return all
}

// takers lists the methods that take option key.
func takers(key string) []string {
	var names []string
	for _, m := range methods {
		if m.option(key) != nil {
			names = append(names, m.name)
		}
	}
	return names
}

// misplaced says that option key was given to a method that does not take it.
func misplaced(key string) string {
	t := takers(key)
	if len(t) == 1 {
		return fmt.Sprintf("%s is only for method %s", key, t[0])
	}
	return fmt.Sprintf("%s is only for methods %s", key, strings.Join(t, ", "))
}

// checkOptions says what is wrong with the options of d (r == nil) or of
// r: the key at fault and why.
func checkOptions(m *methodSpec, d *Domain, r *Rule) (key, msg string) {
	for _, o := range allOptions() {
		if o.perItem != (r != nil) {
			continue
		}
		v, given := o.get(d, r)
		mo := m.option(o.key)
		switch {
		case mo == nil && given:
			return o.key, misplaced(o.key)
		case mo == nil:
		case mo.required && !given, given && len(mo.values) > 0 && !slices.Contains(mo.allowed(), v):
			vs := mo.allowed()
			if len(vs) == 1 {
				return o.key, fmt.Sprintf("%s must be %s", o.key, vs[0])
			}
			return o.key, fmt.Sprintf("%s must be one of %s", o.key, strings.Join(vs, ", "))
		}
	}
	return "", ""
}

// checkDomain says what is wrong with a domain: the key at fault ("" for
// the domain) and why.
func checkDomain(d *Domain) (key, msg string) {
	m := methodNamed(d.Method)
	if m == nil {
		return "method", unknownMethod(d.Method)
	}
	if key, msg := checkOptions(m, d, nil); msg != "" {
		return key, msg
	}
	if m.checkDomain != nil {
		return m.checkDomain(d)
	}
	return "", ""
}

// checkRule says what is wrong with applying a rule, whose domain passed
// checkDomain, to the item: the key at fault ("" for the item) and why.
func checkRule(r *Rule, it *dflow.Item) (key, msg string) {
	m := methodNamed(r.Domain.Method)
	if key, msg := checkOptions(m, r.Domain, r); msg != "" {
		return key, msg
	}
	switch {
	case m.onlyMPAN && !it.MPAN:
		return "", fmt.Sprintf("the %s method is for MPAN-typed items only", m.name)
	case it.MPAN && !m.mpanItems:
		return "", mpanItemsMessage()
	case m.textOnly && it.Type != dflow.TypeString:
		return "", fmt.Sprintf("method %s needs a text item; this one is %s", m.name, it.Type)
	case m.check != nil:
		return "", m.check(r, it)
	}
	return "", ""
}

// mpanItemsMessage says which methods MPAN-typed items may use.
func mpanItemsMessage() string {
	var only, also []string
	for _, m := range methods {
		switch {
		case m.onlyMPAN:
			only = append(only, m.name)
		case m.mpanItems:
			also = append(also, m.name)
		}
	}
	return fmt.Sprintf("MPAN-typed items must use the %s method (or %s) so links survive", strings.Join(only, "/"), strings.Join(also, "/"))
}
