package pipeline

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// takeAll takes one MPID's submissions of one cut type, in order: each
// becomes a version of the cut, or waits in the inbox, or (every file it
// sent broken) is quarantined whole.
func (r *runner) takeAll(ctx context.Context, pc *pendingCut) []CutResult {
	out := make([]CutResult, 0, len(pc.subs))
	log := r.opt.Log.With().Str("cut", pc.cut).Str("mpid", pc.mpid).Logger()
	d := r.opt.Pipelines.ByName[pc.cut]
	var versions []*cut.Manifest
	var err error
	if d != nil {
		versions, err = cut.Versions(ctx, r.opt.Store, pc.cut, pc.mpid)
	}
	for _, p := range pc.subs {
		res := CutResult{Cut: pc.cut, MPID: pc.mpid, Submission: p.ID, Inputs: len(p.Files), Since: p.Since}
		switch {
		case d == nil:
			res.Status = StatusNoPipeline
			res.Error = fmt.Sprintf("no pipeline named %q: files under %s are left alone (pipelines: %s)", pc.cut, cut.InboxDir(pc.mpid, pc.cut), r.opt.Pipelines.describe())
			log.Warn().Msg(res.Error)
		case err != nil:
			res = failed(res, fmt.Errorf("reading the published versions: %w", err), log)
		case ctx.Err() != nil:
			res = failed(res, ctx.Err(), log)
		default:
			res = r.take(ctx, res, d, p, &versions, log.With().Str("submission", p.ID).Logger())
		}
		out = append(out, res)
	}
	return out
}

// take takes one submission. A crash anywhere is redone by the next run:
// quarantine copies and tables are written before the manifest, the
// manifest before latest.json, that before the audit records, those before
// the receipt, and the raw files are removed last.
func (r *runner) take(ctx context.Context, res CutResult, d *Definition, p *cut.Pending, versions *[]*cut.Manifest, log zerolog.Logger) CutResult {
	if p.ID != "" && p.SHA256 != "" { // taken already, perhaps by a run that stopped before removing it
		rc, err := cut.ReadReceipt(ctx, r.opt.Store, p.Cut, p.MPID, p.ID)
		switch {
		case err == nil && rc.Submission.SHA256 == p.SHA256:
			res.Status, res.Version, res.CutID, res.Prefix, res.AsAt = StatusAlreadyPublished, rc.Version, rc.CutID, rc.Prefix, rc.AsAt
			res.Tables = len(rc.Rows) // its rejections and quarantine were reported when it was taken
			for _, n := range rc.Rows {
				res.Rows += n
			}
			log.Info().Int("version", rc.Version).Msg("submission taken already")
			return r.settle(ctx, res, p, true)
		case err == nil:
			return waiting(res, fmt.Sprintf("submission id %s was used already (%s): send this one under a new id", p.ID, cut.ReceiptKey(p.Cut, p.MPID, p.ID)), log)
		case !store.IsNotFound(err):
			return failed(res, err, log)
		}
	}
	if p.Waiting != "" {
		return waiting(res, p.Waiting, log)
	}
	for _, m := range *versions { // published by a run that stopped before its receipt
		if m.Submission.ID == p.ID && m.Submission.SHA256 == p.SHA256 {
			return r.finish(ctx, res, p, m, *versions, log)
		}
	}
	s := p.Submission
	var base *cut.Manifest
	if s.Kind == cut.KindAmend {
		var why string
		if base, why = amendable(d, s, *versions, r.opt.Key.Fingerprint()); why != "" {
			return waiting(res, why, log)
		}
	}
	next := 1
	if n := len(*versions); n > 0 {
		next = (*versions)[n-1].Version + 1
	}
	b, err := r.build(ctx, d, p, base, next)
	if err != nil {
		return failed(res, err, log)
	}
	version := 0
	if b.m != nil {
		version = b.m.Version
	}
	if err := r.quarantineAll(ctx, b.broken, b.quarantined, nextStep(p, version), log); err != nil {
		return failed(res, err, log)
	}
	if b.m == nil {
		res.Status, res.Quarantined = StatusNothingLeft, len(b.quarantined)
		rc := &cut.Receipt{Submission: cut.SubmissionRef{ID: p.ID, SHA256: p.SHA256}, Cut: p.Cut, MPID: p.MPID, Status: StatusNothingLeft,
			AsAt: s.AsAt, Amends: s.Amends, Quarantined: b.quarantined, Finished: nowUTC()}
		if err := r.audit(ctx, p, rc, nil, r.rawKeys(p)); err != nil {
			return failed(res, err, log)
		}
		if err := cut.WriteReceipt(ctx, r.opt.Store, rc); err != nil {
			return failed(res, err, log)
		}
		log.Warn().Int("quarantined", res.Quarantined).Msg("every file of the submission was quarantined: nothing published")
		return r.settle(ctx, res, p, false)
	}
	m := b.m
	if w := shrinkWarning(s, m, cut.LatestOf(*versions)); w != "" {
		m.Warnings = append(m.Warnings, w)
		log.Warn().Msg(w)
	}
	prefix := cut.Prefix(p.Cut, p.MPID, m.CutID)
	if err := cut.WriteManifest(ctx, r.opt.Store, prefix, m); err != nil {
		return failed(res, err, log)
	}
	*versions = append(*versions, m)
	return r.finish(ctx, res, p, m, *versions, log)
}

// finish makes a published version the latest if it is, writes the
// submission's receipt and removes its raw files.
func (r *runner) finish(ctx context.Context, res CutResult, p *cut.Pending, m *cut.Manifest, versions []*cut.Manifest, log zerolog.Logger) CutResult {
	latest := cut.LatestOf(versions)
	if err := cut.WriteLatest(ctx, r.opt.Store, p.Cut, p.MPID, cut.LatestRef(latest)); err != nil {
		return failed(res, err, log)
	}
	rc := receiptOf(m, latest == m)
	if err := r.audit(ctx, p, rc, m, r.rawKeys(p)); err != nil {
		return failed(res, err, log)
	}
	if err := cut.WriteReceipt(ctx, r.opt.Store, rc); err != nil {
		return failed(res, err, log)
	}
	res.Status, res.CutID, res.Prefix, res.Version, res.Amends, res.AsAt, res.Latest = StatusPublished, m.CutID, rc.Prefix, m.Version, m.Amends, m.AsAt, rc.Latest
	res.Tables, res.Rejected, res.Quarantined, res.DuplicateUnits, res.Warnings = len(m.Tables), m.Rejected.Count, len(m.Quarantined), rc.DuplicateUnits, m.Warnings
	res.FileErrors = m.Counts["fileErrors"]
	if rc.DuplicateUnits > 0 {
		log.Warn().Int("units", rc.DuplicateUnits).Msg("MPAN units found twice in one flow: listed in the manifest's duplicateUnits")
	}
	for _, t := range m.Tables {
		res.Rows += t.Rows
	}
	log.Info().Str("prefix", res.Prefix).Int("version", m.Version).Bool("latest", res.Latest).Int("tables", res.Tables).Int64("rows", res.Rows).
		Int("rejected", res.Rejected).Int("quarantined", res.Quarantined).Msg("version published")
	return r.settle(ctx, res, p, false)
}

// shrinkWarning says when a full submission holds less than half the rows
// of the latest version before it: a full submission replaces the whole
// cut, and a correction sent as one loses every other row.
func shrinkWarning(s *cut.Submission, m, prev *cut.Manifest) string {
	if s.Kind != cut.KindFull || prev == nil {
		return ""
	}
	now, before := m.Rows(), prev.Rows()
	if now*2 >= before {
		return ""
	}
	return fmt.Sprintf("version %d holds %d rows, version %d (the latest before it) %d: a full submission replaces the whole cut; to correct or add files, send an amendment (datacut submit --amend %d)",
		m.Version, now, prev.Version, before, prev.Version)
}

func receiptOf(m *cut.Manifest, latest bool) *cut.Receipt {
	rc := &cut.Receipt{Submission: m.Submission, Cut: m.Cut, MPID: m.MPID, Status: StatusPublished, Version: m.Version, CutID: m.CutID,
		Prefix: cut.Prefix(m.Cut, m.MPID, m.CutID), AsAt: m.AsAt, Amends: m.Amends, Latest: latest, Rows: map[string]int64{},
		Rejected: m.Rejected.Count, ByRule: m.Rejected.ByRule, Quarantined: m.Quarantined, Warnings: m.Warnings, Finished: m.Timings.Finished}
	for _, t := range m.Tables {
		rc.Rows[t.Name] = t.Rows
	}
	if m.Duplicates != nil {
		rc.DuplicateUnits = m.Duplicates.Count
	}
	for _, in := range m.Inputs {
		if in.RejectedKey != "" && in.Submission == m.Submission.ID {
			rc.RejectedIn = append(rc.RejectedIn, in.RejectedKey)
		}
	}
	return rc
}

// amendable finds the version an amendment amends, or says why the
// amendment must wait.
func amendable(d *Definition, s *cut.Submission, versions []*cut.Manifest, keyFingerprint string) (*cut.Manifest, string) {
	base, err := cut.Amended(s, versions)
	if err != nil {
		return nil, err.Error() + ": it waits for that version, or for a corrected submission.json"
	}
	if base.Rules.Hash != d.rules.Hash || base.KeyFingerprint != keyFingerprint {
		return nil, fmt.Sprintf("version %d was masked with other DPIA rules or another key, so its rows cannot be carried over: send a full submission instead", base.Version)
	}
	return base, ""
}

func waiting(res CutResult, why string, log zerolog.Logger) CutResult {
	res.Status, res.Waiting = StatusWaiting, why
	log.Info().Str("why", why).Msg("submission waits in the inbox")
	return res
}

func failed(res CutResult, err error, log zerolog.Logger) CutResult {
	res.Status, res.Error = StatusFailed, err.Error()
	log.Error().Err(err).Msg("submission failed")
	return res
}

// settle removes a taken submission's raw files, unless asked to keep them
// (raw personal data should not outlive its masked copy): the files first
// and submission.json last, so a run stopped half-way finds the submission
// again, and its receipt, and finishes. The audit record of taking it,
// written before its receipt, lists these removals; finishing one taken
// before records them anew.
func (r *runner) settle(ctx context.Context, res CutResult, p *cut.Pending, takenBefore bool) CutResult {
	keys := r.rawKeys(p)
	if len(keys) == 0 {
		return res
	}
	if takenBefore {
		if err := r.audit(ctx, p, nil, nil, keys); err != nil {
			return failed(res, fmt.Errorf("taken, but writing the audit record of removing its raw files failed: %w", err), r.opt.Log)
		}
	}
	for _, k := range keys {
		if err := r.opt.Store.Delete(ctx, k); err != nil {
			res.Error = "taken, but removing its raw files failed: " + err.Error()
			r.opt.Log.Error().Err(err).Str("input", k).Msg("removing raw input")
			return res
		}
	}
	return res
}

// rawKeys are what settle removes: none when raw files are kept.
func (r *runner) rawKeys(p *cut.Pending) []string {
	if r.opt.KeepRaw {
		return nil
	}
	keys := make([]string, 0, len(p.Files)+1)
	for _, f := range p.Files {
		keys = append(keys, f.Key)
	}
	return append(keys, cut.SubmissionKey(p.MPID, p.Cut, p.ID))
}
