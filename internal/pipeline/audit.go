package pipeline

import (
	"context"
	"fmt"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
)

// audit records what the run made of a taken submission and removes
// (its sender's submit record is datacut submit's). Without a receipt (rc
// nil) it records only the removal of a submission taken before.
func (r *runner) audit(ctx context.Context, p *cut.Pending, rc *cut.Receipt, m *cut.Manifest, removed []string) error {
	base := audit.Record{Tool: r.opt.Tool, MPID: p.MPID, Cut: p.Cut, Submission: p.ID}
	take := base
	take.Action = audit.ActionTake
	take.Detail = "raw files of a submission taken before removed"
	if rc != nil {
		take.Detail = rc.Status
		for _, in := range p.Files {
			take.Objects = append(take.Objects, audit.Object{Op: audit.OpRead, Key: in.Key, Size: in.Size})
		}
		take.Objects = append(take.Objects, audit.Object{Op: audit.OpRead, Key: cut.SubmissionKey(p.MPID, p.Cut, p.ID), SHA256: p.SHA256})
	}
	if m != nil {
		take.Detail = fmt.Sprintf("version %d", m.Version)
		if rc.Latest {
			take.Detail += ", the latest"
		}
		for _, t := range m.Tables {
			take.Objects = append(take.Objects, audit.Object{Op: audit.OpPut, Key: t.Key, Size: t.Bytes})
		}
		take.Objects = append(take.Objects, audit.Object{Op: audit.OpPut, Key: cut.ManifestKey(rc.Prefix)}, audit.Object{Op: audit.OpPut, Key: cut.LatestKey(p.Cut, p.MPID)})
		for _, in := range m.Inputs {
			if in.RejectedKey != "" && in.Submission == p.ID {
				take.Objects = append(take.Objects, audit.Object{Op: audit.OpPut, Key: in.RejectedKey})
			}
		}
	}
	if rc != nil {
		for _, q := range rc.Quarantined {
			take.Objects = append(take.Objects, audit.Object{Op: audit.OpPut, Key: q.Key, SHA256: q.SHA256}, audit.Object{Op: audit.OpPut, Key: q.Report})
		}
		take.Objects = append(take.Objects, audit.Object{Op: audit.OpPut, Key: cut.ReceiptKey(p.Cut, p.MPID, p.ID)})
	}
	for _, k := range removed {
		take.Objects = append(take.Objects, audit.Object{Op: audit.OpDelete, Key: k})
	}
	return audit.Write(ctx, r.opt.Store, take)
}
