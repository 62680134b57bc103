package mask

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteMethodsReference writes the masking methods' reference
// (docs/reference/dpia-methods.md) from the list of methods: a table, then
// one section per method.
func WriteMethodsReference(w io.Writer) error {
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("# DPIA masking methods\n\n")
	p("<!-- Generated from internal/mask/method_*.go by\n")
	p("     go test ./internal/mask -run TestMethodsReferenceIsFresh -update\n")
	p("     Do not edit: edit the method's file and regenerate. -->\n\n")
	p("`pipelines/dpia.yaml` assigns every data item a pipeline reads to a named domain, and a\n")
	p("domain names its method and the method's options. Items in one domain are masked with one\n")
	p("key (the programme key's subkey for the domain), so equal values join across items and\n")
	p("across participants.\n\n")
	p("```yaml\nversion: \"2026.11-1\"\ndomains:\n  esme_id: {method: identifier, alphabet: hex}\n  comms_address: {method: constant}\n")
	p("items:\n  J2312: esme_id\n  J0385: {domain: comms_address, value: \"192.0.2.1\"}\n```\n\n")
	p("Every domain also takes `sensitive: true` or `false`: a sensitive domain's raw values never\n")
	p("appear in outputs, reports or logs. The default is `true` for every method but `keep`.\n")
	p("Unknown keys, unknown methods and domains, an option on a method that does not take it and a\n")
	p("method that does not fit an item are errors at `file:line:col`.\n\n")
	p("| method | what it does | options | cached | used for |\n|---|---|---|---|---|\n")
	for _, m := range methods {
		var opts []string
		for _, o := range m.options {
			s := "`" + o.key + "`"
			if o.perItem {
				s += " (per item)"
			}
			opts = append(opts, s)
		}
		if len(opts) == 0 {
			opts = []string{"–"}
		}
		cached := "no"
		if m.cached {
			cached = "yes"
		}
		p("| [`%s`](#%s) | %s | %s | %s | %s |\n", m.name, m.name, m.summary, strings.Join(opts, ", "), cached, m.usedFor)
	}
	for _, m := range methods {
		p("\n## `%s`\n\n%s.\n", m.name, upperFirst(m.summary))
		if m.details != "" {
			p("\n%s\n", m.details)
		}
		p("\n- **Applies to:** %s.\n", appliesTo(m))
		if len(m.options) == 0 {
			p("- **Options:** none.\n")
		} else {
			p("- **Options:**\n")
		}
		for _, o := range m.options {
			var notes []string
			if o.perItem {
				notes = append(notes, "with the item")
			}
			if o.required {
				notes = append(notes, "required")
			}
			note := ""
			if len(notes) > 0 {
				note = " (" + strings.Join(notes, ", ") + ")"
			}
			p("  - `%s`%s: %s", o.key, note, o.doc)
			switch len(o.values) {
			case 0:
				p(".\n")
			case 1:
				p("; the only value:\n")
			default:
				p("; one of:\n")
			}
			for _, v := range o.values {
				p("    - `%s`: %s.\n", v.value, v.doc)
			}
		}
		p("- **Cached:** %s.\n", cachedText(m))
		p("- **Used for:** %s.\n", m.usedFor)
	}
	return b.Flush()
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// appliesTo says which items a method may mask.
func appliesTo(m *methodSpec) string {
	switch {
	case m.onlyMPAN:
		return "MPAN-typed items only"
	case m.textOnly && m.mpanItems:
		return "text items, MPAN-typed ones included"
	case m.textOnly:
		return "text items, not MPAN-typed ones"
	case m.mpanItems:
		return "items of any type, MPAN-typed ones included"
	}
	return "items of any type but MPAN-typed ones"
}

// cachedText says how a Session memoises the method's results.
func cachedText(m *methodSpec) string {
	switch {
	case m.cached && m.perInstance:
		return "yes: a session remembers results by instance first (the value recurs in its instance's tables), then by value"
	case m.cached:
		return "yes: a session remembers recent results by value"
	}
	return "no: masking is cheaper than looking up"
}
