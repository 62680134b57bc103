package synth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mpan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

func generate(t *testing.T, opt Options) (store.Store, *Summary) {
	t.Helper()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Generate(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	return st, sum
}

// keys lists the data files under prefix (not the submissions' submission.json).
func keys(t *testing.T, st store.Store, prefix string) []string {
	var ks []string
	st.List(context.Background(), prefix, func(i store.Info) error {
		if cut.BaseName(i.Key) != cut.SubmissionFile {
			ks = append(ks, i.Key)
		}
		return nil
	})
	return ks
}

// Every generated file is in a complete submission a run takes at once.
func TestSubmissionsAreReady(t *testing.T) {
	st, _ := generate(t, Options{MPANs: 300, Seed: 9, FaultRate: 0.2})
	subs, ignored, err := cut.ScanInbox(context.Background(), st, nil)
	if err != nil || len(ignored) > 0 || len(subs) == 0 {
		t.Fatalf("%d submissions, ignored %v, %v", len(subs), ignored, err)
	}
	files := 0
	for _, p := range subs {
		if p.Waiting != "" || p.ID != SubmissionID(9) || p.Submission.AsAt != AsAt {
			t.Errorf("%s/%s/%s: %+v", p.MPID, p.Cut, p.ID, p)
		}
		files += len(p.Files)
	}
	if n := len(keys(t, st, cut.InboxRoot)); files != n {
		t.Errorf("the submissions list %d files; the inbox has %d", files, n)
	}
}

type fileResult struct {
	instances, rejected int
	mpans               map[string]bool
	broken              *dflow.BrokenError
	rules               map[int]string // instance -> first rule
}

func readDFlow(t *testing.T, st store.Store, key string) fileResult {
	b, err := store.ReadAll(context.Background(), st, key)
	if err != nil {
		t.Fatal(err)
	}
	r := dflow.NewReader(bytes.NewReader(b), key, dflow.Options{})
	res := fileResult{mpans: map[string]bool{}, rules: map[int]string{}}
	for {
		in, err := r.Next()
		if err == io.EOF {
			break
		}
		if errors.As(err, &res.broken) {
			return res
		}
		if err != nil {
			t.Fatal(err)
		}
		res.instances++
		if in.Rejected() {
			res.rejected++
			res.rules[in.Ordinal] = in.Findings[0].Rule
		}
		if in.MPAN != nil {
			res.mpans[string(in.MPAN)] = true
		}
	}
	if r.Stats().Errors != res.rejected && len(r.FileFindings()) > 0 {
		for _, f := range r.FileFindings() {
			if f.Severity == dflow.SevError {
				t.Fatalf("%s: file finding %s", key, f)
			}
		}
	}
	return res
}

func TestCleanMarketValidates(t *testing.T) {
	st, sum := generate(t, Options{MPANs: 3000, Seed: 7, ChunkMPANs: 1000})
	if sum.MPANs != 3000 || sum.BySegment["S"]+sum.BySegment["A"]+sum.BySegment["U"] != 3000 || sum.Faults != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.BySegment["A"] == 0 || sum.BySegment["U"] == 0 || sum.Linked == 0 || len(sum.ByGSP) != 14 {
		t.Fatalf("market lacks variety: %+v", sum)
	}
	perFlow := map[string]map[string]bool{}
	for _, k := range keys(t, st, "inbox/") {
		if strings.HasSuffix(k, ".csv") {
			continue
		}
		res := readDFlow(t, st, k)
		if res.broken != nil || res.rejected != 0 {
			t.Fatalf("%s: broken %v, %d rejected %v", k, res.broken, res.rejected, res.rules)
		}
		flow := k[strings.LastIndex(k, "/")+1:][:5]
		if perFlow[flow] == nil {
			perFlow[flow] = map[string]bool{}
		}
		for m := range res.mpans {
			if perFlow[flow][m] {
				t.Fatalf("%s: MPAN in two files of %s", k, flow)
			}
			perFlow[flow][m] = true
		}
	}
	// Every MPAN is registered once, and every MOp flow's MPAN is registered.
	if len(perFlow["D0204"]) != 3000 {
		t.Fatalf("D0204 holds %d MPANs", len(perFlow["D0204"]))
	}
	for _, f := range []string{"D0150", "D0149", "D0268", "D0302", "D0225"} {
		if len(perFlow[f]) == 0 {
			t.Fatalf("no %s data", f)
		}
		for m := range perFlow[f] {
			if !perFlow["D0204"][m] || !mpan.Valid(m) {
				t.Fatalf("%s MPAN %s not registered or invalid", f, m)
			}
		}
	}
	if len(perFlow["D0150"]) != len(perFlow["D0149"]) {
		t.Fatal("every traditional meter needs D0150 and D0149")
	}
}

// TestCutsAgree: the same MPAN has the same meter, address, supplier and
// agents in every file that mentions it.
func TestCutsAgree(t *testing.T) {
	st, _ := generate(t, Options{MPANs: 800, Seed: 3})
	type facts map[string]string
	seen := map[string]facts{}
	agree := func(core, what, v, where string) {
		if v == "" {
			return
		}
		if seen[core] == nil {
			seen[core] = facts{}
		}
		if prev, ok := seen[core][what]; ok && prev != v {
			t.Fatalf("%s: %s is %q in one file, %q in %s", core, what, prev, v, where)
		}
		seen[core][what] = v
	}
	checks := 0
	for _, k := range keys(t, st, "inbox/") {
		b, _ := store.ReadAll(context.Background(), st, k)
		if strings.HasSuffix(k, ".csv") {
			rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows[1:] {
				agree(row[0], "meter", row[43], k)
				agree(row[0], "postcode", row[10], k)
				agree(row[0], "supplier", row[11], k)
				agree(row[0], "mop", row[24], k)
				checks += 4
			}
			continue
		}
		parts := strings.Split(k, "/")
		r := dflow.NewReader(bytes.NewReader(b), k, dflow.Options{})
		h, _ := r.Header()
		for {
			in, err := r.Next()
			if err != nil {
				break
			}
			core := string(in.MPAN)
			for _, rec := range in.Records {
				for i, fd := range rec.Group.Fields {
					v := string(rec.Fields[i])
					switch fd.Ref {
					case "J0004":
						agree(core, "meter", v, k)
					case "J0263":
						agree(core, "postcode", v, k)
					case "J0178":
						agree(core, "mop", v, k)
					}
					checks++
				}
			}
			switch {
			case strings.HasPrefix(parts[3], "D0204") && core != "":
				agree(core, "supplier", h.ToMPID, k)
			case parts[2] == CutMTD && core != "":
				agree(core, "mop", parts[1], k)
			case parts[2] == CutSupplier && core != "":
				agree(core, "supplier", parts[1], k)
			}
		}
	}
	if checks < 10000 {
		t.Fatalf("only %d checks", checks)
	}
}

func digest(t *testing.T, st store.Store) string {
	h := sha256.New()
	for _, k := range keys(t, st, "") {
		b, _ := store.ReadAll(context.Background(), st, k)
		fmt.Fprintf(h, "%s %x\n", k, sha256.Sum256(b))
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	a, _ := generate(t, Options{MPANs: 1500, Seed: 11, FaultRate: 0.05, ChunkMPANs: 500, Workers: 1})
	b, _ := generate(t, Options{MPANs: 1500, Seed: 11, FaultRate: 0.05, ChunkMPANs: 500, Workers: 3})
	c, _ := generate(t, Options{MPANs: 1500, Seed: 12, FaultRate: 0.05, ChunkMPANs: 500})
	if digest(t, a) != digest(t, b) {
		t.Fatal("same seed and size, different bytes")
	}
	if digest(t, a) == digest(t, c) {
		t.Fatal("different seed, same bytes")
	}
}

// TestFaultsMatchGroundTruth: every injected fault is found where the
// ground truth says, with its rule, and nothing else is rejected.
func TestFaultsMatchGroundTruth(t *testing.T) {
	st, sum := generate(t, Options{MPANs: 4000, Seed: 5, FaultRate: 0.03, ChunkMPANs: 1000})
	if sum.Faults == 0 || sum.BrokenFiles == 0 {
		t.Fatalf("no faults injected: %+v", sum)
	}
	truths := map[string]Truth{}
	for _, k := range keys(t, st, TruthPrefix) {
		b, _ := store.ReadAll(context.Background(), st, k)
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var tr Truth
			if err := json.Unmarshal(sc.Bytes(), &tr); err != nil {
				t.Fatal(err)
			}
			truths[tr.Key] = tr
		}
	}
	faults, broken := 0, 0
	for _, k := range keys(t, st, "inbox/") {
		tr, ok := truths[k]
		if !ok {
			t.Fatalf("%s has no ground truth", k)
		}
		if strings.HasSuffix(k, ".csv") {
			faults += len(tr.Faults)
			continue
		}
		res := readDFlow(t, st, k)
		if tr.Broken != "" {
			broken++
			if res.broken == nil || res.broken.Finding.Rule != tr.Broken {
				t.Fatalf("%s: truth says broken by %s, reader says %v", k, tr.Broken, res.broken)
			}
			faults += len(tr.Faults)
			continue
		}
		if res.broken != nil || res.instances != tr.Instances || res.rejected != len(tr.Faults) {
			t.Fatalf("%s: %d instances %d rejected (broken %v); truth %d instances %d faults", k, res.instances, res.rejected, res.broken, tr.Instances, len(tr.Faults))
		}
		for _, f := range tr.Faults {
			if res.rules[f.Instance] != f.Rule {
				t.Fatalf("%s instance %d: truth %s (%s), reader %q", k, f.Instance, f.Rule, f.Kind, res.rules[f.Instance])
			}
			faults++
		}
	}
	if faults != sum.Faults || broken != sum.BrokenFiles {
		t.Fatalf("truth covers %d faults and %d broken files; summary says %d and %d", faults, broken, sum.Faults, sum.BrokenFiles)
	}
}

// TestEveryMeteredMPANHasMTD: every metered MPAN's appointed MOp holds its
// meter technical details, smart meters included (DTC 15.4 routes D0150
// from SMEM): D0150 with D0149 for non-half-hourly meters, D0268 for
// advanced ones; unmetered MPANs have none.
func TestEveryMeteredMPANHasMTD(t *testing.T) {
	const n, seed = 1200, 21
	st, _ := generate(t, Options{MPANs: n, Seed: seed})
	held := map[string]map[string]string{} // core → flow → MOp folder
	for _, k := range keys(t, st, "inbox/") {
		parts := strings.Split(k, "/")
		if len(parts) < 4 || parts[2] != CutMTD {
			continue
		}
		b, _ := store.ReadAll(context.Background(), st, k)
		r := dflow.NewReader(bytes.NewReader(b), k, dflow.Options{})
		h, err := r.Header()
		if err != nil {
			t.Fatal(err)
		}
		for {
			in, err := r.Next()
			if err != nil {
				break
			}
			core := string(in.MPAN)
			if held[core] == nil {
				held[core] = map[string]string{}
			}
			held[core][h.Flow] = parts[1]
		}
	}
	smart := 0
	Points(n, seed, 0, n, func(p *Point) {
		want := map[string]bool{}
		switch p.Meter {
		case Traditional, Smart:
			want["D0150"], want["D0149"] = true, true
		case Advanced:
			want["D0268"] = true
		}
		if p.Meter == Smart {
			smart++
		}
		for _, f := range []string{"D0150", "D0149", "D0268"} {
			mop, ok := held[p.Core][f]
			if ok != want[f] {
				t.Errorf("MPAN %d (meter kind %d): %s held %v, want %v", p.Index, p.Meter, f, ok, want[f])
			} else if ok && mop != p.MOp.MPID {
				t.Errorf("MPAN %d: %s from %s, want its MOp %s", p.Index, f, mop, p.MOp.MPID)
			}
		}
	})
	if smart == 0 {
		t.Fatal("no smart meters in the market")
	}
}

// TestUnmeteredHasNoMOp: an unmetered supply has no Meter Operator: its
// D0204 has no Meter Operator Details (group 444) and its EES row names no
// MOp and no metering service; every metered MPAN names its MOp in both.
func TestUnmeteredHasNoMOp(t *testing.T) {
	const n, seed = 2000, 5
	st, _ := generate(t, Options{MPANs: n, Seed: seed})
	unmetered := map[string]bool{}
	Points(n, seed, 0, n, func(p *Point) { unmetered[p.Core] = p.Meter == Unmetered })
	col := func(name string) int {
		for i, h := range EESHeader {
			if h == name {
				return i
			}
		}
		t.Fatalf("no EES column %s", name)
		return -1
	}
	mopCols := []int{col("mop"), col("mop-appoint-date"), col("Metering Service Dip Id"), col("Metering Service Effective From Date"), col("Metering Service Mpid")}
	named := map[string]map[string]bool{} // core → where a MOp is named ("ees", "d0204")
	note := func(core, where string) {
		if named[core] == nil {
			named[core] = map[string]bool{}
		}
		named[core][where] = true
	}
	for _, k := range keys(t, st, "inbox/") {
		b, _ := store.ReadAll(context.Background(), st, k)
		if strings.HasSuffix(k, ".csv") {
			rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows[1:] {
				for _, c := range mopCols {
					if row[c] != "" {
						note(row[0], "ees")
					}
				}
			}
			continue
		}
		if !strings.Contains(k, "/D0204") {
			continue
		}
		r := dflow.NewReader(bytes.NewReader(b), k, dflow.Options{})
		if _, err := r.Header(); err != nil {
			t.Fatal(err)
		}
		for {
			in, err := r.Next()
			if err != nil {
				break
			}
			for _, rec := range in.Records {
				if rec.Group.Code == "444" {
					note(string(in.MPAN), "d0204")
				}
			}
		}
	}
	nu := 0
	for core, u := range unmetered {
		if u {
			nu++
			if len(named[core]) > 0 {
				t.Errorf("unmetered MPAN %s: a MOp is named in %v", core, named[core])
			}
		} else if !named[core]["ees"] || !named[core]["d0204"] {
			t.Errorf("metered MPAN %s: MOp named in %v, want ees and d0204", core, named[core])
		}
	}
	if nu == 0 {
		t.Fatal("no unmetered MPAN in the market")
	}
}

// TestSliceIsTheWholeMarketsFiles: --mpids writes only those participants'
// submissions, and each of their files, submission.json included, is the
// whole market's byte for byte (a slice measures what the national run does).
func TestSliceIsTheWholeMarketsFiles(t *testing.T) {
	opt := Options{MPANs: 3000, Seed: 5, CrossFaultRate: 0.02, ChunkMPANs: 1000}
	whole, _ := generate(t, opt)
	opt.MPIDs = []string{"MTRB", "BRGT", "EMEB"}
	slice, _ := generate(t, opt)
	owners := map[string]bool{}
	var n int
	err := slice.List(context.Background(), "inbox/", func(i store.Info) error {
		f, err := cut.ParseInboxKey(i.Key)
		if err != nil {
			return err
		}
		owners[f.MPID+"/"+f.Type] = true
		got, err1 := store.ReadAll(context.Background(), slice, i.Key)
		want, err2 := store.ReadAll(context.Background(), whole, i.Key)
		if err := errors.Join(err1, err2); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from the whole market's", i.Key)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, k := range keys(t, whole, "inbox/") {
		if f, _ := cut.ParseInboxKey(k); slices.Contains(opt.MPIDs, f.MPID) {
			want[f.MPID+"/"+f.Type] = true
		}
	}
	if !maps.Equal(owners, want) || n == 0 {
		t.Fatalf("slice holds submissions %v, want %v", slices.Sorted(maps.Keys(owners)), slices.Sorted(maps.Keys(want)))
	}
	if _, err := Generate(context.Background(), slice, Options{MPANs: 10, MPIDs: []string{"HHDA"}}); err == nil || !strings.Contains(err.Error(), "MTRA") {
		t.Errorf("an MPID that sends no cut: %v, want an error listing the senders", err)
	}
}

// The sampler's segment, drawn alone, is its point's, exports included.
func TestSamplerSegmentIsThePoints(t *testing.T) {
	s := NewSampler(11)
	seen := map[string]int{}
	for i := range 50_000 {
		seg, p := s.Segment(i), s.Point(i)
		if seg != p.Segment {
			t.Fatalf("point %d: Segment says %q, the point is %q", i, seg, p.Segment)
		}
		seen[seg]++
	}
	if seen["S"] == 0 || seen["A"] == 0 || seen["U"] == 0 {
		t.Fatalf("segments drawn: %v", seen)
	}
}

// The sampler's own attributes, drawn alone, are its point's; a candidate's
// segment and own attributes cost no allocation (the top-up tests
// millions).
func TestSamplerOwnIsThePoints(t *testing.T) {
	s := NewSampler(11)
	var own Point
	for i := range 50_000 {
		s.Own(i, &own)
		p := s.Point(i)
		if own.Segment != p.Segment || own.MC != p.MC || own.PC != p.PC || own.Meter != p.Meter || own.Energised != p.Energised ||
			own.Domestic != p.Domestic || own.Export != p.Export || own.MeterType() != p.MeterType() {
			t.Fatalf("point %d: Own says %+v, the point is %+v", i, own, *p)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for i := range 10 {
			s.Segment(i)
			s.Own(i, &own)
		}
	})
	if allocs != 0 {
		t.Errorf("Segment and Own: %v allocations, want none", allocs)
	}
}
