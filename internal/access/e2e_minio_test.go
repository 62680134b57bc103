package access

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/allocation"
	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/store/s3"
	"github.com/mhhs-sit/datacut/internal/submit"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/pipelines"
)

// The programme's life on MinIO, each part with its own identity: every
// participant submits its cuts into its own inbox, the worker publishes
// them, the SI allocates, and each participant can read exactly the load
// packs addressed to its MPIDs, no other. The audit trail says who did it.
func TestAccessEndToEndOnMinIO(t *testing.T) {
	ctx := context.Background()
	a := applyBuiltin(t, "sit")
	as := func(name string) store.Store {
		t.Helper()
		st, err := s3.Open(ctx, s3.Config{Endpoint: a.srv.Endpoint, AccessKey: name, SecretKey: a.res.Secret(name), Bucket: a.bucket, Prefix: a.prefix})
		if err != nil {
			t.Fatalf("opening the store as %s: %v", name, err)
		}
		return st
	}
	identityOf := map[string]string{} // MPID → its organisation's identity
	for _, id := range a.ids {
		for _, m := range id.MPIDs {
			identityOf[m] = id.Name
		}
	}

	// Each participant sends its own submissions with datacut submit's
	// upload, which adds its audit record.
	dir := t.TempDir()
	market, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, market, synth.Options{MPANs: 2000, Seed: 4, ChunkMPANs: 2000}); err != nil {
		t.Fatal(err)
	}
	subs, _, err := cut.ScanInbox(ctx, market, nil)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := submit.LoadDefinitions(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range subs {
		var files []string
		for _, f := range p.Files {
			files = append(files, filepath.Join(dir, filepath.FromSlash(f.Key)))
		}
		pl, err := submit.Prepare(defs, submit.Request{MPID: p.MPID, Cut: p.Cut, AsAt: p.Submission.AsAt, ID: p.ID, Files: files, AllowBroken: true}, time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := submit.Upload(ctx, as(identityOf[p.MPID]), pl, time.Now(), nil); err != nil {
			t.Fatalf("%s sending %s's %s: %v", identityOf[p.MPID], p.MPID, p.Cut, err)
		}
	}

	// The worker publishes, the SI allocates.
	set, err := pipeline.Load(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := mask.ParseKey("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	sum, err := pipeline.Run(ctx, pipeline.Options{Store: as("datacut-worker"), Pipelines: set, Key: key, Log: zerolog.Nop()})
	if err != nil || sum.Count(pipeline.StatusFailed) > 0 || sum.Count(pipeline.StatusPublished) != len(subs) {
		t.Fatalf("the worker's run: %v, %d of %d published", err, sum.Count(pipeline.StatusPublished), len(subs))
	}
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := plan.Load(pipelines.FS, types)
	if err != nil {
		t.Fatal(err)
	}
	oc, err := allocation.Run(ctx, allocation.Options{Store: as("datacut-si"), Plan: plans["sit"], Log: zerolog.Nop(), Tool: "allocate test"})
	if err != nil {
		t.Fatalf("the SI's allocation: %v", err)
	}

	// Every pack file, as the operator sees them; each participant reads
	// those of its MPIDs and no other.
	operator := as("datacut-operator")
	packs := map[string]string{} // a file of each pack folder → the pack's MPID
	err = operator.List(ctx, oc.Prefix+cut.PacksDir, func(i store.Info) error {
		rest := strings.TrimPrefix(i.Key, oc.Prefix+cut.PacksDir) // <environment>/<role>-<MPID>/...
		parts := strings.SplitN(rest, "/", 3)
		folder := parts[0] + "/" + parts[1]
		if _, seen := packs[folder]; !seen {
			packs[folder] = i.Key
		}
		return nil
	})
	if err != nil || len(packs) == 0 {
		t.Fatalf("no packs: %v", err)
	}
	own := map[string]int{}
	for _, id := range a.ids {
		if id.Kind != KindParticipant {
			continue
		}
		st := as(id.Name)
		for folder, file := range packs {
			mpid := folder[strings.LastIndexByte(folder, '-')+1:]
			_, err := store.ReadAll(ctx, st, file)
			mine := slices.Contains(id.MPIDs, mpid)
			switch {
			case mine && err != nil:
				t.Errorf("%s cannot read its own pack %s: %v", id.Name, file, err)
			case !mine && !errors.Is(err, s3.ErrAccessDenied):
				t.Errorf("%s reads %s's pack %s (%v)", id.Name, mpid, file, err)
			case mine:
				own[id.Name]++
			}
		}
	}
	if len(own) < 3 {
		t.Fatalf("only %d participants have packs: %v", len(own), own)
	}

	// The trail: the worker took every submission, the SI allocated.
	recs, err := audit.List(ctx, operator, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	who := map[string]map[string]int{}
	for _, r := range recs {
		if who[r.Action] == nil {
			who[r.Action] = map[string]int{}
		}
		who[r.Action][r.Who]++
	}
	if who[audit.ActionTake]["s3:datacut-worker"] != len(subs) || who[audit.ActionAllocate]["s3:datacut-si"] != 1 {
		t.Fatalf("audit records by action and who: %v", who)
	}
	// Each submission's record was added by its organisation's identity.
	sent := 0
	for _, r := range recs {
		if r.Action == audit.ActionSubmit {
			sent++
			if r.Who != "s3:"+identityOf[r.MPID] || r.Suspect != "" {
				t.Errorf("the submit record of %s's %s: who %s (want s3:%s), suspect %q", r.MPID, r.Cut, r.Who, identityOf[r.MPID], r.Suspect)
			}
		}
	}
	if sent != len(subs) {
		t.Fatalf("%d submit records for %d submissions", sent, len(subs))
	}
	// No record holds a data field of the raw market (8 characters or
	// more: MPANs, names, addresses, dates and times) or a secret.
	var trail strings.Builder
	for _, r := range recs {
		b, _ := json.Marshal(r)
		trail.Write(b)
	}
	values := 0
	ownNumbers := regexp.MustCompile(`"\d{4}-\d\d-\d\dT[^"]*"|:\s*\d+|[0-9a-f]{16,}`) // times, sizes, digests: see withoutOwnNumbers in internal/pipeline
	text := ownNumbers.ReplaceAllString(trail.String(), "_")
	for _, p := range subs {
		for _, f := range p.Files {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Key)))
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(b), "\n") {
				if i == 0 || strings.HasPrefix(line, "ZPT|") { // column names or ZHV, and trailers: not data
					continue
				}
				for _, v := range strings.FieldsFunc(line, func(r rune) bool { return r == '|' || r == ',' || r == '"' }) {
					if len(v) >= 8 {
						values++
						if strings.Contains(text, v) {
							t.Fatalf("an audit record holds %q, a value of %s", v, f.Key)
						}
					}
				}
			}
		}
	}
	for _, id := range a.ids {
		if strings.Contains(trail.String(), a.res.Secret(id.Name)) {
			t.Fatalf("an audit record holds %s's secret", id.Name)
		}
	}
	if values == 0 {
		t.Fatal("no raw values to look for")
	}
}
