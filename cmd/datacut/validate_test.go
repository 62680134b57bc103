package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/dflow/dflowgen"
)

// fixtures writes a good D0150, one with a bad check digit in its second
// instance, and a truncated one.
func fixtures(t *testing.T) (good, bad, broken string) {
	dir := t.TempDir()
	f := dflow.DefaultCatalog().Flow("D0150", "002")
	var b bytes.Buffer
	g := dflowgen.New(3)
	g.EmptyOptional = 0
	if err := g.File(&b, f, "F1", 3); err != nil {
		t.Fatal(err)
	}
	data := b.String()
	good = filepath.Join(dir, "good.dat")
	os.WriteFile(good, []byte(data), 0o644)

	lines := strings.Split(data, "\n")
	n := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "288|") {
			if n++; n == 2 {
				core := l[4:17]
				lines[i] = strings.Replace(l, core, core[:12]+string('0'+(core[12]-'0'+1)%10), 1)
			}
		}
	}
	bad = filepath.Join(dir, "bad.dat")
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644)
	broken = filepath.Join(dir, "broken.dat")
	os.WriteFile(broken, []byte(data[:len(data)/2]), 0o644)
	return
}

func TestValidateJSON(t *testing.T) {
	good, bad, broken := fixtures(t)
	var out bytes.Buffer
	err := runValidate(context.Background(), &validateOptions{json: true, maxFindings: 100}, []string{good, bad, broken}, &out)
	if cli.Code(err) != cli.ExitData {
		t.Fatalf("exit %d (%v), want 1", cli.Code(err), err)
	}
	dec := json.NewDecoder(&out)
	var reps []map[string]any
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		reps = append(reps, m)
	}
	if len(reps) != 3 {
		t.Fatalf("%d reports", len(reps))
	}
	for _, k := range []string{"file", "flow", "version", "groups", "flowCount", "mpans", "errors", "warnings", "findings"} {
		if _, ok := reps[0][k]; !ok {
			t.Errorf("report lacks key %q", k)
		}
	}
	if reps[0]["flow"] != "D0150" || reps[0]["version"] != "002" || reps[0]["errors"] != 0.0 || reps[0]["mpans"] != 3.0 || reps[0]["flowCount"] != 3.0 {
		t.Fatalf("good report %v", reps[0])
	}
	fs := reps[1]["findings"].([]any)
	if reps[1]["errors"] != 1.0 || len(fs) != 1 || reps[1]["rejected"] != 1.0 {
		t.Fatalf("bad report %v", reps[1])
	}
	f := fs[0].(map[string]any)
	for k, want := range map[string]any{"group": "288", "item": "J0003", "rule": dflow.RuleMPANCheck, "severity": "error"} {
		if f[k] != want {
			t.Errorf("finding %s = %v, want %v", k, f[k], want)
		}
	}
	if f["line"].(float64) < 2 {
		t.Errorf("finding line %v", f["line"])
	}
	if reps[2]["broken"] != true || reps[2]["findings"].([]any)[0].(map[string]any)["rule"] != dflow.RuleTrailerMissing {
		t.Fatalf("broken report %v", reps[2])
	}
}

func TestValidateTextNeverShowsValues(t *testing.T) {
	_, bad, _ := fixtures(t)
	data, _ := os.ReadFile(bad)
	var out bytes.Buffer
	runValidate(context.Background(), &validateOptions{maxFindings: 100}, []string{bad}, &out)
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "288|") && strings.Contains(out.String(), l[4:17]) {
			t.Fatalf("report shows an MPAN:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "ERRORS") || !strings.Contains(out.String(), dflow.RuleMPANCheck) {
		t.Fatalf("report:\n%s", out.String())
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds the datacut command once per test run.
func binary(t *testing.T) string {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "datacut-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "datacut")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestExitCodes(t *testing.T) {
	bin := binary(t)
	good, bad, _ := fixtures(t)
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"validate", good}, 0},
		{[]string{"validate", good, bad}, 1},
		{[]string{"validate"}, 2},
		{[]string{"validate", "--nope", good}, 2},
		{[]string{"nonsense"}, 2},
		{[]string{"validate", filepath.Join(t.TempDir(), "missing.dat")}, 3},
	} {
		cmd := exec.Command(bin, c.args...)
		out, _ := cmd.CombinedOutput()
		if got := cmd.ProcessState.ExitCode(); got != c.code {
			t.Errorf("datacut %v: exit %d, want %d\n%s", c.args, got, c.code, out)
		}
	}
}

// An EES export is validated the way a run reads it: found by its name or
// first line (or --format ees), header problems by position and mapping
// name, never a cell's text.
func TestValidateEES(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(data), 0o644)
		return p
	}
	good := write("good.txt", "post-code,mpan-core\rAB1 2CD,1012345678903\r")
	nohdr := write("nohdr.csv", "1460000123591,Jane Canary\n")
	odd := write("odd.dat", "mpan-core|msn\n")
	var out bytes.Buffer
	err := runValidate(context.Background(), &validateOptions{maxFindings: 10}, []string{good, nohdr}, &out)
	if cli.Code(err) != cli.ExitData {
		t.Fatalf("exit %d (%v), want 1", cli.Code(err), err)
	}
	text := out.String()
	for _, want := range []string{"good.txt: OK\n  EES portfolio export: 1 rows (0 rejected), 1 MPANs", "nohdr.csv: BROKEN", "[ees.no-header]"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "1460000123591") || strings.Contains(text, "Canary") {
		t.Errorf("output quotes a value:\n%s", text)
	}
	out.Reset()
	runValidate(context.Background(), &validateOptions{maxFindings: 10, format: "ees"}, []string{odd}, &out)
	if !strings.Contains(out.String(), "[ees.no-header]") {
		t.Errorf("--format ees: %s", out.String())
	}
}

// What a participant's system really writes, in one D0302: a ZHV without
// its creation time, a customer name in Windows-1252, another with a NUL,
// and a bad date. validate reports every finding at once, none with a value.
func TestValidateReportsEveryFindingAtOnce(t *testing.T) {
	const planted = "Zq7Planted"
	var b bytes.Buffer
	g := dflowgen.New(3)
	g.EmptyOptional = 0
	if err := g.File(&b, dflow.DefaultCatalog().Flow("D0302", "002"), "F1", 3); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	set := func(i, field int, v string) {
		f := strings.Split(lines[i], "|")
		f[field] = v
		lines[i] = strings.Join(f, "|")
	}
	set(0, 7, "") // the ZHV's creation time
	n := 0
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "69C|"):
			n++
			if n == 1 {
				set(i, 1, planted+" Zo\xeb") // Windows-1252
			} else if n == 2 {
				set(i, 1, planted+"\x00")
			}
		case strings.HasPrefix(l, "68C|") && n == 2:
			set(i, 2, "20230231")
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "D0302.dat")
	os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	cr := filepath.Join(dir, "cr.dat")
	os.WriteFile(cr, []byte(strings.ReplaceAll(b.String(), "\n", "\r")), 0o644)

	var out bytes.Buffer
	err := runValidate(context.Background(), &validateOptions{json: true, maxFindings: 100}, []string{file, cr}, &out)
	if cli.Code(err) != cli.ExitData {
		t.Fatalf("exit %d (%v), want 1", cli.Code(err), err)
	}
	var rep, crRep FileReport
	dec := json.NewDecoder(&out)
	if err := dec.Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&crRep); err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	for _, f := range rep.Findings {
		rules[f.Rule] = true
	}
	for _, want := range []string{dflow.RuleHeaderMalformed, dflow.RuleWindows1252, dflow.RuleControlChar, dflow.RuleDate} {
		if !rules[want] {
			t.Errorf("no %s among %v", want, rep.Findings)
		}
	}
	if !rep.Broken || rep.Flow != "D0302" || rep.Encoding != "windows-1252" || rep.Errors != 3 || rep.Rejected != 2 ||
		rep.Findings[0].Rule != dflow.RuleHeaderMalformed || rep.Findings[0].Line != 1 {
		t.Fatalf("report %+v", rep)
	}
	if crRep.Broken || crRep.Errors != 0 || crRep.Findings[0].Rule != dflow.RuleCRLineEnds || crRep.Instances != 3 {
		t.Fatalf("CR-only file: %+v", crRep)
	}
	out.Reset()
	runValidate(context.Background(), &validateOptions{maxFindings: 100}, []string{file}, &out)
	for _, v := range []string{planted, "Zo", "\x00"} {
		if strings.Contains(out.String(), v) {
			t.Fatalf("report shows %q:\n%s", v, out.String())
		}
	}
	if !strings.Contains(out.String(), "BROKEN") {
		t.Fatalf("report:\n%s", out.String())
	}
	// Declared UTF-8, the Windows-1252 name is an error.
	out.Reset()
	runValidate(context.Background(), &validateOptions{json: true, maxFindings: 100, encoding: "utf-8"}, []string{file}, &out)
	if !strings.Contains(out.String(), dflow.RuleEncoding) || strings.Contains(out.String(), dflow.RuleWindows1252) {
		t.Fatalf("utf-8: %s", out.String())
	}
	cmd := newValidateCmd()
	cmd.SetArgs([]string{"--encoding", "latin1", file})
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	if err := cmd.Execute(); cli.Code(err) != cli.ExitUsage {
		t.Fatalf("--encoding latin1: exit %d (%v)", cli.Code(err), err)
	}
}

// A D0149 whose trailer says 7 group records where there are 8 is broken,
// and its report still counts its instance and MPAN.
func TestValidateBadTrailerCountsBody(t *testing.T) {
	f := dflow.DefaultCatalog().Flow("D0149", "001")
	var b bytes.Buffer
	w, err := dflow.NewWriter(&b, dflowgen.Header(f, "F1"), dflow.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := dflowgen.New(4)
	for _, code := range []string{"280", "281", "778", "283", "284", "284", "283", "284"} {
		if err := w.Write(f.Group(code), g.Record(f.Group(code))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close("", "20240101120001"); err != nil {
		t.Fatal(err)
	}
	data := b.String()
	if !strings.Contains(data, "ZPT|F1|8||1|") {
		t.Fatalf("fixture is not 8 records: %s", data)
	}
	name := filepath.Join(t.TempDir(), "D0149.dat")
	os.WriteFile(name, []byte(strings.Replace(data, "ZPT|F1|8||1|", "ZPT|F1|7||1|", 1)), 0o644)
	var out bytes.Buffer
	err = runValidate(context.Background(), &validateOptions{json: true, maxFindings: 100}, []string{name}, &out)
	if cli.Code(err) != cli.ExitData {
		t.Fatalf("exit %d (%v), want 1", cli.Code(err), err)
	}
	var rep FileReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Broken || rep.Instances != 1 || rep.MPANs != 1 || rep.Rejected != 0 || rep.Findings[0].Rule != dflow.RuleTrailerGroups {
		t.Fatalf("report %+v", rep)
	}
}

// An ECOES export with its title row is read by position: no error, one
// warning naming the layout, its rows counted.
func TestValidateECOESTitleRow(t *testing.T) {
	row := "1012345678903,1 High Street,,,,,,,,,AB1 2CD,BRGT,20251201,845,01/12/2025,,,01,,,E,,,,,,,,S12A34567,20200101,,"
	name := filepath.Join(t.TempDir(), "ecoes.csv")
	os.WriteFile(name, []byte("Portfolio Report\n"+row+"\n"), 0o644)
	var out bytes.Buffer
	if err := runValidate(context.Background(), &validateOptions{maxFindings: 100}, []string{name}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if s := out.String(); !strings.Contains(s, ": OK") || !strings.Contains(s, "1 rows (0 rejected), 1 MPANs, 0 errors, 1 warnings") || !strings.Contains(s, "ees.positional") || !strings.Contains(s, "ecoes-legacy") {
		t.Fatalf("report:\n%s", s)
	}
}
