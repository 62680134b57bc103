package dflow_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/dflow/dflowgen"
)

type result struct {
	instances []instanceResult
	file      []dflow.Finding
	broken    *dflow.BrokenError
	header    *dflow.Header
	stats     dflow.Stats
}

type instanceResult struct {
	ordinal  int
	mpan     string
	records  int
	findings []dflow.Finding
	rejected bool
}

func read(t testing.TB, data string, opt dflow.Options) result {
	t.Helper()
	r := dflow.NewReader(strings.NewReader(data), "test.dat", opt)
	var res result
	for {
		in, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !errors.As(err, &res.broken) {
				t.Fatalf("unexpected error %v", err)
			}
			break
		}
		res.instances = append(res.instances, instanceResult{in.Ordinal, string(in.MPAN), len(in.Records), append([]dflow.Finding(nil), in.Findings...), in.Rejected()})
	}
	res.header, _ = r.Header()
	res.file = r.FileFindings()
	res.stats = r.Stats()
	return res
}

func genFile(t testing.TB, flow string, n int) string {
	t.Helper()
	f := dflow.DefaultCatalog().Flow(flow[:5], flow[5:])
	var b bytes.Buffer
	g := dflowgen.New(7)
	g.EmptyOptional = 0
	if err := g.File(&b, f, "F000000001", n); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// retrail recomputes the ZPT counts of a D0150 text after editing lines.
func retrail(lines []string) string {
	body := lines[1 : len(lines)-1]
	flows := 0
	for _, l := range body {
		if strings.HasPrefix(l, "288|") {
			flows++
		}
	}
	lines[len(lines)-1] = fmt.Sprintf("ZPT|F000000001|%d||%d|20240101120001|", len(body), flows)
	return strings.Join(lines, "\n") + "\n"
}

func linesOf(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

// setField replaces data item i (0-based, after the group code) of line n.
func setField(lines []string, n, i int, v string) {
	f := strings.Split(lines[n], "|")
	f[i+1] = v
	lines[n] = strings.Join(f, "|")
}

func TestEveryFlowRoundTrips(t *testing.T) {
	cat := dflow.DefaultCatalog()
	if len(cat.Flows) != 206 {
		t.Fatalf("catalogue has %d flows, want 206", len(cat.Flows))
	}
	for _, f := range cat.Flows {
		t.Run(f.Key(), func(t *testing.T) {
			var src bytes.Buffer
			if err := dflowgen.New(uint64(len(f.Groups))).File(&src, f, "RT", 3); err != nil {
				t.Fatal(err)
			}
			r := dflow.NewReader(bytes.NewReader(src.Bytes()), f.Key(), dflow.Options{})
			h, err := r.Header()
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			w, err := dflow.NewWriter(&out, *h, dflow.WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for {
				in, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, fd := range in.Findings {
					t.Errorf("finding on generated file: %s", fd)
				}
				if err := w.WriteInstance(in); err != nil {
					t.Fatal(err)
				}
			}
			for _, fd := range r.FileFindings() {
				if fd.Rule != dflow.RuleUnresolvedFormat {
					t.Errorf("file finding on generated file: %s", fd)
				}
			}
			tr := r.Trailer()
			if err := w.Close(tr.Checksum, tr.Completed); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), src.Bytes()) {
				t.Fatalf("round trip differs:\n%s\nvs\n%s", out.String(), src.String())
			}
		})
	}
}

func TestValidFileHasNoFindings(t *testing.T) {
	res := read(t, genFile(t, "D0150002", 3), dflow.Options{})
	if res.broken != nil || len(res.instances) != 3 || res.stats.Errors != 0 || res.stats.Warnings != 0 {
		t.Fatalf("broken=%v instances=%d stats=%+v file=%v", res.broken, len(res.instances), res.stats, res.file)
	}
	if res.header.Flow != "D0150" || res.header.Version != "002" || res.header.FromMPID != "MOPA" || res.header.TestFlag != "TR01" {
		t.Fatalf("header %+v", res.header)
	}
	for i, in := range res.instances {
		if in.ordinal != i+1 || len(in.mpan) != 13 || in.rejected {
			t.Fatalf("instance %d: %+v", i, in)
		}
	}
}

func TestInstanceFaults(t *testing.T) {
	base := genFile(t, "D0150002", 3)
	lines := linesOf(base)
	var starts []int // line index of each 288
	for i, l := range lines {
		if strings.HasPrefix(l, "288|") {
			starts = append(starts, i)
		}
	}
	second := starts[1]
	cases := []struct {
		name  string
		edit  func(l []string) []string
		rule  string
		item  string
		group string
	}{
		{"bad check digit", func(l []string) []string {
			f := strings.Split(l[second], "|")
			last := f[1][12]
			f[1] = f[1][:12] + string('0'+(last-'0'+1)%10)
			l[second] = strings.Join(f, "|")
			return l
		}, dflow.RuleMPANCheck, "J0003", "288"},
		{"invalid date", func(l []string) []string { setField(l, second, 1, "20230231"); return l }, dflow.RuleDate, "J1254", "288"},
		{"valid set", func(l []string) []string { setField(l, second, 3, "X"); return l }, dflow.RuleValidSet, "J0080", "288"},
		{"mandatory empty", func(l []string) []string { setField(l, second, 3, ""); return l }, dflow.RuleMandatory, "J0080", "288"},
		{"too wide", func(l []string) []string { setField(l, second+1, 0, "ABCDE"); return l }, dflow.RuleWidth, "J0076", "289"},
		{"field count", func(l []string) []string { l[second] = strings.Replace(l[second], "|", "||", 1); return l }, dflow.RuleFieldCount, "", "288"},
		{"no trailing pipe", func(l []string) []string { l[second] = strings.TrimSuffix(l[second], "|"); return l }, dflow.RuleNoTrailingPipe, "", "288"},
		{"missing mandatory group", func(l []string) []string { return append(l[:second+1], l[second+2:]...) }, dflow.RuleCardMin, "", "288"},
		{"too many", func(l []string) []string {
			return append(l[:second+2], append([]string{l[second+1]}, l[second+2:]...)...)
		}, dflow.RuleCardMax, "", "289"},
		{"unknown group", func(l []string) []string {
			return append(l[:second+1], append([]string{"999|x|"}, l[second+1:]...)...)
		}, dflow.RuleUnknownGroup, "", "999"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := c.edit(append([]string(nil), lines...))
			res := read(t, retrail(l), dflow.Options{})
			if res.broken != nil {
				t.Fatalf("file broken: %v", res.broken)
			}
			if len(res.instances) != 3 {
				t.Fatalf("%d instances", len(res.instances))
			}
			for i, in := range res.instances {
				if in.rejected != (i == 1) {
					t.Fatalf("instance %d rejected=%v findings=%v", i+1, in.rejected, in.findings)
				}
			}
			found := false
			for _, f := range res.instances[1].findings {
				if f.Rule == c.rule && f.Item == c.item && f.Group == c.group && f.Severity == dflow.SevError && f.Line > 1 {
					found = true
				}
			}
			if !found {
				t.Fatalf("want rule %s item %s group %s, got %v", c.rule, c.item, c.group, res.instances[1].findings)
			}
		})
	}
}

func TestFindingsNeverRevealUnlessAllowed(t *testing.T) {
	lines := linesOf(genFile(t, "D0150002", 1))
	f := strings.Split(lines[1], "|")
	core := f[1][:12] + string('0'+(f[1][12]-'0'+1)%10)
	f[1] = core
	lines[1] = strings.Join(f, "|")
	data := retrail(lines)

	res := read(t, data, dflow.Options{})
	msg := res.instances[0].findings[0].Message
	if strings.Contains(msg, core) || strings.Contains(msg, core[:12]) {
		t.Fatalf("finding leaks the MPAN: %s", msg)
	}
	res = read(t, data, dflow.Options{Reveal: func(ref string) bool { return ref == "J0003" }})
	if !strings.Contains(res.instances[0].findings[0].Message, core) {
		t.Fatalf("revealed finding lacks the value: %s", res.instances[0].findings[0].Message)
	}
}

func TestStructuralBreakage(t *testing.T) {
	base := genFile(t, "D0150002", 2)
	lines := linesOf(base)
	n := len(lines)
	cases := []struct {
		name string
		data string
		rule string
	}{
		{"empty", "", dflow.RuleHeaderMissing},
		{"no header", strings.Join(lines[1:], "\n"), dflow.RuleHeaderMissing},
		{"short header", "ZHV|F1|D0150002|M|MOPA|\n", dflow.RuleHeaderMalformed},
		{"bad created", strings.Replace(base, "20240101120000", "20241301120000", 1), dflow.RuleHeaderMalformed},
		{"unknown flow", strings.Replace(base, "D0150002", "D9999001", 1), dflow.RuleUnknownFlow},
		{"truncated", strings.Join(lines[:n-2], "\n") + "\n", dflow.RuleTrailerMissing},
		{"truncated mid-line", base[:len(base)/2], dflow.RuleTrailerMissing},
		{"trailer file id", strings.Replace(base, "ZPT|F000000001", "ZPT|F000000002", 1), dflow.RuleTrailerFileID},
		{"trailer group count", strings.Join(append(append([]string(nil), lines[:n-1]...), strings.Replace(lines[n-1], fmt.Sprintf("|%d|", n-2), fmt.Sprintf("|%d|", n+5), 1)), "\n"), dflow.RuleTrailerGroups},
		{"trailer flow count", strings.Join(append(append([]string(nil), lines[:n-1]...), strings.Replace(lines[n-1], "||2|", "||3|", 1)), "\n"), dflow.RuleTrailerFlows},
		{"trailer malformed", strings.Join(append(append([]string(nil), lines[:n-1]...), "ZPT|F000000001|x|"), "\n"), dflow.RuleTrailerMalformed},
		{"garbage", strings.Join(append(append([]string(nil), lines[:2]...), append([]string{"<html>garbage</html>"}, lines[2:]...)...), "\n"), dflow.RuleGarbage},
		{"binary", "ZHV\x00\x01\x02", dflow.RuleHeaderMissing},
		{"data after trailer", base + "288|1|\n", dflow.RuleAfterTrailer},
		{"long line", strings.Replace(base, "288|", "288|"+strings.Repeat("9", 70<<10), 1), dflow.RuleTooLong},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := read(t, c.data, dflow.Options{})
			if res.broken == nil {
				t.Fatalf("want broken with %s, got none", c.rule)
			}
			if res.broken.Finding.Rule != c.rule || res.broken.File != "test.dat" || res.broken.Finding.Message == "" {
				t.Fatalf("want rule %s, got %+v", c.rule, res.broken)
			}
		})
	}
}

func TestUnknownVersionParsesAgainstNearest(t *testing.T) {
	data := strings.Replace(genFile(t, "D0150002", 2), "D0150002", "D0150001", 1)
	res := read(t, data, dflow.Options{})
	if res.broken != nil || len(res.instances) != 2 || res.stats.Errors != 0 {
		t.Fatalf("broken=%v instances=%d stats=%+v", res.broken, len(res.instances), res.stats)
	}
	if len(res.file) != 1 || res.file[0].Rule != dflow.RuleUnknownVersion || !strings.Contains(res.file[0].Message, "parsed against version 002") {
		t.Fatalf("file findings %v", res.file)
	}
}

func TestCRLFAndBOMReadLikeLF(t *testing.T) {
	base := genFile(t, "D0268002", 3)
	want := read(t, base, dflow.Options{})
	for name, data := range map[string]string{
		"crlf": strings.ReplaceAll(base, "\n", "\r\n"),
		"bom":  "\xef\xbb\xbf" + base,
	} {
		got := read(t, data, dflow.Options{})
		if got.broken != nil || got.stats != want.stats || len(got.instances) != len(want.instances) {
			t.Fatalf("%s: broken=%v stats %+v vs %+v", name, got.broken, got.stats, want.stats)
		}
	}
}

func TestFileWithoutInstancesFailsCardinality(t *testing.T) {
	data := "ZHV|F1|D0150002|M|MOPA|X|SUPA|20240101120000||||TR01|\nZPT|F1|0||0|20240101120001|\n"
	res := read(t, data, dflow.Options{})
	if res.broken != nil || len(res.file) != 1 || res.file[0].Rule != dflow.RuleCardMin || res.file[0].Group != "288" {
		t.Fatalf("broken=%v file=%v", res.broken, res.file)
	}
}

func TestWriterCountsAndCRLF(t *testing.T) {
	f := dflow.DefaultCatalog().Flow("D0149", "001")
	var b bytes.Buffer
	w, err := dflow.NewWriter(&b, dflowgen.Header(f, "W1"), dflow.WriterOptions{CRLF: true})
	if err != nil {
		t.Fatal(err)
	}
	g := dflowgen.New(1)
	for _, code := range []string{"280", "281", "778", "283", "284", "280", "281", "778", "283", "284"} {
		grp := f.Group(code)
		if err := w.Write(grp, g.Record(grp)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close("", "20240101120001"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "ZPT|W1|10||2|20240101120001|\r\n") {
		t.Fatalf("trailer: %q", b.String()[strings.LastIndex(b.String(), "ZPT"):])
	}
	if res := read(t, b.String(), dflow.Options{}); res.broken != nil || res.stats.Errors != 0 {
		t.Fatalf("written file does not validate: %v %+v", res.broken, res.instances)
	}
}

// TestRegistrationUnits: in D0204 the MPAN sits below file-level groups;
// each MPAN's subtree is its own unit of rejection and the groups above
// are context records.
func TestRegistrationUnits(t *testing.T) {
	f := dflow.DefaultCatalog().Flow("D0204", "002")
	if !f.Group("440").Unit() || !f.Group("751").Context() || !f.Group("763").Context() || f.Group("441").Unit() {
		t.Fatal("D0204 units: want 440 a unit, 751 and 763 context")
	}
	var b bytes.Buffer
	g := dflowgen.New(5)
	g.EmptyOptional = 0
	g.Repeat = map[string]int{"763": 2, "440": 3}
	if err := g.File(&b, f, "REG1", 1); err != nil {
		t.Fatal(err)
	}
	lines := linesOf(b.String())
	var units, instr []int
	for i, l := range lines {
		switch l[:4] {
		case "440|":
			units = append(units, i)
		case "763|":
			instr = append(instr, i)
		}
	}
	if len(units) != 6 || len(instr) != 2 {
		t.Fatalf("%d units, %d instructions", len(units), len(instr))
	}
	base := read(t, b.String(), dflow.Options{})
	if base.broken != nil || base.stats.Errors != 0 || len(base.instances) != 9 {
		t.Fatalf("valid D0204: broken=%v errors=%d instances=%d", base.broken, base.stats.Errors, len(base.instances))
	}
	// A bad MPAN in the second unit rejects that unit only.
	l := append([]string(nil), lines...)
	f1 := strings.Split(l[units[1]], "|")
	f1[1] = f1[1][:12] + string('0'+(f1[1][12]-'0'+1)%10)
	l[units[1]] = strings.Join(f1, "|")
	res := read(t, strings.Join(l, "\n")+"\n", dflow.Options{})
	rejected := 0
	for _, in := range res.instances {
		if in.rejected {
			rejected++
		}
	}
	if rejected != 1 || res.stats.Rejected != 1 {
		t.Fatalf("bad MPAN: %d rejected", rejected)
	}
	// A bad instruction type (context) rejects it and the units below it.
	l = append([]string(nil), lines...)
	setField(l, instr[0], 1, "TOOLONG")
	res = read(t, strings.Join(l, "\n")+"\n", dflow.Options{})
	var why []string
	for _, in := range res.instances {
		if in.rejected {
			why = append(why, in.findings[0].Rule)
		}
	}
	if strings.Join(why, ",") != dflow.RuleWidth+","+strings.Repeat(dflow.RuleParentRejected+",", 2)+dflow.RuleParentRejected {
		t.Fatalf("rejections %v", why)
	}
}

// TestBadTrailerStillCounts: a trailer whose count is wrong breaks the
// file, but every instance is read and returned first, the last one
// included, with its findings: the participant learns what the body holds.
func TestBadTrailerStillCounts(t *testing.T) {
	lines := linesOf(genFile(t, "D0149001", 1))
	n := len(lines)
	body := n - 2
	for _, tc := range []struct {
		name, trailer, rule string
	}{
		{"group count", fmt.Sprintf("ZPT|F000000001|%d||1|20240101120001|", body-1), dflow.RuleTrailerGroups},
		{"flow count", fmt.Sprintf("ZPT|F000000001|%d||2|20240101120001|", body), dflow.RuleTrailerFlows},
		{"file id", fmt.Sprintf("ZPT|F000000009|%d||1|20240101120001|", body), dflow.RuleTrailerFileID},
		{"malformed", "ZPT|F000000001|x||1||", dflow.RuleTrailerMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := append([]string(nil), lines...)
			l[n-1] = tc.trailer
			res := read(t, strings.Join(l, "\n")+"\n", dflow.Options{})
			if res.broken == nil || res.broken.Finding.Rule != tc.rule {
				t.Fatalf("want broken by %s, got %v", tc.rule, res.broken)
			}
			if len(res.instances) != 1 || len(res.instances[0].mpan) != 13 || res.instances[0].records != body || res.stats.Instances != 1 {
				t.Fatalf("instances %+v stats %+v", res.instances, res.stats)
			}
		})
	}
	// A fault in the only instance is reported beside the trailer's.
	l := append([]string(nil), lines...)
	setField(l, 1, 1, "20231301") // 280's J1254: no 13th month
	l[n-1] = fmt.Sprintf("ZPT|F000000001|%d||1|20240101120001|", body+1)
	res := read(t, strings.Join(l, "\n")+"\n", dflow.Options{})
	if res.broken == nil || len(res.instances) != 1 || !res.instances[0].rejected || res.stats.Rejected != 1 {
		t.Fatalf("broken=%v instances %+v", res.broken, res.instances)
	}
	found := false
	for _, f := range res.instances[0].findings {
		found = found || (f.Rule == dflow.RuleDate && f.Item == "J1254")
	}
	if !found {
		t.Fatalf("instance findings %v", res.instances[0].findings)
	}
}

// TestTrailerFlowCountIsTheDTCs: the flow count (J1066) is the number of
// flow instances without the file's headers: D0019 counts its instructions
// (ZIN) and not the once-per-file ZPI, D0379 its MPANs (25B) and not the
// Validation Flag (64L), D0204 the instructions (763) below the file
// sequence number; D0150, with no once-per-file group, every 288. A count
// of every level-1 group (another reading) is a warning, any other count
// breaks the file.
func TestTrailerFlowCountIsTheDTCs(t *testing.T) {
	for _, tc := range []struct {
		flow    string
		repeat  map[string]int
		counted string
		want    int // flow instances
		level1  int // level-1 records
	}{
		{"D0019001", nil, "ZIN", 2, 3},
		{"D0379001", nil, "25B", 2, 3},
		{"D0204002", map[string]int{"763": 2}, "763", 2, 1},
		{"D0150002", nil, "288", 2, 2},
	} {
		t.Run(tc.flow, func(t *testing.T) {
			f := dflow.DefaultCatalog().Flow(tc.flow[:5], tc.flow[5:])
			var codes []string
			for _, g := range f.FlowCountGroups() {
				codes = append(codes, g.Code)
			}
			if strings.Join(codes, ",") != tc.counted {
				t.Fatalf("flow count groups %v, want %s", codes, tc.counted)
			}
			var b bytes.Buffer
			g := dflowgen.New(9)
			g.EmptyOptional = 0
			g.Repeat = tc.repeat
			if err := g.File(&b, f, "F000000001", 2); err != nil {
				t.Fatal(err)
			}
			lines := linesOf(b.String())
			last := strings.Split(lines[len(lines)-1], "|")
			if last[4] != fmt.Sprint(tc.want) {
				t.Fatalf("writer's flow count %s, want %d: %s", last[4], tc.want, b.String())
			}
			if res := read(t, b.String(), dflow.Options{}); res.broken != nil || res.stats.Errors != 0 || byRule(res)[dflow.RuleTrailerFlowsLevel1] != nil {
				t.Fatalf("DTC count: broken=%v stats %+v file %v", res.broken, res.stats, res.file)
			}
			with := func(count int) result {
				l := append([]string(nil), lines...)
				tr := append([]string(nil), last...)
				tr[4] = fmt.Sprint(count)
				l[len(l)-1] = strings.Join(tr, "|")
				return read(t, strings.Join(l, "\n")+"\n", dflow.Options{})
			}
			if tc.level1 != tc.want {
				res := with(tc.level1)
				w := byRule(res)[dflow.RuleTrailerFlowsLevel1]
				if res.broken != nil || len(w) != 1 || w[0].Severity != dflow.SevWarning || res.stats.Errors != 0 {
					t.Fatalf("level-1 count: broken=%v file %v", res.broken, res.file)
				}
			}
			res := with(tc.want + tc.level1 + 1)
			if res.broken == nil || res.broken.Finding.Rule != dflow.RuleTrailerFlows {
				t.Fatalf("wrong count: broken=%v", res.broken)
			}
		})
	}
}
