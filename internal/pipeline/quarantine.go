package pipeline

import (
	"context"
	"encoding/json"
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

// quarantineOf says where a broken input goes.
func quarantineOf(pc *pendingCut, b *brokenInput) cut.Quarantine {
	key, report := cut.QuarantineKeys(pc.cut, pc.mpid, cut.BaseName(b.input.Key), b.sha256)
	return cut.Quarantine{Input: b.input.Key, SHA256: b.sha256, Key: key, Report: report, Rule: b.finding.Rule, Reason: b.finding.Message}
}

func (r *runner) quarantineAll(ctx context.Context, broken []*brokenInput, qs []cut.Quarantine, log zerolog.Logger) error {
	for i, b := range broken {
		if err := r.quarantine(ctx, b, qs[i]); err != nil {
			return err
		}
		log.Warn().Str("input", b.input.Key).Str("rule", qs[i].Rule).Msg("input quarantined: " + qs[i].Reason)
	}
	return nil
}

// quarantine moves a broken input to quarantine/ with its report.
func (r *runner) quarantine(ctx context.Context, b *brokenInput, q cut.Quarantine) error {
	fix := b.fix
	if fix == "" {
		fix = "correct the file (the finding names line, group, item and rule) and upload it again to " + b.input.Key +
			" together with every other file of this cut: a run publishes the files it finds there as the whole cut"
	}
	rep, _ := json.MarshalIndent(map[string]any{"input": b.input.Key, "finding": b.finding, "details": b.report, "fix": fix}, "", "  ")
	if err := r.opt.Store.Put(ctx, q.Report, strings.NewReader(string(rep)), int64(len(rep))); err != nil {
		return err
	}
	rc, err := r.opt.Store.Get(ctx, b.input.Key)
	if err != nil {
		return err
	}
	err = r.opt.Store.Put(ctx, q.Key, rc, b.input.Size)
	rc.Close()
	if err != nil {
		return err
	}
	return r.opt.Store.Delete(ctx, b.input.Key)
}
