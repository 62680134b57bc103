package reconcile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/submit"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/pipelines"
)

// A participant fixes its data through an amendment and its findings are
// gone from the next reconciliation; everyone else's stay as they were.
func TestAmendmentClearsFindings(t *testing.T) {
	const mpans = 2000
	st, _, set := market(t, mpans, 0.06)
	ctx := context.Background()
	first := reconcile(t, st, set, builtIn(t))
	// The supplier with the most EES findings fixes its EES extract.
	count := map[string]int{}
	for _, f := range first.Findings {
		if f.Cut == synth.CutEES {
			count[f.MPID]++
		}
	}
	mpid := ""
	for m, n := range count {
		if mpid == "" || n > count[mpid] || n == count[mpid] && m < mpid {
			mpid = m
		}
	}
	if count[mpid] < 3 {
		t.Fatalf("no supplier has EES findings: %v", count)
	}
	// Its corrected files: the same market without cross faults.
	cleanDir := t.TempDir()
	clean, err := local.Open(cleanDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, clean, synth.Options{MPANs: mpans, Seed: 3, ChunkMPANs: mpans / 2, Cuts: []string{synth.CutEES}}); err != nil {
		t.Fatal(err)
	}
	var files, names []string
	err = clean.List(ctx, cut.SubmissionDir(mpid, synth.CutEES, synth.SubmissionID(3)), func(in store.Info) error {
		if strings.HasSuffix(in.Key, ".csv") {
			files = append(files, filepath.Join(cleanDir, filepath.FromSlash(in.Key)))
			names = append(names, cut.BaseName(in.Key))
		}
		return nil
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("corrected files of %s: %v %v", mpid, files, err)
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
	}
	defs, err := submit.LoadDefinitions(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := submit.Prepare(defs, submit.Request{MPID: mpid, Cut: synth.CutEES, AsAt: synth.AsAt, Amend: 1, Replaces: names, Files: files}, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := submit.Upload(ctx, st, plan, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	key, _ := mask.ParseKey(testKey)
	if _, err := pipeline.Run(ctx, pipeline.Options{Store: st, Pipelines: set, Key: key, Log: zerolog.Nop()}); err != nil {
		t.Fatal(err)
	}
	next := reconcile(t, st, set, builtIn(t))
	if next.ID == first.ID {
		t.Fatal("a new version of a cut gave the same run id")
	}
	version := 0
	for _, s := range next.Sources {
		if s.Cut == synth.CutEES && s.MPID == mpid {
			version = s.Version
		}
	}
	if version != 2 {
		t.Fatalf("%s's EES is at version %d, want the amendment's 2", mpid, version)
	}
	// Gone: its findings at EES rows, but for customer records it still
	// lacks (its customer cut is not amended).
	var want []Finding
	for _, f := range first.Findings {
		if f.Cut != synth.CutEES || f.MPID != mpid || f.Kind == KindCustomerMissing {
			want = append(want, f)
		}
	}
	if len(next.Findings) != len(want) {
		t.Fatalf("%d findings after %s's amendment, want %d (%d of its EES findings gone)", len(next.Findings), mpid, len(want), count[mpid])
	}
	for i, f := range next.Findings {
		if f.MPID == mpid && f.Cut == synth.CutEES {
			// Its customer-missing findings point at the amended version's
			// rows, where lines moved as orphan rows went.
			if f.Version != 2 || f.Line <= 0 {
				t.Fatalf("finding %+v does not point at version 2", f)
			}
			f.Version, f.Line = want[i].Version, want[i].Line
		}
		if f != want[i] {
			t.Fatalf("finding %d changed: %+v, was %+v", i, f, want[i])
		}
	}
}
