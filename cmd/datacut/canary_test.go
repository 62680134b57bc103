package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/allocation"
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/mpan"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/pipelines"
)

// canary is a set of sensitive values planted in one malformed input,
// distinct from every other input's.
type canary struct {
	MPAN, Name, Addr string
}

func (c canary) values() []string { return []string{c.MPAN, c.Name, c.Addr} }

// newCanary makes case i's values: a valid MPAN core no synthetic market
// uses (prefix 14 99), a name and an address no text of ours contains.
func newCanary(i int) canary {
	prefix := fmt.Sprintf("149900%06d", 4711+i)
	return canary{MPAN: prefix + string(mpan.CheckDigit(prefix)), Name: fmt.Sprintf("Zed Canarybird%02d", i),
		Addr: fmt.Sprintf("%d Canaryhollow%02d Lane", 90+i, i)}
}

// canaryKind is one kind of malformed input: the cut type it is sent as,
// and its content with c's values planted. Add D-flow kinds here (with
// their cut type): the test sends each cut type's files as one submission.
type canaryKind struct {
	name string
	cut  string
	file func(c canary) []byte
}

const eesHead = "mpan-core,address-line-1,address-line-2,post-code,registration-from,Domestic Premises Indicator,msn\n"

// eesRow is a good row with c's values.
func eesRow(c canary) string {
	return c.MPAN + "," + c.Name + "," + c.Addr + ",AB1 2CD,01/04/2023,true,S12A34567\n"
}

var canaryKinds = []canaryKind{
	{"ees-good", "ees", func(c canary) []byte { return []byte(eesHead + eesRow(c)) }},
	{"ees-no-header", "ees", func(c canary) []byte { return []byte(eesRow(c) + eesRow(c)) }},
	{"ees-no-header-mpan-only", "ees", func(c canary) []byte { return []byte(c.MPAN + "\n" + c.MPAN + "\n") }},
	{"ees-cr-only", "ees", func(c canary) []byte { return []byte(strings.ReplaceAll(eesHead+eesRow(c)+eesRow(c), "\n", "\r")) }},
	{"ees-cr-only-no-header", "ees", func(c canary) []byte { return []byte(strings.ReplaceAll(eesRow(c)+eesRow(c), "\n", "\r")) }},
	{"ees-crlf", "ees", func(c canary) []byte { return []byte(strings.ReplaceAll(eesHead+eesRow(c), "\n", "\r\n")) }},
	{"ees-unknown-column", "ees", func(c canary) []byte {
		return []byte(strings.TrimSuffix(eesHead, "\n") + ",customer-name\n" + strings.TrimSuffix(eesRow(c), "\n") + "," + c.Name + "\n")
	}},
	{"ees-value-as-header", "ees", func(c canary) []byte { return []byte("mpan-core," + c.Name + "," + c.MPAN + "\n" + c.MPAN + ",x,y\n") }},
	{"ees-duplicate-column", "ees", func(c canary) []byte {
		return []byte("mpan-core,address-line-1,mpan-core\n" + c.MPAN + "," + c.Name + "," + c.MPAN + "\n")
	}},
	{"ees-missing-column", "ees", func(c canary) []byte { return []byte("address-line-1,address-line-2\n" + c.Name + "," + c.Addr + "\n") }},
	{"ees-reordered", "ees", func(c canary) []byte {
		return []byte("address-line-2,msn,mpan-core,address-line-1\n" + c.Addr + ",S1," + c.MPAN + "," + c.Name + "\n")
	}},
	{"ees-mpan-only", "ees", func(c canary) []byte { return []byte("mpan-core\n" + c.MPAN + "\n") }},
	{"ees-unclosed-quote", "ees", func(c canary) []byte {
		return []byte(eesHead + c.MPAN + ",\"" + c.Name + "," + c.Addr + ",AB1 2CD\n" + eesRow(c) + eesRow(c))
	}},
	{"ees-bare-quote", "ees", func(c canary) []byte {
		return []byte(eesHead + c.MPAN + "," + c.Name + "\"x," + c.Addr + ",AB1 2CD,,,\n")
	}},
	{"ees-quoted-newline", "ees", func(c canary) []byte {
		return []byte(eesHead + c.MPAN + ",\"" + c.Name + "\n" + c.Addr + "\"," + c.Addr + ",AB1 2CD,01/04/2023,true,S1\n")
	}},
	{"ees-bad-date", "ees", func(c canary) []byte {
		return []byte(eesHead + strings.Replace(eesRow(c), "01/04/2023", "31/02/2023", 1))
	}},
	{"ees-bad-boolean", "ees", func(c canary) []byte {
		return []byte(eesHead + strings.Replace(eesRow(c), ",true,", ","+c.Name+",", 1))
	}},
	{"ees-bad-mpan", "ees", func(c canary) []byte { return []byte(eesHead + strings.Replace(eesRow(c), c.MPAN, c.MPAN[:12]+"x", 1)) }},
	{"ees-short-row", "ees", func(c canary) []byte { return []byte(eesHead + c.MPAN + "," + c.Name + "," + c.Addr + "\n") }},
	{"ees-long-row", "ees", func(c canary) []byte {
		return []byte(eesHead + strings.TrimSuffix(eesRow(c), "\n") + "," + c.Name + "," + c.Addr + "\n")
	}},
	{"ees-too-wide", "ees", func(c canary) []byte {
		return []byte(eesHead + strings.Replace(eesRow(c), c.Name, c.Name+strings.Repeat(" x", 60), 1))
	}},
	{"ees-bom", "ees", func(c canary) []byte { return []byte("\ufeff" + eesHead + eesRow(c)) }},
	{"ees-bom-no-header", "ees", func(c canary) []byte { return []byte("\ufeff" + eesRow(c)) }},
	{"ees-empty", "ees", func(c canary) []byte { return nil }},
	{"ees-header-only", "ees", func(c canary) []byte { return []byte(eesHead) }},
	{"ees-binary", "ees", func(c canary) []byte {
		b := []byte{0, 1, 2, 0xff, 0xfe, '\r', 0x80}
		return append(append(b, c.MPAN+"\x00"+c.Name+"\x00"+c.Addr...), b...)
	}},
	{"ees-invalid-utf8", "ees", func(c canary) []byte {
		return []byte(eesHead + strings.Replace(eesRow(c), c.Addr, c.Addr+"\xff\xfe", 1))
	}},
	{"ees-utf16", "ees", func(c canary) []byte {
		var b []byte
		for _, u := range utf16.Encode([]rune("\ufeff" + eesHead + eesRow(c))) {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}},
	{"ees-semicolons", "ees", func(c canary) []byte {
		return []byte(strings.ReplaceAll(eesHead+eesRow(c), ",", ";"))
	}},
	{"ees-tabs", "ees", func(c canary) []byte { return []byte(strings.ReplaceAll(eesHead+eesRow(c), ",", "\t")) }},
	{"ees-huge-line", "ees", func(c canary) []byte {
		return []byte(eesHead + c.MPAN + "," + c.Name + "," + c.Addr + strings.Repeat("y", 1<<20+10) + "\n")
	}},
	{"ees-unclosed-quote-huge", "ees", func(c canary) []byte {
		return []byte(eesHead + c.MPAN + ",\"" + c.Name + "\n" + strings.Repeat(c.Addr+"\n", (1<<20)/len(c.Addr)+10))
	}},
	{"dflow-good", "mop-mtd", func(c canary) []byte { return []byte(d0150(c)) }},
	{"dflow-name-as-mpan", "mop-mtd", func(c canary) []byte { return []byte(strings.Replace(d0150(c), c.MPAN, c.Name, 1)) }},
	{"dflow-mpan-as-serial", "mop-mtd", func(c canary) []byte {
		return []byte(strings.Replace(d0150(c), "|6BVU194XP9|", "|"+c.MPAN+c.Addr+"|", 1))
	}},
	{"dflow-crlf", "mop-mtd", func(c canary) []byte { return []byte(strings.ReplaceAll(d0150(c), "\n", "\r\n")) }},
	{"dflow-cr-only", "mop-mtd", func(c canary) []byte { return []byte(strings.ReplaceAll(d0150(c), "\n", "\r")) }},
	{"dflow-no-trailer", "mop-mtd", func(c canary) []byte { d := d0150(c); return []byte(d[:strings.Index(d, "ZPT|")]) }},
	{"dflow-wrong-trailer-count", "mop-mtd", func(c canary) []byte {
		return []byte(strings.Replace(d0150(c), "ZPT|FIX0150|27|", "ZPT|FIX0150|26|", 1))
	}},
	{"dflow-zhv-no-time", "mop-mtd", func(c canary) []byte { return []byte(strings.Replace(d0150(c), "|20240101120000|", "||", 1)) }},
	{"dflow-zhv-mpan-as-file-id", "mop-mtd", func(c canary) []byte { return []byte(strings.Replace(d0150(c), "ZHV|FIX0150|", "ZHV|"+c.MPAN+"|", 1)) }},
	{"dflow-unknown-version", "mop-mtd", func(c canary) []byte { return []byte(strings.Replace(d0150(c), "|D0150002|", "|D0150999|", 1)) }},
	{"dflow-header-only", "mop-mtd", func(c canary) []byte {
		return []byte("ZHV|FIX0150|D0150002|M|MTRA|X|SUPA|20240101120000||||TR01|\nZPT|FIX0150|0||0|20240101120001|\n")
	}},
	{"dflow-out-of-order", "mop-mtd", func(c canary) []byte {
		return []byte(strings.Replace(d0150(c), "288|"+c.MPAN+"|20100905|F|E|\n289|Y6TV|20210905|6BVU194XP9|20120708|\n", "289|Y6TV|20210905|6BVU194XP9|20120708|\n288|"+c.MPAN+"|20100905|F|E|\n", 1))
	}},
	{"dflow-extra-field", "mop-mtd", func(c canary) []byte {
		return []byte(strings.Replace(d0150(c), "|20100905|F|E|", "|20100905|F|E|"+c.Addr+"|", 1))
	}},
	{"dflow-control-char", "mop-mtd", func(c canary) []byte {
		return []byte(strings.Replace(d0150(c), "|6BVU194XP9|", "|6BV\x00"+c.Name+"|", 1))
	}},
	{"dflow-windows-1252", "mop-mtd", func(c canary) []byte {
		return []byte(strings.Replace(d0150(c), "|6BVU194XP9|", "|Zo\xeb"+c.Name+"|", 1))
	}},
	{"dflow-huge-line", "mop-mtd", func(c canary) []byte {
		return []byte(strings.Replace(d0150(c), "|6BVU194XP9|", "|"+c.Name+strings.Repeat("Q", 70<<10)+"|", 1))
	}},
	{"dflow-binary", "mop-mtd", func(c canary) []byte { return append([]byte{0x1f, 0x8b, 0, 0xff}, c.MPAN+"\x00"+c.Name...) }},
	{"dflow-sender-elsewhere", "mop-mtd", func(c canary) []byte { return []byte(strings.Replace(d0150(c), "|M|MTRA|", "|M|MTRB|", 1)) }},
}

// d0150 is a good D0150 from MTRA whose first MPAN is c's.
func d0150(c canary) string {
	b, err := os.ReadFile(filepath.Join("testdata", "dflow", "d0150-good.dat"))
	if err != nil {
		panic(err)
	}
	s := strings.Replace(string(b), "|M|MOPA|", "|M|MTRA|", 1)
	return strings.Replace(s, "288|1100000084461|", "288|"+c.MPAN+"|", 1)
}

// canaryPlan allocates what the canary cuts published: its report, packs
// and allocation files are checked too.
const canaryPlan = `name: canary
seed: 1
si: MHSI
test_flag: TR01
sources:
  cuts: [ees, mop-mtd]
packs:
  supplier: [ees]
  mop: [mop-mtd]
environments:
  - name: SIT-A
    participants:
      supplier: [BRGT]
      mop: [MTRA]
    demands:
      - name: any
        filter: {}
        count: 5
`

// canaryMPIDs is the folder each cut type's files are sent to.
var canaryMPIDs = map[string]string{"ees": "BRGT", "mop-mtd": "MTRA"}

// No planted value of any malformed input reaches anything but the raw
// files kept in quarantine/ (and the inbox): not validate's output, not
// the run's logs or summary, not the manifest, reports, receipts, audit
// records or tables, not status (text, JSON, page), not an allocation's
// log, error or files; and verify --cut finds no leak in the texts, but
// does find one planted there.
func TestCanariesStayInRawFiles(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DATACUT_MASK_KEY", testKey)
	dir, files := t.TempDir(), t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string][]byte{} // where -> what it said
	var canaries []canary
	byCut := map[string]map[string][]byte{}
	var paths []string
	for i, k := range canaryKinds {
		c := newCanary(i)
		canaries = append(canaries, c)
		name := k.name + ".csv"
		if k.cut != "ees" {
			name = k.name + ".dat"
		}
		b := k.file(c)
		if byCut[k.cut] == nil {
			byCut[k.cut] = map[string][]byte{}
		}
		byCut[k.cut][name] = b
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for _, asJSON := range []bool{false, true} {
		var out bytes.Buffer
		runValidate(ctx, &validateOptions{json: asJSON, maxFindings: 1000}, paths, &out)
		outputs[fmt.Sprintf("validate json=%v", asJSON)] = out.Bytes()
		if !asJSON {
			t.Logf("validate:\n%s", out.String())
		}
	}

	for cutType, fs := range byCut {
		s := cut.Submission{Schema: cut.SubmissionSchema, MPID: canaryMPIDs[cutType], Cut: cutType, Kind: cut.KindFull, AsAt: "2026-11-01"}
		for _, name := range slices.Sorted(maps.Keys(fs)) {
			b := fs[name]
			if err := st.Put(ctx, cut.SubmissionDir(s.MPID, cutType, "canary")+name, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			s.Files = append(s.Files, cut.SubmittedFile{Name: name, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])})
		}
		if err := cut.WriteSubmission(ctx, st, "canary", &s); err != nil {
			t.Fatal(err)
		}
	}
	set, err := pipeline.Load(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := mask.ParseKey(testKey)
	var logs bytes.Buffer
	sum, err := pipeline.Run(ctx, pipeline.Options{Store: st, Pipelines: set, Key: key, KeepRaw: true, Log: zerolog.New(zerolog.SyncWriter(&logs))})
	if err != nil {
		t.Fatal(err)
	}
	outputs["run logs"] = logs.Bytes()
	var text bytes.Buffer
	printRunSummary(&text, sum, dir)
	outputs["run summary"] = text.Bytes()
	outputs["run summary json"], _ = json.Marshal(sum)

	quarantined := 0
	for _, c := range sum.Cuts {
		quarantined += c.Quarantined
		if c.Status != pipeline.StatusPublished {
			t.Fatalf("cut %s/%s: %s, want published", c.Cut, c.MPID, c.Status)
		}
		var out bytes.Buffer
		err := runVerify(ctx, &verifyOptions{cut: c.Prefix, store: cli.StoreFlags{Location: dir}}, &out)
		outputs["verify "+c.Prefix] = out.Bytes()
		if err != nil || !strings.Contains(out.String(), "texts (manifest") {
			t.Errorf("verify --cut %s: %v\n%s", c.Prefix, err, out.String())
		}
		t.Logf("verify:\n%s", out.String())
	}
	if quarantined < len(canaryKinds)/3 {
		t.Errorf("only %d files quarantined", quarantined)
	}
	// Status (text, JSON, page) and an allocation over what was published.
	for _, asJSON := range []bool{false, true} {
		var out bytes.Buffer
		o := &statusOptions{json: asJSON, html: filepath.Join(files, fmt.Sprintf("status-%v.html", asJSON))}
		o.store.Location = dir
		if err := runStatus(ctx, o, &out, time.Now()); err != nil {
			t.Errorf("status: %v", err)
		}
		outputs[fmt.Sprintf("status json=%v", asJSON)] = out.Bytes()
		outputs[fmt.Sprintf("status page json=%v", asJSON)], _ = os.ReadFile(o.html)
	}
	types, _ := cut.LoadTypes(pipelines.FS)
	p, err := plan.Decode("canary.yaml", []byte(canaryPlan), types)
	if err != nil {
		t.Fatal(err)
	}
	var alog bytes.Buffer
	oc, err := allocation.Run(ctx, allocation.Options{Store: st, Plan: p, Log: zerolog.New(zerolog.SyncWriter(&alog)), Tool: "canary"})
	if err != nil || oc == nil {
		t.Errorf("allocation: %v", err)
	} else {
		t.Logf("allocation %s", oc.Prefix)
	}
	if err != nil {
		outputs["allocate error"] = []byte(err.Error())
	}

	outputs["allocate log"] = alog.Bytes()
	err = st.List(ctx, "", func(i store.Info) error {
		if strings.HasPrefix(i.Key, cut.QuarantineRoot) || strings.HasPrefix(i.Key, cut.InboxRoot) { // raw
			return nil
		}
		b, err := store.ReadAll(ctx, st, i.Key)
		outputs[i.Key] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, where := range slices.Sorted(maps.Keys(outputs)) {
		for i, c := range canaries {
			for _, v := range c.values() {
				if bytes.Contains(outputs[where], []byte(v)) {
					t.Errorf("%s holds %s's value %q", where, canaryKinds[i].name, v)
				}
			}
		}
	}

	// The text check finds a value that does get into a report.
	for _, c := range sum.Cuts {
		m, err := cut.ReadManifest(ctx, st, c.Prefix)
		if err != nil || len(m.Quarantined) == 0 {
			t.Fatalf("manifest %v: %v", m, err)
		}
		first := slices.IndexFunc(canaryKinds, func(k canaryKind) bool { return k.cut == c.Cut }) // a good file of the cut
		planted := []byte(`{"message": "column 1 \"` + canaries[first].MPAN + `\" is not known"}`)
		if err := st.Put(ctx, m.Quarantined[0].Report, bytes.NewReader(planted), int64(len(planted))); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err = runVerify(ctx, &verifyOptions{cut: c.Prefix, store: cli.StoreFlags{Location: dir}}, &out)
		if cli.Code(err) != cli.ExitData || !strings.Contains(out.String(), "LEAK: 1 raw values found") {
			t.Errorf("a planted leak: %v\n%s", err, out.String())
		}
		if strings.Contains(out.String(), canaries[first].MPAN) {
			t.Errorf("verify quotes the value it found:\n%s", out.String())
		}
	}
}
