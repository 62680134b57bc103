// Package access derives, from the programme register, who may do what in
// a MinIO (S3) store: one identity per organisation, covering all its
// MPIDs, and one for each of the programme's jobs (the worker that runs
// datacut run, the SI that allocates, test leads who read, the operator
// who prunes and administers), each with an S3 IAM policy document. It
// only derives; applying them to a server is the admin command's job.
package access

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/reconcile"
)

// Kinds of identity.
const (
	KindParticipant = "participant"
	KindWorker      = "worker"
	KindSI          = "si"
	KindTestLead    = "test-lead"
	KindOperator    = "operator"
)

// Identity is one MinIO user and the policy it is given.
type Identity struct {
	// Name is the user's access key and the policy's name: short enough
	// for MinIO (at most 20 characters), never a secret.
	Name         string   `json:"name"`
	Kind         string   `json:"kind"`
	Organisation string   `json:"organisation,omitempty"`
	MPIDs        []string `json:"mpids,omitempty"`
	// Can says in words what the policy allows.
	Can    []string `json:"can"`
	Policy Policy   `json:"policy"`
}

// Policy is an S3 IAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy.
type Statement struct {
	Sid       string                         `json:"Sid"`
	Effect    string                         `json:"Effect"`
	Action    []string                       `json:"Action"`
	Resource  []string                       `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// JSON is the policy document as MinIO takes it.
func (p Policy) JSON() []byte {
	b, _ := json.MarshalIndent(p, "", "  ")
	return b
}

// Where is the store the policies are for: a bucket and an optional
// prefix (the s3 store's), since every resource is named in full.
type Where struct {
	Bucket, Prefix string
}

func (w Where) object(pattern string) string {
	return "arn:aws:s3:::" + w.Bucket + "/" + w.key(pattern)
}

func (w Where) key(pattern string) string {
	if p := strings.Trim(w.Prefix, "/"); p != "" {
		return p + "/" + pattern
	}
	return pattern
}

// Plan derives every identity of the register for the store at w, the
// participants in register order, then the programme's jobs.
func Plan(reg *programme.Register, w Where) []Identity {
	var out []Identity
	for _, o := range reg.Organisations {
		out = append(out, participant(o, w))
	}
	return append(out, jobs(w)...)
}

// participant may send its MPIDs' cuts, read back what came of them (its
// own versions, quarantine, reports) and fetch the load packs addressed to
// its MPIDs; nothing else, not even a listing.
func participant(o programme.Organisation, w Where) Identity {
	id := Identity{Name: participantName(o), Kind: KindParticipant, Organisation: o.Name}
	var inbox, own, packs, lists, records, worklists []string
	for _, m := range o.MPIDs {
		id.MPIDs = append(id.MPIDs, m.MPID)
		inbox = append(inbox, w.object(cut.InboxRoot+m.MPID+"/*"))
		records = append(records, w.object(audit.SubmitPattern(m.MPID)))
		for _, root := range []string{cut.CutsRoot, cut.QuarantineRoot, cut.ReportsRoot} {
			own = append(own, w.object(root+"*/mpid="+m.MPID+"/*"))
			lists = append(lists, w.key(root+"*/mpid="+m.MPID+"/*"))
		}
		for _, role := range slices.Sorted(slices.Values(m.Roles)) {
			// allocations/<plan>/<run>/packs/<environment>/<role>-<MPID>/
			packs = append(packs, w.object(cut.AllocationsRoot+"*/*/"+cut.PacksDir+"*/"+role+"-"+m.MPID+"/*"))
			lists = append(lists, w.key(cut.AllocationsRoot+"*/*/"+cut.PacksDir+"*/"+role+"-"+m.MPID+"/*"))
		}
		lists = append(lists, w.key(cut.InboxRoot+m.MPID+"/*"))
		// reconciliation/<run>/worklists/<MPID>.csv: its own findings.
		worklists = append(worklists, w.object(reconcile.WorklistKey("*", m.MPID)))
	}
	// Which run is the latest says nothing of anyone's findings.
	worklists = append(worklists, w.object(reconcile.LatestKey))
	id.Can = []string{
		"send cuts: put (and take back) objects under " + strings.Join(prefixed(w, id.MPIDs, cut.InboxRoot, "/"), ", "),
		"read its own versions, quarantine and reports: <root>/<cut>/mpid=<its MPID>/ under cuts/, quarantine/, reports/",
		"read its load packs: allocations/<plan>/<run>/packs/<environment>/<role>-<its MPID>/",
		"read its reconciliation worklists, " + w.key(reconcile.WorklistKey("<run>", "<its MPID>")) + ", and which run is the latest (" + w.key(reconcile.LatestKey) + "); no other file of a run",
		"add the audit records of its submissions: " + w.key(audit.SubmitPattern("<its MPID>")) + " (put only, never read)",
		"list only those prefixes",
	}
	id.Policy = Policy{Version: "2012-10-17", Statement: []Statement{
		{Sid: "SendCuts", Effect: "Allow", Action: []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}, Resource: inbox},
		{Sid: "ReadOwn", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: append(append(own, packs...), worklists...)},
		{Sid: "AuditSubmissions", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: records},
		bucketStatement(w, "ListOwn", lists),
		locate(w),
	}}
	return id
}

// participantName is an organisation's identity: p- and its first MPID.
func participantName(o programme.Organisation) string { return "p-" + o.MPIDs[0].MPID }

// Organisation is the organisation of the register whose identity is name.
func Organisation(reg *programme.Register, name string) (programme.Organisation, bool) {
	if reg != nil {
		for _, o := range reg.Organisations {
			if len(o.MPIDs) > 0 && participantName(o) == name {
				return o, true
			}
		}
	}
	return programme.Organisation{}, false
}

func prefixed(w Where, mpids []string, root, suffix string) []string {
	out := make([]string, len(mpids))
	for i, m := range mpids {
		out[i] = w.key(root + m + suffix)
	}
	return out
}

// jobs are the identities of the programme's own work.
func jobs(w Where) []Identity {
	all := func(roots ...string) (objs, lists []string) {
		for _, r := range roots {
			objs = append(objs, w.object(r+"*"))
			lists = append(lists, w.key(r+"*"))
		}
		return
	}
	rw := []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
	ro := []string{"s3:GetObject"}
	inbox, inboxL := all(cut.InboxRoot)
	written, writtenL := all(cut.CutsRoot, cut.QuarantineRoot, cut.ReportsRoot)
	cuts, cutsL := all(cut.CutsRoot)
	recon, _ := all(reconcile.Root) // read by key: latest.json, a run's manifest and findings
	allocs, allocsL := all(cut.AllocationsRoot)
	reports, reportsL := all(cut.ReportsRoot)
	everything, everythingL := all("")
	auditTrail, _ := all(audit.Root)
	// Jobs that change the store add to the audit trail (new objects, never
	// read back: reading it is the operator's).
	appendAudit := Statement{Sid: "Audit", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: auditTrail}
	policy := func(sts ...Statement) Policy { return Policy{Version: "2012-10-17", Statement: append(sts, locate(w))} }
	return []Identity{
		{Name: "datacut-worker", Kind: KindWorker, Can: []string{"datacut run: read and remove the inbox; write cuts/, quarantine/, reports/; add to audit/"},
			Policy: policy(
				Statement{Sid: "TakeSubmissions", Effect: "Allow", Action: []string{"s3:GetObject", "s3:DeleteObject"}, Resource: inbox},
				Statement{Sid: "Publish", Effect: "Allow", Action: rw, Resource: written},
				appendAudit,
				bucketStatement(w, "List", append(inboxL, writtenL...)))},
		{Name: "datacut-si", Kind: KindSI, Can: []string{"allocate: read cuts/ and reconciliation/ (a plan's policy.exclude_findings); write allocations/; add to audit/"},
			Policy: policy(
				Statement{Sid: "ReadCuts", Effect: "Allow", Action: ro, Resource: cuts},
				Statement{Sid: "ReadReconciliation", Effect: "Allow", Action: ro, Resource: recon},
				Statement{Sid: "Allocate", Effect: "Allow", Action: rw, Resource: allocs},
				appendAudit,
				bucketStatement(w, "List", append(cutsL, allocsL...)))},
		{Name: "datacut-testlead", Kind: KindTestLead, Can: []string{"read reports/ and allocations/ (reports, packs); never the inbox, cuts or quarantine"},
			Policy: policy(
				Statement{Sid: "Read", Effect: "Allow", Action: ro, Resource: append(reports, allocs...)},
				bucketStatement(w, "List", append(reportsL, allocsL...)))},
		{Name: "datacut-operator", Kind: KindOperator, Can: []string{"everything under the store: datacut prune, status, access"},
			Policy: policy(
				Statement{Sid: "All", Effect: "Allow", Action: rw, Resource: everything},
				bucketStatement(w, "List", everythingL))},
	}
}

// bucketStatement allows listing the bucket under the prefixes only.
func bucketStatement(w Where, sid string, prefixes []string) Statement {
	return Statement{Sid: sid, Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{"arn:aws:s3:::" + w.Bucket},
		Condition: map[string]map[string][]string{"StringLike": {"s3:prefix": prefixes}}}
}

// locate lets S3 clients ask where the bucket is, which they do first.
func locate(w Where) Statement {
	return Statement{Sid: "Locate", Effect: "Allow", Action: []string{"s3:GetBucketLocation"}, Resource: []string{"arn:aws:s3:::" + w.Bucket}}
}

// Check says what is wrong with a plan for MinIO: names too long or twice.
func Check(ids []Identity) error {
	seen := map[string]bool{}
	var errs []string
	for _, id := range ids {
		if len(id.Name) > 20 || len(id.Name) < 3 {
			errs = append(errs, fmt.Sprintf("identity %q: MinIO access keys are 3 to 20 characters", id.Name))
		}
		if seen[id.Name] {
			errs = append(errs, fmt.Sprintf("identity %q twice", id.Name))
		}
		seen[id.Name] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
