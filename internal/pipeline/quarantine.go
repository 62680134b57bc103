package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/store"
)

// brokenInput is a file that cannot be published at all.
type brokenInput struct {
	input   store.Info
	sha256  string // of its whole content
	finding dflow.Finding
	report  any
	fix     string // what to do, when not the usual correct-and-upload-again
}

// quarantineOf says where a broken input of a submission goes.
func quarantineOf(p *cut.Pending, b *brokenInput) cut.Quarantine {
	key, report := cut.QuarantineKeys(p.Cut, p.MPID, p.ID, cut.BaseName(b.input.Key))
	return cut.Quarantine{Input: b.input.Key, SHA256: b.sha256, Key: key, Report: report, Rule: b.finding.Rule, Reason: b.finding.Message}
}

// quarantineAll copies a submission's broken inputs to quarantine/ with
// their reports; the inbox copies go with the rest of the submission once
// it is taken. next says how to send a corrected file.
func (r *runner) quarantineAll(ctx context.Context, broken []*brokenInput, qs []cut.Quarantine, next string, log zerolog.Logger) error {
	for i, b := range broken {
		if err := r.quarantine(ctx, b, qs[i], next); err != nil {
			return err
		}
		log.Warn().Str("input", b.input.Key).Str("rule", qs[i].Rule).Msg("input quarantined: " + qs[i].Reason)
	}
	return nil
}

// quarantine copies a broken input to quarantine/ with its report.
func (r *runner) quarantine(ctx context.Context, b *brokenInput, q cut.Quarantine, next string) error {
	fix := b.fix
	if fix == "" {
		fix = "correct the file (the finding names line, group, item and rule), then " + next
	}
	rep, _ := json.MarshalIndent(map[string]any{"input": b.input.Key, "finding": b.finding, "details": b.report, "fix": fix}, "", "  ")
	if err := r.opt.Store.Put(ctx, q.Report, strings.NewReader(string(rep)), int64(len(rep))); err != nil {
		return err
	}
	rc, err := r.opt.Store.Get(ctx, b.input.Key)
	if err != nil {
		return err
	}
	defer rc.Close()
	return r.opt.Store.Put(ctx, q.Key, rc, b.input.Size)
}

// nextStep says how a participant sends a corrected file: as an amendment
// of the version just published, or in a new submission if none was.
func nextStep(p *cut.Pending, version int) string {
	if version == 0 {
		return fmt.Sprintf("send the corrected files as a new submission: datacut submit --mpid %s --cut %s FILE... (see docs/submissions.md)", p.MPID, p.Cut)
	}
	return fmt.Sprintf("send it as an amendment of version %d, which holds every other file: datacut submit --mpid %s --cut %s --amend %d --replace NAME FILE (see docs/submissions.md)", version, p.MPID, p.Cut, version)
}
