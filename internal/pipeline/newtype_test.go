package pipeline

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/internal/universe"
	"github.com/mhhs-sit/datacut/pipelines"
)

// A new cut type is one YAML file: here, meter technical details that the
// smart metering equipment manager sends, as a cut type of its own. With
// the file added (and the programme register saying which role supplies
// it), datacut lints and publishes it, a plan takes it as a source and
// gives it to the roles it names, and the universe takes its MPANs' meter
// technical details from it, exactly as from mop-mtd.
func TestNewCutTypeIsOneFile(t *testing.T) {
	defsDir := t.TempDir()
	copyFS(t, pipelines.FS, defsDir)
	const smem = `name: smem-mtd
description: smart meter technical details from the SMEM
rules: dpia.yaml
input:
  format: dflow
  flows: [D0150, D0149, D0268]
loaded_by: [mop]
universe: mtd
`
	if err := os.WriteFile(filepath.Join(defsDir, "cuts", "smem-mtd.yaml"), []byte(smem), 0o644); err != nil {
		t.Fatal(err)
	}
	register := filepath.Join(defsDir, "programme.yaml")
	reg, err := os.ReadFile(register)
	if err != nil {
		t.Fatal(err)
	}
	reg = []byte(strings.Replace(string(reg), "  mop:\n", "  mop:\n    smem-mtd: {due: 2027-01-29}\n", 1))
	if err := os.WriteFile(register, reg, 0o644); err != nil {
		t.Fatal(err)
	}
	defs := os.DirFS(defsDir)

	// lint
	set, err := Load(defs)
	if err != nil {
		t.Fatal(err)
	}
	if set.ByName["smem-mtd"] == nil {
		t.Fatalf("pipelines %v", set.Names())
	}

	// run: the MOps' files uploaded as the new cut type
	ctx := context.Background()
	withNew, builtIn := marketStore(t), marketStore(t)
	moveCut(t, withNew, "mop-mtd", "smem-mtd")
	key, _ := mask.ParseKey(testKey)
	sum, err := Run(ctx, Options{Store: withNew, Pipelines: set, Key: key, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	published := 0
	for _, c := range sum.Cuts {
		if c.Cut == "smem-mtd" && c.Status == StatusPublished {
			published++
		}
		if c.Cut == "mop-mtd" {
			t.Fatalf("a mop-mtd cut was left in the inbox: %+v", c)
		}
	}
	if published == 0 {
		t.Fatalf("no smem-mtd cut published: %+v", sum.Cuts)
	}
	if _, err := Run(ctx, runOpts(t, builtIn)); err != nil {
		t.Fatal(err)
	}

	// a plan and the universe
	types, err := cut.LoadTypes(defs)
	if err != nil {
		t.Fatal(err)
	}
	const planText = "name: p\nsi: MHSI\nsources: {cuts: [ees, registration, %s]}\nenvironments:\n- name: E\n  participants: {supplier: [BRGT]}\n"
	pNew, err := plan.Decode("p.yaml", []byte(strings.Replace(planText, "%s", "smem-mtd", 1)), types)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pNew.Packs["mop"], ","); got != "smem-mtd" {
		t.Fatalf("mop loads %q by default, want smem-mtd (its loaded_by)", got)
	}
	pOld, err := plan.Decode("p.yaml", []byte(strings.Replace(planText, "%s", "mop-mtd", 1)), types)
	if err != nil {
		t.Fatal(err)
	}
	mtdNew := mtdMPANs(t, withNew, pNew)
	mtdOld := mtdMPANs(t, builtIn, pOld)
	if mtdNew == 0 || mtdNew != mtdOld {
		t.Fatalf("the universe marks %d MPANs as having MTD from smem-mtd, %d from mop-mtd", mtdNew, mtdOld)
	}
}

func marketStore(t *testing.T) store.Store {
	t.Helper()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(context.Background(), st, synth.Options{MPANs: 1500, Seed: 11, ChunkMPANs: 1500,
		Cuts: []string{synth.CutEES, synth.CutRegistration, synth.CutMTD}}); err != nil {
		t.Fatal(err)
	}
	return st
}

// moveCut re-uploads every MPID's submissions of one cut type as another.
func moveCut(t *testing.T, st store.Store, from, to string) {
	t.Helper()
	ctx := context.Background()
	var subs []*cut.Submission
	for _, k := range listKeys(t, st, cut.InboxRoot) {
		f, err := cut.ParseInboxKey(k)
		if err != nil || f.Type != from {
			continue
		}
		b, err := store.ReadAll(ctx, st, k)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == cut.SubmissionFile {
			s, err := cut.ParseSubmission(b, f.MPID, from)
			if err != nil {
				t.Fatal(err)
			}
			s.Cut = to
			subs = append(subs, s)
		} else if err := st.Put(ctx, cut.SubmissionDir(f.MPID, to, f.Submission)+f.Name, strings.NewReader(string(b)), int64(len(b))); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range subs {
		if err := cut.WriteSubmission(ctx, st, synth.SubmissionID(11), s); err != nil {
			t.Fatal(err)
		}
	}
}

func mtdMPANs(t *testing.T, st store.Store, p *plan.Plan) int {
	t.Helper()
	ctx := context.Background()
	sources, key, err := universe.Latest(ctx, st, p.Sources.Types)
	if err != nil {
		t.Fatal(err)
	}
	u, err := universe.Build(ctx, st, sources, key, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range u.All() {
		if m.Flags&universe.InMTD != 0 {
			n++
		}
	}
	return n
}

func copyFS(t *testing.T, src fs.FS, dst string) {
	t.Helper()
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, p), 0o755)
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
