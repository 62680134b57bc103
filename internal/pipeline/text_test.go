package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/store"
)

// planted is a customer name no report, manifest or log may show.
const planted = "Zq7Planted"

// D-flows as participants' systems write them: one in Windows-1252 is
// published (the manifest says so, with one warning); one whose ZHV lacks
// its creation time is quarantined with every finding of its body in the
// report, and nothing anywhere shows the names planted in them.
func TestDflowTextAsSystemsWriteIt(t *testing.T) {
	ctx := context.Background()
	st := smallMarket(t, "supplier-customer")
	var key string
	for _, k := range dataKeys(t, st, "inbox/") {
		if strings.HasPrefix(cut.BaseName(k), "D0302_") {
			key = k
			break
		}
	}
	f, _ := cut.ParseInboxKey(key)
	raw, _ := store.ReadAll(ctx, st, key)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	var names []int // the 69C lines
	for i, l := range lines {
		if strings.HasPrefix(l, "69C|") {
			names = append(names, i)
		}
	}
	if len(names) < 2 {
		t.Fatalf("%d customer names in %s", len(names), key)
	}
	set := func(ls []string, i, field int, v string) {
		fs := strings.Split(ls[i], "|")
		fs[field] = v
		ls[i] = strings.Join(fs, "|")
	}
	w1252 := append([]string(nil), lines...)
	set(w1252, names[0], 1, planted+" Zo\xeb")
	putListed(t, st, key, []byte(strings.Join(w1252, "\n")+"\n"))

	bad := append([]string(nil), lines...)
	set(bad, 0, 1, "F2")          // another file id: not the same file
	set(bad, len(bad)-1, 1, "F2") // (its trailer's)
	set(bad, 0, 7, "")            // no creation time
	set(bad, names[1], 1, planted+"\x00")
	addToSubmission(t, st, key, "D0302_bad.dat", []byte(strings.Join(bad, "\n")+"\n"))

	sum, err := Run(ctx, runOpts(t, st))
	if err != nil {
		t.Fatal(err)
	}
	var m *cut.Manifest
	for _, c := range sum.Cuts {
		if c.MPID == f.MPID {
			if m, err = cut.ReadManifest(ctx, st, c.Prefix); err != nil {
				t.Fatal(err)
			}
		}
	}
	if m == nil {
		t.Fatalf("no version for %s", f.MPID)
	}
	for _, in := range m.Inputs {
		if want := map[bool]string{true: "windows-1252"}[in.Key == key]; in.Encoding != want || in.Rejected != 0 {
			t.Fatalf("input %s: encoding %q, %d rejected", in.Key, in.Encoding, in.Rejected)
		}
	}
	warned := 0
	for _, w := range m.Warnings {
		if strings.Contains(w, dflow.RuleWindows1252) {
			warned++
		}
	}
	if warned != 1 {
		t.Fatalf("warnings %v, want one %s", m.Warnings, dflow.RuleWindows1252)
	}
	if len(m.Quarantined) != 1 || m.Quarantined[0].Rule != dflow.RuleHeaderMalformed {
		t.Fatalf("quarantined %+v", m.Quarantined)
	}
	rep, err := store.ReadAll(ctx, st, m.Quarantined[0].Report)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Finding dflow.Finding   `json:"finding"`
		Details []dflow.Finding `json:"details"`
	}
	if err := json.Unmarshal(rep, &r); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, d := range r.Details {
		found[d.Rule] = true
	}
	if !strings.Contains(r.Finding.Message, "creation time") || !found[dflow.RuleControlChar] {
		t.Fatalf("report %s", rep)
	}
	// The canary: no JSON the run wrote shows a planted value.
	for _, k := range listKeys(t, st, "") {
		if !strings.HasSuffix(k, ".json") {
			continue
		}
		b, _ := store.ReadAll(ctx, st, k)
		if bytes.Contains(b, []byte(planted)) || bytes.Contains(b, []byte("Zo")) {
			t.Errorf("%s shows a planted name", k)
		}
	}
}
