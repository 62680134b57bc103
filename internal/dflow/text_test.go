package dflow_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// planted is a customer name no finding may ever show.
const planted = "Zq7Planted"

// withName is a two-instance D0302 whose second Customer Name (J0375 of
// 69C) is name, as raw bytes; it returns the file and the name's line.
func withName(t *testing.T, name string) (string, int) {
	t.Helper()
	lines := linesOf(genFile(t, "D0302002", 2))
	n := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "69C|") {
			if n++; n == 2 {
				setField(lines, i, 0, name)
				return strings.Join(lines, "\n") + "\n", i + 1
			}
		}
	}
	t.Fatal("no second 69C")
	return "", 0
}

// nameOf is the Customer Name of an instance's 69C record.
func nameOf(t *testing.T, in *dflow.Instance) string {
	t.Helper()
	for _, rec := range in.Records {
		if rec.Code == "69C" {
			return string(rec.Fields[0])
		}
	}
	t.Fatal("no 69C")
	return ""
}

// readAll reads data, keeping every instance's findings and the second
// instance's customer name.
func readAll(t *testing.T, data string, opt dflow.Options) (r *dflow.Reader, found []dflow.Finding, name string, broken *dflow.BrokenError) {
	t.Helper()
	r = dflow.NewReader(strings.NewReader(data), "test.dat", opt)
	for {
		in, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !errors.As(err, &broken) {
				t.Fatalf("unexpected error %v", err)
			}
			found = append(found, broken.Finding)
			break
		}
		found = append(found, in.Findings...)
		if in.Ordinal == 2 {
			name = nameOf(t, in)
		}
	}
	return r, append(found, r.FileFindings()...), name, broken
}

func rules(fs []dflow.Finding) map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		m[f.Rule]++
	}
	return m
}

// noPlanted fails when a finding shows the planted value.
func noPlanted(t *testing.T, fs []dflow.Finding, err error) {
	t.Helper()
	for _, f := range fs {
		if strings.Contains(f.String(), planted) || strings.Contains(f.String(), "Zo") {
			t.Fatalf("finding shows the value: %s", f)
		}
	}
	if err != nil && strings.Contains(err.Error(), planted) {
		t.Fatalf("error shows the value: %v", err)
	}
}

func TestWindows1252IsReadWithOneWarning(t *testing.T) {
	data, line := withName(t, planted+" Zo\xeb M\xfcller")
	// A second line in Windows-1252: still one warning, at the first.
	lines := linesOf(data)
	for i := len(lines) - 1; i > 0; i-- {
		if strings.HasPrefix(lines[i], "70C|") {
			setField(lines, i, 1, "Caf\xe9")
			break
		}
	}
	data = strings.Join(lines, "\n") + "\n"
	r, found, name, broken := readAll(t, data, dflow.Options{})
	if broken != nil {
		t.Fatalf("broken: %v", broken)
	}
	if got := rules(found); len(got) != 1 || got[dflow.RuleWindows1252] != 1 || r.Stats().Errors != 0 {
		t.Fatalf("want one %s warning and no errors, got %v", dflow.RuleWindows1252, found)
	}
	if w := found[len(found)-1]; w.Line != line || w.Group != "69C" || w.Severity != dflow.SevWarning {
		t.Fatalf("warning %+v, want line %d group 69C", w, line)
	}
	if want := planted + " Zoë Müller"; name != want {
		t.Fatalf("name read as %q, want %q", name, want)
	}
	if r.TextEncoding() != dflow.EncodingWindows1252 {
		t.Fatalf("text encoding %s", r.TextEncoding())
	}
	noPlanted(t, found, nil)
}

func TestDeclaredEncodings(t *testing.T) {
	data, line := withName(t, planted+" Zo\xeb")
	// Declared UTF-8: the value is not, so its unit is rejected.
	r, found, _, _ := readAll(t, data, dflow.Options{Encoding: dflow.EncodingUTF8})
	if got := rules(found); got[dflow.RuleEncoding] != 1 || got[dflow.RuleWindows1252] != 0 || r.Stats().Rejected != 1 {
		t.Fatalf("utf-8: %v", found)
	}
	if r.TextEncoding() != dflow.EncodingUTF8 {
		t.Fatalf("utf-8 read as %s", r.TextEncoding())
	}
	noPlanted(t, found, nil)
	// Declared Windows-1252: read without a warning; even a valid UTF-8
	// sequence is two Windows-1252 characters.
	_, found, name, _ := readAll(t, data, dflow.Options{Encoding: dflow.EncodingWindows1252})
	if len(found) != 0 || name != planted+" Zoë" {
		t.Fatalf("windows-1252: %q %v", name, found)
	}
	utf, _ := withName(t, "Zoë")
	if _, _, name, _ := readAll(t, utf, dflow.Options{Encoding: dflow.EncodingWindows1252}); name != "ZoÃ«" {
		t.Fatalf("declared windows-1252 read UTF-8 bytes as %q", name)
	}
	// A byte Windows-1252 leaves undefined: in auto the line is neither
	// encoding (item.encoding); declared, it is a C1 control character.
	odd, _ := withName(t, planted+"\x81")
	if _, found, _, _ := readAll(t, odd, dflow.Options{}); rules(found)[dflow.RuleEncoding] != 1 || rules(found)[dflow.RuleWindows1252] != 0 {
		t.Fatalf("auto, undefined byte: %v", found)
	}
	_, found, _, _ = readAll(t, odd, dflow.Options{Encoding: dflow.EncodingWindows1252})
	if len(found) != 1 || found[0].Rule != dflow.RuleControlChar || found[0].Line != line || found[0].Item != "J0375" {
		t.Fatalf("windows-1252, undefined byte: %v", found)
	}
	noPlanted(t, found, nil)
}

func TestParseEncoding(t *testing.T) {
	for in, want := range map[string]dflow.Encoding{"": dflow.EncodingAuto, "auto": dflow.EncodingAuto, "utf-8": dflow.EncodingUTF8, "windows-1252": dflow.EncodingWindows1252} {
		if got, err := dflow.ParseEncoding(in); err != nil || got != want {
			t.Fatalf("%q: %s %v", in, got, err)
		}
	}
	if _, err := dflow.ParseEncoding("latin1"); err == nil || !strings.Contains(err.Error(), "windows-1252") {
		t.Fatalf("latin1: %v", err)
	}
}

func TestControlCharactersAreErrors(t *testing.T) {
	for name, v := range map[string]string{
		"NUL": planted + "\x00", "TAB": "Zo\te" + planted, "ESC": planted + "\x1b[2J", "DEL": planted + "\x7f",
		"C1 as UTF-8": planted + "\u0085", "CR inside": planted + "\rX",
	} {
		t.Run(name, func(t *testing.T) {
			data, line := withName(t, v)
			for _, opt := range []dflow.Options{{}, {Reveal: func(string) bool { return true }}} {
				r, found, _, broken := readAll(t, data, opt)
				if broken != nil {
					t.Fatalf("broken: %v", broken)
				}
				if len(found) != 1 || found[0].Rule != dflow.RuleControlChar || found[0].Line != line ||
					found[0].Group != "69C" || found[0].Item != "J0375" || found[0].Severity != dflow.SevError || r.Stats().Rejected != 1 {
					t.Fatalf("want one %s at line %d 69C J0375, got %v", dflow.RuleControlChar, line, found)
				}
				noPlanted(t, found, nil)
			}
		})
	}
	// In the header too, as a finding of the file it breaks.
	data := strings.Replace(genFile(t, "D0150002", 1), "|TR01|", "|TR\x0001|", 1)
	_, found, _, broken := readAll(t, data, dflow.Options{})
	if broken == nil || broken.Finding.Rule != dflow.RuleControlChar || broken.Finding.Group != "ZHV" {
		t.Fatalf("header control character: %v %v", broken, found)
	}
}

func TestCROnlyLineEnds(t *testing.T) {
	for _, n := range []int{3, 2000} { // 2000 instances: more than the reader's 64 KiB buffer
		base := genFile(t, "D0268002", n)
		want := read(t, base, dflow.Options{})
		cr := strings.ReplaceAll(base, "\n", "\r")
		first := strings.IndexByte(cr, '\r') + 1
		for name, data := range map[string]string{
			"cr":          strings.ReplaceAll(base, "\n", "\r"),
			"bom cr":      "\xef\xbb\xbf" + strings.ReplaceAll(base, "\n", "\r"),
			"cr and crlf": cr[:first] + strings.Replace(cr[first:], "\r", "\r\n", 3), // a CR LF among CRs is one line end
		} {
			got := read(t, data, dflow.Options{})
			if got.broken != nil || got.stats.Records != want.stats.Records || got.stats.Errors != 0 || len(got.instances) != len(want.instances) {
				t.Fatalf("%s %d: broken=%v stats %+v vs %+v", name, n, got.broken, got.stats, want.stats)
			}
			if len(got.file) != len(want.file)+1 || got.file[0].Rule != dflow.RuleCRLineEnds || got.file[0].Severity != dflow.SevWarning {
				t.Fatalf("%s: file findings %v", name, got.file)
			}
		}
	}
	// CR LF still reads without a word.
	crlf := read(t, strings.ReplaceAll(genFile(t, "D0268002", 3), "\n", "\r\n"), dflow.Options{})
	if crlf.broken != nil || len(crlf.file) != len(read(t, genFile(t, "D0268002", 3), dflow.Options{}).file) {
		t.Fatalf("crlf: %v %v", crlf.broken, crlf.file)
	}
}

// A bad field of the header breaks the file, but its body is validated
// all the same: every finding comes at once.
func TestBadHeaderFieldStillValidatesBody(t *testing.T) {
	lines := linesOf(genFile(t, "D0150002", 3))
	lines[0] = strings.Replace(lines[0], "|20240101120000|", "||", 1) // no creation time
	lines[0] = strings.Replace(lines[0], "|TR01|", "|TOOLONG|", 1)    // test flag too long
	var second int
	for i, l := range lines {
		if strings.HasPrefix(l, "288|") {
			second = i // the last 288
		}
	}
	setField(lines, second, 1, "20230231") // a body error
	res := read(t, retrail(lines), dflow.Options{})
	if res.broken == nil || res.broken.Finding.Rule != dflow.RuleHeaderMalformed || res.broken.Finding.Line != 1 ||
		!strings.Contains(res.broken.Finding.Message, "creation time") {
		t.Fatalf("want broken by the creation time, got %v", res.broken)
	}
	if len(res.instances) != 3 || !res.instances[2].rejected || res.instances[2].findings[0].Rule != dflow.RuleDate {
		t.Fatalf("body not validated: %+v", res.instances)
	}
	if len(res.file) != 1 || !strings.Contains(res.file[0].Message, "test data flag") || res.file[0].Severity != dflow.SevError {
		t.Fatalf("second header finding: %v", res.file)
	}
	if res.header == nil || res.header.Flow != "D0150" {
		t.Fatalf("header %+v", res.header)
	}
	// A trailer that breaks it too is one more finding; the header's stays the reason.
	bad := strings.Replace(retrail(lines), "ZPT|F000000001|", "ZPT|F000000002|", 1)
	res = read(t, bad, dflow.Options{})
	if res.broken == nil || res.broken.Finding.Rule != dflow.RuleHeaderMalformed || rules(res.file)[dflow.RuleTrailerFileID] != 1 {
		t.Fatalf("broken %v, file %v", res.broken, res.file)
	}
	// An unknown flow cannot be validated: it breaks the file at once.
	res = read(t, strings.Replace(retrail(lines), "D0150002", "D9999001", 1), dflow.Options{})
	if res.broken == nil || res.broken.Finding.Rule != dflow.RuleUnknownFlow || len(res.instances) != 0 {
		t.Fatalf("unknown flow: %v", res.broken)
	}
}
