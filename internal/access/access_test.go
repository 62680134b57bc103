package access

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/pipelines"
)

func register(t *testing.T) *programme.Register {
	t.Helper()
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := programme.Load(pipelines.FS, programme.File, types)
	if err != nil || reg == nil {
		t.Fatalf("%v %v", reg, err)
	}
	return reg
}

// Each organisation's policy names its own MPIDs and no other; every
// identity is a valid MinIO user name; every resource is in the store.
func TestPlanKeepsParticipantsApart(t *testing.T) {
	reg := register(t)
	ids := Plan(reg, Where{Bucket: "programme", Prefix: "sit/"})
	if err := Check(ids); err != nil {
		t.Fatal(err)
	}
	all := map[string]bool{}
	for _, o := range reg.Organisations {
		for _, m := range o.MPIDs {
			all[m.MPID] = true
		}
	}
	multi := false
	participants := 0
	for _, id := range ids {
		doc := string(id.Policy.JSON())
		var back Policy
		if err := json.Unmarshal([]byte(doc), &back); err != nil || len(back.Statement) == 0 {
			t.Fatalf("%s: policy %v", id.Name, err)
		}
		for _, r := range regexp.MustCompile(`"arn:aws:s3:::[^"]*"`).FindAllString(doc, -1) {
			if !strings.HasPrefix(r, `"arn:aws:s3:::programme/sit/`) && r != `"arn:aws:s3:::programme"` {
				t.Errorf("%s: resource %s outside the store", id.Name, r)
			}
		}
		if id.Kind != KindParticipant {
			continue
		}
		participants++
		multi = multi || len(id.MPIDs) > 1
		for m := range all {
			mentions := strings.Contains(doc, "mpid="+m+"/") || strings.Contains(doc, "inbox/"+m+"/") || strings.Contains(doc, "-"+m+"/")
			if own := slices.Contains(id.MPIDs, m); mentions != own {
				t.Errorf("%s (%s): policy mentions %s: %v, its own: %v", id.Name, id.Organisation, m, mentions, own)
			}
		}
		if strings.Contains(doc, `"s3:ListBucket"`) && !strings.Contains(doc, `"StringLike"`) {
			t.Errorf("%s may list the whole bucket", id.Name)
		}
	}
	if participants != len(reg.Organisations) || !multi {
		t.Fatalf("%d participants for %d organisations (one with several MPIDs: %v)", participants, len(reg.Organisations), multi)
	}
}

// Test leads read reports and allocations, never what holds raw data.
func TestTestLeadNeverReadsRawData(t *testing.T) {
	for _, id := range Plan(register(t), Where{Bucket: "b"}) {
		if id.Kind != KindTestLead {
			continue
		}
		doc := string(id.Policy.JSON())
		for _, root := range []string{cut.InboxRoot, cut.QuarantineRoot, cut.CutsRoot} {
			if strings.Contains(doc, "b/"+root) || strings.Contains(doc, `"`+root) {
				t.Errorf("the test lead's policy names %s:\n%s", root, doc)
			}
		}
		return
	}
	t.Fatal("no test lead identity")
}

// An MPID the register gives the ees role (a central system onboarded in
// plans) may read its EES packs, packs/<environment>/ees-<MPID>/.
func TestEESReadsItsPacks(t *testing.T) {
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := programme.Decode("programme.yaml", []byte("version: x\norganisations:\n  - name: EES Co\n    sit: true\n    mpids:\n      - {mpid: ECOE, roles: [ees]}\n"), types)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range Plan(reg, Where{Bucket: "programme", Prefix: "sit/"}) {
		if id.Kind == KindParticipant && !strings.Contains(string(id.Policy.JSON()), "/packs/*/ees-ECOE/*") {
			t.Errorf("%s: policy %s lets it read no EES pack", id.Name, id.Policy.JSON())
		}
	}
}
