package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/dflow/dflowgen"
	"github.com/mhhs-sit/datacut/internal/mpan"
)

const testKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// shared values per instance: what different participants' files agree on.
func sharedValue(ref string, instance int) (string, bool) {
	switch ref {
	case "J0003":
		return mpan.Format(10+instance%14, uint64(1000+instance)), true
	case "J0004":
		return fmt.Sprintf("M%02dX%05d", instance, instance*37), true
	case "J1036":
		return fmt.Sprintf("%d Acacia Avenue", instance), true
	case "J0263":
		return fmt.Sprintf("AB%d 1CD", instance%10), true
	}
	return "", false
}

// participantFile writes a valid flow whose MPAN, meter id, address line 1
// and postcode per instance follow sharedValue, as several participants'
// cuts of the same metering points would.
func participantFile(t *testing.T, dir, key string, n int) string {
	f := dflow.DefaultCatalog().Flow(key[:5], key[5:])
	var src bytes.Buffer
	g := dflowgen.New(uint64(len(key)))
	g.Repeat = map[string]int{"440": n} // D0204: MPANs sit below a file-level group
	if err := g.File(&src, f, "P"+key[1:5], n); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(src.String(), "\n"), "\n")
	inst := 0 // the MPAN record the current record belongs to
	for i, l := range lines[1 : len(lines)-1] {
		fs := strings.Split(l, "|")
		g := f.Group(fs[0])
		if hasMPAN(g) {
			inst++
		}
		for j, fd := range g.Fields {
			if v, ok := sharedValue(fd.Ref, inst); ok {
				fs[j+1] = v
			}
		}
		lines[i+1] = strings.Join(fs, "|")
	}
	path := filepath.Join(dir, key+".dat")
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	return path
}

func hasMPAN(g *dflow.Group) bool {
	for _, fd := range g.Fields {
		if fd.Ref == "J0003" {
			return true
		}
	}
	return false
}

// maskedValues reads a masked file: per MPAN record, the values of the refs.
func maskedValues(t *testing.T, path string) []map[string]string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := dflow.NewReader(bytes.NewReader(data), path, dflow.Options{})
	var out []map[string]string
	for {
		in, err := r.Next()
		if err != nil {
			break
		}
		var vals map[string]string
		for _, rec := range in.Records {
			if hasMPAN(rec.Group) {
				vals = map[string]string{}
				out = append(out, vals)
			}
			if vals == nil {
				continue
			}
			for j, fd := range rec.Group.Fields {
				if _, ok := sharedValue(fd.Ref, 0); ok && len(rec.Fields[j]) > 0 {
					vals[fd.Ref] = string(rec.Fields[j])
				}
			}
		}
	}
	return out
}

// TestMaskedCutsJoinAcrossProcesses: a MOp's D0150, the registration
// service's D0204 and a supplier's D0225 are masked by separate datacut
// processes; the masked MPAN, meter id and address still join.
func TestMaskedCutsJoinAcrossProcesses(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	files := map[string]string{}
	for _, key := range []string{"D0150002", "D0149001", "D0204002", "D0225002"} {
		if dflow.DefaultCatalog().Flow(key[:5], key[5:]) == nil {
			t.Fatalf("no flow %s", key)
		}
		files[key] = participantFile(t, dir, key, 6)
	}
	out := map[string][]map[string]string{}
	for key, f := range files {
		cmd := exec.Command(bin, "mask", "--out", filepath.Join(dir, "masked-"+key), f)
		cmd.Env = append(os.Environ(), "DATACUT_MASK_KEY="+testKey)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mask %s: %v\n%s", key, err, b)
		} else if strings.Contains(string(b), testKey) {
			t.Fatal("mask printed the key")
		}
		out[key] = maskedValues(t, filepath.Join(dir, "masked-"+key, key+".dat"))
	}
	joins := 0
	for _, pair := range [][3]string{
		{"D0150002", "D0204002", "J0003"}, {"D0150002", "D0225002", "J0003"},
		{"D0150002", "D0149001", "J0004"}, {"D0204002", "D0225002", "J1036"}, {"D0204002", "D0225002", "J0263"},
	} {
		a, b := out[pair[0]], out[pair[1]]
		if len(a) != 6 || len(b) != 6 {
			t.Fatalf("%s/%s: %d and %d instances", pair[0], pair[1], len(a), len(b))
		}
		for i := range a {
			va, vb := a[i][pair[2]], b[i][pair[2]]
			raw, _ := sharedValue(pair[2], i+1)
			if va == "" || va != vb || va == raw {
				t.Fatalf("%s instance %d: %s masks to %q in %s and %q in %s", pair[2], i+1, pair[2], va, pair[0], vb, pair[1])
			}
			joins++
		}
	}
	t.Logf("%d joins checked", joins)
}

func TestVerifyFindsLeaks(t *testing.T) {
	dir := t.TempDir()
	raw := participantFile(t, dir, "D0150002", 4)
	t.Setenv("DATACUT_MASK_KEY", testKey)
	var out bytes.Buffer
	o := &maskOptions{out: filepath.Join(dir, "m")}
	if err := runMask(t.Context(), o, []string{raw}, &out); err != nil {
		t.Fatal(err)
	}
	masked := filepath.Join(dir, "m", "D0150002.dat")
	out.Reset()
	if err := runVerify(t.Context(), &verifyOptions{raw: []string{raw}, masked: []string{masked}}, &out); err != nil {
		t.Fatalf("verify of a masked file: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "no raw sensitive values found") {
		t.Fatal(out.String())
	}
	// The raw file posing as masked: every sensitive value leaks.
	out.Reset()
	err := runVerify(t.Context(), &verifyOptions{raw: []string{raw}, masked: []string{raw}, json: true}, &out)
	if err == nil || !strings.Contains(out.String(), `"J0003":4`) || !strings.Contains(out.String(), `"J0004"`) {
		t.Fatalf("verify missed leaks: %v\n%s", err, out.String())
	}
	rawData, _ := os.ReadFile(raw)
	for _, l := range strings.Split(string(rawData), "\n") {
		if strings.HasPrefix(l, "288|") && strings.Contains(out.String(), l[4:17]) {
			t.Fatal("verify report shows a raw MPAN")
		}
	}
	// A file that is not the masked form of the raw one is refused.
	other := participantFile(t, t.TempDir(), "D0150002", 2)
	if err := runVerify(t.Context(), &verifyOptions{raw: []string{raw}, masked: []string{other}}, &out); err == nil {
		t.Fatal("mismatched pair accepted")
	}
}

func TestMaskNeedsKey(t *testing.T) {
	t.Setenv("DATACUT_MASK_KEY", "")
	err := runMask(t.Context(), &maskOptions{out: t.TempDir()}, []string{"x.dat"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "DATACUT_MASK_KEY") {
		t.Fatalf("missing key: %v", err)
	}
}
