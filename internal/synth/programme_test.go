package synth

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/pipelines"
)

var update = flag.Bool("update", false, "rewrite pipelines/programme.yaml from Programme")

var programmeFile = filepath.Join("..", "..", "pipelines", programme.File)

// The committed register is the synthetic market's, as Programme makes it.
func TestProgrammeIsFresh(t *testing.T) {
	want := Programme()
	if *update {
		if err := os.WriteFile(programmeFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(programmeFile)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("pipelines/%s differs from synth.Programme (%v): run go test ./internal/synth -run TestProgrammeIsFresh -update", programme.File, err)
	}
	// and the binaries carry it
	if b, err := pipelines.FS.ReadFile(programme.File); err != nil || !bytes.Equal(b, want) {
		t.Fatalf("the embedded %s differs (%v)", programme.File, err)
	}
}

func builtInRegister(t *testing.T) *programme.Register {
	t.Helper()
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	r, err := programme.Decode(programme.File, Programme(), types)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Every participant of the synthetic market is in its register, in the
// role of its DTC role code.
func TestProgrammeHasEveryParticipant(t *testing.T) {
	r := builtInRegister(t)
	all := append(append(append(append(append(append([]Participant(nil), Suppliers...), MOps...), HHDCs...), NHHDCs...), DAs...), Registrations()...)
	all = append(all, EES)
	role := map[string]string{"X": "supplier", "M": "mop", "C": "dc", "D": "dc", "A": "da", "P": "registration", "ees": "ees"}
	for _, p := range all {
		if r.Org(p.MPID) == nil {
			t.Errorf("%s (%s) is not in the register", p.MPID, p.Name)
			continue
		}
		if !strings.Contains(strings.Join(r.RolesOf(p.MPID), ","), role[p.Role]) {
			t.Errorf("%s has roles %v, want %s", p.MPID, r.RolesOf(p.MPID), role[p.Role])
		}
	}
	if r.MPIDCount() != len(all) {
		t.Errorf("the register has %d MPIDs, the market %d", r.MPIDCount(), len(all))
	}
	if r.Org("MTRA") != r.Org("MTRB") {
		t.Error("MTRA and MTRB are not one organisation")
	}
	sit := 0
	for _, o := range r.Organisations {
		if !o.SIT {
			sit++
		}
	}
	if sit == 0 {
		t.Error("no non-SIT organisation")
	}
}

// The register accepts every file synth generates: each D-flow file's ZHV
// sender may send its cut for its inbox folder; EES exports have no header
// and are the folder's own.
func TestProgrammeAcceptsTheMarket(t *testing.T) {
	r := builtInRegister(t)
	st, _ := generate(t, Options{MPANs: 3000, Seed: 5, ChunkMPANs: 3000})
	ctx := context.Background()
	checked := map[string]int{}
	err := st.List(ctx, cut.InboxRoot, func(i store.Info) error {
		f, err := cut.ParseInboxKey(i.Key)
		if err != nil {
			t.Errorf("%s is not an inbox file: %v", i.Key, err)
			return nil
		}
		if f.Name == cut.SubmissionFile {
			return nil
		}
		sender := f.MPID
		if f.Type != CutEES {
			rc, err := st.Get(ctx, i.Key)
			if err != nil {
				return err
			}
			h, err := dflow.NewReader(rc, i.Key, dflow.Options{}).Header()
			rc.Close()
			if err != nil {
				return err
			}
			sender = h.FromMPID
		}
		if err := r.MaySend(f.MPID, sender, f.Type); err != nil {
			t.Errorf("%s: %v", i.Key, err)
		}
		checked[f.Type]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{CutEES, CutSupplier, CutMTD, CutRegistration} {
		if checked[c] == 0 {
			t.Errorf("no %s file checked: %v", c, checked)
		}
	}
}
