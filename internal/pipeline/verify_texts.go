package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// TextLeakReport counts raw values found in a cut's texts: its manifest,
// its quarantine reports and its submission's receipt and reports. It
// names texts and items, never values.
type TextLeakReport struct {
	Texts  []string       `json:"texts"`  // the keys read
	Values int            `json:"values"` // raw values looked for
	Leaks  int            `json:"leaks"`  // distinct raw values found
	ByText map[string]int `json:"byText,omitempty"`
	ByItem map[string]int `json:"byItem,omitempty"` // "cell" for a cell of a quarantined file read without its columns
}

// VerifyTexts looks for raw values in the texts published beside a cut:
// every sensitive value of its raw inputs (in raw, as for Verify) and of
// its quarantined files, rejected rows included, as the format's reader
// sees them; and, since a quarantined file may be unreadable (no header,
// say), every cell of it that could be a value (5 characters or more
// with a digit or a space, not a column name or a short number).
func VerifyTexts(ctx context.Context, st store.Store, prefix string, d *Definition, raw store.Store) (TextLeakReport, error) {
	rep := TextLeakReport{Texts: []string{}, ByText: map[string]int{}, ByItem: map[string]int{}}
	m, err := cut.ReadManifest(ctx, st, prefix)
	if err != nil {
		return rep, err
	}
	var texts []*leakText
	add := func(key string) error {
		b, err := store.ReadAll(ctx, st, key)
		if err != nil {
			return err
		}
		rep.Texts = append(rep.Texts, key)
		texts = append(texts, newLeakText(key, b))
		return nil
	}
	if err := add(cut.ManifestKey(prefix)); err != nil {
		return rep, err
	}
	reports := map[string]bool{}
	for _, q := range m.Quarantined {
		reports[q.Report] = true
	}
	dir := cut.ReportDir(m.Cut, m.MPID, m.Submission.ID)
	if err := st.List(ctx, dir, func(i store.Info) error { reports[i.Key] = true; return nil }); err != nil {
		return rep, err
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range reports {
			if !yield(k) {
				return
			}
		}
	}) {
		if err := add(k); err != nil {
			return rep, err
		}
	}
	found := map[string]bool{}
	v := &verifier{def: d}
	v.collect = func(ref string, raw []byte) {
		rep.Values++
		for _, t := range texts {
			if t.has(raw) {
				rep.ByText[t.key]++
				if !found[string(raw)] {
					found[string(raw)] = true
					rep.Leaks++
					rep.ByItem[ref]++
				}
			}
		}
	}
	walk := func(from store.Store, key string, whole bool) error {
		rc, err := from.Get(ctx, key)
		if err != nil {
			return err
		}
		defer rc.Close()
		if err := d.in.verify(v, key, rc); err != nil && !whole {
			return err
		}
		if !whole {
			return nil
		}
		rc2, err := from.Get(ctx, key)
		if err != nil {
			return err
		}
		defer rc2.Close()
		return v.cells(rc2)
	}
	for _, in := range m.Inputs {
		if err := walk(raw, in.Key, false); err != nil {
			return rep, fmt.Errorf("raw input %s (run with --keep-raw to verify later): %w", in.Key, err)
		}
	}
	for _, q := range m.Quarantined {
		if err := walk(st, q.Key, true); err != nil {
			return rep, fmt.Errorf("quarantined file %s: %w", q.Key, err)
		}
	}
	return rep, nil
}

// cells hands every cell of a file that could be a value to v.collect as
// item "cell": fields split at commas, '|' and line ends, whatever the
// format, but for a D-flow's header and trailer records.
func (v *verifier) cells(src io.Reader) error {
	names := map[string]bool{}
	if e, ok := v.def.in.(*eesInput); ok {
		for _, h := range e.columns.Order {
			names[h] = true
		}
	}
	r := csv.NewReader(src)
	r.LazyQuotes, r.FieldsPerRecord, r.ReuseRecord = true, -1, true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // as far as it reads
		}
		for _, field := range rec {
			for _, line := range strings.FieldsFunc(field, func(r rune) bool { return r == '\r' || r == '\n' }) {
				if strings.HasPrefix(line, "ZHV|") || strings.HasPrefix(line, "ZPT|") {
					continue // a D-flow's header or trailer: flow, version, file id and times, no personal data
				}
				for _, c := range strings.Split(line, "|") {
					if c = strings.TrimSpace(c); mayBeValue(c) && !names[c] {
						v.collect("cell", []byte(c))
					}
				}
			}
		}
	}
}

// mayBeValue: 5 characters or more, with a digit or a space, not a
// number of 7 digits or fewer (counts, lines, dates).
func mayBeValue(c string) bool {
	if len(c) < 5 || !strings.ContainsAny(c, "0123456789 ") {
		return false
	}
	return len(c) > 7 || strings.Trim(c, "0123456789") != ""
}

// leakText is a text to look for raw values in, with its words (runs of
// letters and digits) to find candidates fast.
type leakText struct {
	key   string
	text  []byte
	words map[string]bool
}

func newLeakText(key string, b []byte) *leakText {
	t := &leakText{key: key, text: b, words: map[string]bool{}}
	for _, w := range bytes.FieldsFunc(b, notWordByte) {
		t.words[string(w)] = true
	}
	return t
}

func notWordByte(r rune) bool {
	return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80)
}

// has says whether the text holds v (of 4 characters or more), as it is
// or as JSON writes it.
func (t *leakText) has(v []byte) bool {
	if len(v) < 4 {
		return false
	}
	var longest []byte
	for _, w := range bytes.FieldsFunc(v, notWordByte) {
		if len(w) > len(longest) {
			longest = w
		}
	}
	if longest == nil || !t.words[string(longest)] {
		return false
	}
	if bytes.Contains(t.text, v) {
		return true
	}
	q, _ := json.Marshal(string(v))
	return bytes.Contains(t.text, q[1:len(q)-1])
}
