package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/mpan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/pipelines"
)

const e2eMPANs, e2eSeed, e2eFaults = 3000, 9, 0.02

func market(t *testing.T, st store.Store) map[string]synth.Truth {
	t.Helper()
	ctx := context.Background()
	if _, err := synth.Generate(ctx, st, synth.Options{MPANs: e2eMPANs, Seed: e2eSeed, FaultRate: e2eFaults, ChunkMPANs: 1500}); err != nil {
		t.Fatal(err)
	}
	truths := map[string]synth.Truth{}
	for _, k := range listKeys(t, st, synth.TruthPrefix) {
		b, _ := store.ReadAll(ctx, st, k)
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var tr synth.Truth
			json.Unmarshal(sc.Bytes(), &tr)
			truths[tr.Key] = tr
		}
	}
	return truths
}

func listKeys(t *testing.T, st store.Store, prefix string) []string {
	var ks []string
	if err := st.List(context.Background(), prefix, func(i store.Info) error { ks = append(ks, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	return ks
}

func runOpts(t *testing.T, st store.Store) Options {
	set, err := Load(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := mask.ParseKey(testKey)
	return Options{Store: st, Pipelines: set, Key: key, Log: zerolog.Nop(), KeepRaw: true}
}

// digest fingerprints what a run published: every table's bytes and each
// manifest's inputs, tables and rejections (not its timings).
func digest(t *testing.T, st store.Store) string {
	ctx := context.Background()
	h := sha256.New()
	for _, k := range listKeys(t, st, "cuts/") {
		b, _ := store.ReadAll(ctx, st, k)
		if strings.HasSuffix(k, "manifest.json") {
			var m cut.Manifest
			json.Unmarshal(b, &m)
			m.Timings = cut.Timings{}
			b, _ = json.Marshal(m)
		}
		fmt.Fprintf(h, "%s %x\n", k, sha256.Sum256(b))
	}
	for _, k := range listKeys(t, st, "quarantine/") {
		fmt.Fprintf(h, "%s\n", k)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// quarantined finds where a broken input was kept and its report: under
// quarantine/ and reports/, in its submission's folder.
func quarantined(t *testing.T, st store.Store, inboxKey string) (file, report string) {
	t.Helper()
	f, err := cut.ParseInboxKey(inboxKey)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, k := range listKeys(t, st, fmt.Sprintf("%s%s/mpid=%s/", cut.QuarantineRoot, f.Type, f.MPID)) {
		if strings.HasSuffix(k, "/"+f.Name) {
			files = append(files, k)
		}
	}
	if len(files) != 1 {
		t.Fatalf("quarantine holds %d copies of %s: %v", len(files), inboxKey, files)
	}
	file, report = cut.QuarantineKeys(f.Type, f.MPID, f.Submission, f.Name)
	if file != files[0] {
		t.Fatalf("%s is kept at %s, not in its submission's folder (%s)", inboxKey, files[0], file)
	}
	return file, report
}

// checkAuditHoldsNoValues: every submission the run took has its take
// record, and not one data field of the raw inbox files (8
// characters or more: MPANs, names, addresses, postcodes with their town, dates and
// times) is in any audit record.
func checkAuditHoldsNoValues(t *testing.T, st store.Store, sum *Summary) {
	t.Helper()
	ctx := context.Background()
	recs, err := audit.List(ctx, st, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	taken := map[string][]string{}
	var all strings.Builder
	for _, r := range recs {
		taken[r.Cut+"/"+r.MPID+"/"+r.Submission] = append(taken[r.Cut+"/"+r.MPID+"/"+r.Submission], r.Action)
		b, _ := json.Marshal(r)
		all.Write(b)
	}
	for _, c := range sum.Cuts {
		if c.Status != StatusPublished && c.Status != StatusNothingLeft {
			continue
		}
		if got := taken[c.Cut+"/"+c.MPID+"/"+c.Submission]; len(got) != 1 || got[0] != audit.ActionTake {
			t.Fatalf("%s/%s/%s: audit records %v, want take (the submissions were put without datacut submit)", c.Cut, c.MPID, c.Submission, got)
		}
	}
	text := withoutOwnNumbers(all.String())
	values := 0
	for _, k := range dataKeys(t, st, cut.InboxRoot) {
		b, _ := store.ReadAll(ctx, st, k)
		for i, line := range strings.Split(string(b), "\n") {
			if i == 0 || strings.HasPrefix(line, "ZPT|") { // a header (names of columns, ZHV) or trailer: not data
				continue
			}
			for _, v := range strings.FieldsFunc(line, func(r rune) bool { return r == '|' || r == ',' || r == '"' }) {
				if len(v) < 8 {
					continue
				}
				values++
				if strings.Contains(text, v) {
					t.Fatalf("an audit record holds %q, a value of %s", v, k)
				}
			}
		}
	}
	if values == 0 {
		t.Fatal("no raw values to look for")
	}
}

// checkRejectedFile: an input's rejected instances are kept as a file of
// its own format holding exactly them (under their context records), each
// rejected again when read.
func checkRejectedFile(t *testing.T, st store.Store, in cut.Input, want int) {
	t.Helper()
	if want == 0 {
		if in.RejectedKey != "" {
			t.Fatalf("%s: nothing rejected, yet %s", in.Key, in.RejectedKey)
		}
		return
	}
	b, err := store.ReadAll(context.Background(), st, in.RejectedKey)
	if err != nil {
		t.Fatalf("%s: its rejected instances: %v", in.Key, err)
	}
	got := 0
	if in.Flow == "EES" {
		got = strings.Count(string(b), "\n") - 1 // rows under the header
	} else {
		rd := dflow.NewReader(bytes.NewReader(b), in.RejectedKey, dflow.Options{})
		for {
			inst, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s is not a D-flow: %v", in.RejectedKey, err)
			}
			switch {
			case inst.Rejected():
				got++
			case !inst.Records[0].Group.Context(): // the context a unit is kept under
				t.Fatalf("%s: instance %d is valid, yet kept as rejected", in.RejectedKey, inst.Ordinal)
			}
		}
		for _, f := range rd.FileFindings() {
			if f.Severity == dflow.SevError {
				t.Fatalf("%s: %v", in.RejectedKey, f)
			}
		}
	}
	if got != want {
		t.Fatalf("%s holds %d rejected instances, want %d", in.RejectedKey, got, want)
	}
}

// readTable reads a published table with Arrow's Parquet file reader.
func readTable(t *testing.T, st store.Store, key string) *array.String {
	b, err := store.ReadAll(context.Background(), st, key)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not Parquet: %v", key, err)
	}
	defer pf.Close()
	// A table of several files is stored in full row groups, not a small
	// group for each file (this market's tables stay under the pending
	// bound, so no group is cut short).
	if rows := pf.NumRows(); pf.NumRowGroups() != int(max(1, (rows+cut.RowGroupRows-1)/cut.RowGroupRows)) {
		t.Fatalf("%s: %d rows in %d row groups", key, rows, pf.NumRowGroups())
	}
	tbl := arrowTable(t, pf)
	defer tbl.Release()
	idx := tbl.Schema().FieldIndices(dflow.ColInstanceMPAN)
	if len(idx) != 1 {
		t.Fatalf("%s has no lineage", key)
	}
	col := tbl.Column(idx[0])
	chunks := array.NewStringBuilder(memory.DefaultAllocator)
	for _, c := range col.Data().Chunks() {
		s := c.(*array.String)
		for i := 0; i < s.Len(); i++ {
			if s.IsNull(i) {
				chunks.AppendNull()
			} else {
				chunks.Append(s.Value(i))
			}
		}
	}
	return chunks.NewStringArray()
}

// e2e: a synthetic market with faults through every pipeline. Counts match
// the generator's ground truth exactly, tables read back with Arrow's own
// Parquet reader, masked MPANs join across cuts, the leak check finds
// nothing, and a second run publishes nothing new.
func e2e(t *testing.T, st store.Store) {
	ctx := context.Background()
	truths := market(t, st)
	opt := runOpts(t, st)
	sum, err := Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count(StatusFailed) != 0 || sum.Count(StatusNoPipeline) != 0 || sum.Count(StatusPublished) == 0 {
		t.Fatalf("run: %+v", sum.Cuts)
	}
	// Ground truth: broken files quarantined, every other file's rejections exact.
	wantRejected, wantQuarantined := 0, 0
	manifests := map[string]*cut.Manifest{}
	for _, c := range sum.Cuts {
		if c.Status == StatusPublished {
			m, err := cut.ReadManifest(ctx, st, c.Prefix)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range m.Inputs {
				manifests[in.Key] = m
			}
		}
	}
	for key, tr := range truths {
		if tr.Broken != "" {
			wantQuarantined++
			q, report := quarantined(t, st, key)
			rep, err := store.ReadAll(ctx, st, report)
			if err != nil || !strings.Contains(string(rep), tr.Broken) || !strings.Contains(string(rep), `"input": "`+key+`"`) {
				t.Fatalf("%s: quarantine report %v %s", key, err, rep)
			}
			if _, err := st.Stat(ctx, q); err != nil {
				t.Fatalf("%s: not kept in quarantine at %s: %v", key, q, err)
			}
			continue
		}
		wantRejected += len(tr.Faults)
		m := manifests[key]
		if m == nil {
			t.Fatalf("%s is in no manifest", key)
		}
		for _, in := range m.Inputs {
			if in.Key == key && (in.Instances != tr.Instances || in.Rejected != len(tr.Faults) || len(in.SHA256) != 64) {
				t.Fatalf("%s: manifest says %d instances %d rejected; truth %d and %d", key, in.Instances, in.Rejected, tr.Instances, len(tr.Faults))
			}
			if in.Key == key {
				checkRejectedFile(t, st, in, len(tr.Faults))
			}
		}
	}
	rejected, quarantined := sum.Totals()
	if rejected != wantRejected || quarantined != wantQuarantined || wantQuarantined == 0 {
		t.Fatalf("rejected %d quarantined %d; truth %d and %d", rejected, quarantined, wantRejected, wantQuarantined)
	}
	// Tables read back; masked MPANs valid, never raw, and joined across cuts.
	key, _ := mask.ParseKey(testKey)
	mk, _ := mask.New(opt.Pipelines.ByName["mop-mtd"].rules, key, opt.Pipelines.ByName["mop-mtd"].resolve)
	sets := map[string]map[string]bool{}
	for _, m := range manifests {
		for _, tb := range m.Tables {
			mp := readTable(t, st, tb.Key)
			if int64(mp.Len()) != tb.Rows {
				t.Fatalf("%s: %d rows, manifest %d", tb.Key, mp.Len(), tb.Rows)
			}
			if sets[tb.Name] == nil {
				sets[tb.Name] = map[string]bool{}
			}
			for i := 0; i < mp.Len(); i++ {
				if !mp.IsNull(i) {
					if !mpan.Valid(mp.Value(i)) {
						t.Fatalf("%s: invalid masked MPAN", tb.Key)
					}
					sets[tb.Name][mp.Value(i)] = true
				}
			}
			mp.Release()
		}
	}
	joined := 0
	for m := range sets["d0150_288"] {
		if sets["d0204_440"][m] && sets["ees_portfolio"][m] {
			joined++
		}
	}
	if joined < len(sets["d0150_288"])*9/10 {
		t.Fatalf("only %d of %d masked MTD MPANs join registration and EES", joined, len(sets["d0150_288"]))
	}
	// The raw MPANs themselves appear nowhere.
	for _, k := range listKeys(t, st, "inbox/") {
		if !strings.HasSuffix(k, ".dat") {
			continue
		}
		b, _ := store.ReadAll(ctx, st, k)
		r := dflow.NewReader(bytes.NewReader(b), k, dflow.Options{})
		for {
			in, err := r.Next()
			if err != nil {
				break
			}
			if in.MPAN != nil && sets["d0204_440"][string(in.MPAN)] {
				masked, _ := mk.Value("J0003", in.MPAN, 0)
				if string(masked) != string(in.MPAN) {
					t.Fatalf("a raw MPAN of %s is published", k)
				}
			}
		}
	}
	// Every taken submission is audited, and no audit record holds a value
	// of the raw market.
	checkAuditHoldsNoValues(t, st, sum)
	// Leak check on every published cut.
	for _, c := range sum.Cuts {
		if c.Status != StatusPublished {
			continue
		}
		rep, err := Verify(ctx, st, c.Prefix, opt.Pipelines.ByName[c.Cut], st, memory.DefaultAllocator)
		if err != nil {
			t.Fatalf("verify %s: %v", c.Prefix, err)
		}
		if rep.Leaks != 0 || rep.Checked == 0 {
			t.Fatalf("verify %s: %+v", c.Prefix, rep)
		}
	}
	// A second run publishes nothing new.
	before := digest(t, st)
	sum2, err := Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Count(StatusAlreadyPublished) != sum.Count(StatusPublished) || sum2.Count(StatusPublished) != 0 || digest(t, st) != before {
		t.Fatalf("second run: %+v", sum2.Cuts)
	}
	// Without --keep-raw, the raw files of published cuts go.
	opt.KeepRaw = false
	if _, err := Run(ctx, opt); err != nil {
		t.Fatal(err)
	}
	if left := listKeys(t, st, "inbox/"); len(left) != 0 {
		t.Fatalf("raw files left: %v", left[:min(3, len(left))])
	}
}

func TestEndToEndLocal(t *testing.T) {
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e2e(t, st)
}

// TestShardsEqualSingleRun: three sharded runs publish exactly what one run
// does.
func TestShardsEqualSingleRun(t *testing.T) {
	single, _ := local.Open(t.TempDir())
	market(t, single)
	if _, err := Run(context.Background(), runOpts(t, single)); err != nil {
		t.Fatal(err)
	}
	sharded, _ := local.Open(t.TempDir())
	market(t, sharded)
	cuts := 0
	for i := 0; i < 3; i++ {
		opt := runOpts(t, sharded)
		opt.Shard, opt.Shards = i, 3
		sum, err := Run(context.Background(), opt)
		if err != nil {
			t.Fatal(err)
		}
		cuts += len(sum.Cuts)
		if len(sum.Cuts) == 0 {
			t.Fatalf("shard %d got nothing", i)
		}
	}
	if digest(t, single) != digest(t, sharded) {
		t.Fatal("sharded runs publish something else than a single run")
	}
}

// failingStore fails puts of manifests after n of them, as a crash would.
type failingStore struct {
	store.Store
	left atomic.Int64
}

func (f *failingStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if strings.HasSuffix(key, "manifest.json") && f.left.Add(-1) < 0 {
		return errors.New("simulated crash")
	}
	return f.Store.Put(ctx, key, r, size)
}

// TestCrashThenResume: a run that dies part-way leaves nothing visible for
// the unfinished cuts; the next run completes with exactly what a clean run
// publishes.
func TestCrashThenResume(t *testing.T) {
	clean, _ := local.Open(t.TempDir())
	market(t, clean)
	if _, err := Run(context.Background(), runOpts(t, clean)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base, _ := local.Open(dir)
	market(t, base)
	fs := &failingStore{Store: base}
	fs.left.Store(5)
	opt := runOpts(t, fs)
	opt.Workers = 1
	sum, _ := Run(context.Background(), opt)
	if sum.Count(StatusFailed) == 0 {
		t.Fatal("the simulated crash did not happen")
	}
	manifests := 0
	for _, k := range listKeys(t, base, "cuts/") {
		if strings.HasSuffix(k, "manifest.json") {
			manifests++
		}
	}
	if manifests != 5 {
		t.Fatalf("%d manifests after the crash, want 5", manifests)
	}
	if _, err := Run(context.Background(), runOpts(t, base)); err != nil {
		t.Fatal(err)
	}
	// Leftover table files of failed attempts are overwritten in place: the
	// same keys, the same bytes.
	if digest(t, base) != digest(t, clean) {
		t.Fatal("resumed run differs from a clean run")
	}
	_ = sort.Strings
	_ = os.Remove
}

// ownNumbers are what an audit record says in digits of its own: times
// (to the nanosecond), sizes and hex digests. A raw value of eight digits
// (a date) turns up in them by chance now and then, so they are blanked
// before raw values are looked for; raw values are text in the records.
var ownNumbers = regexp.MustCompile(`"\d{4}-\d\d-\d\dT[^"]*"|:\s*\d+|[0-9a-f]{16,}`)

func withoutOwnNumbers(s string) string { return ownNumbers.ReplaceAllString(s, "_") }
