package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/store"
)

// cut publishes one pending cut: broken inputs are set aside and the rest
// published, then the manifest, the quarantine and the marker are written,
// in that order, so a crash anywhere is redone without duplicates.
func (r *runner) cut(ctx context.Context, pc *pendingCut) CutResult {
	res := CutResult{Cut: pc.cut, MPID: pc.mpid, Inputs: len(pc.inputs)}
	log := r.opt.Log.With().Str("cut", pc.cut).Str("mpid", pc.mpid).Logger()
	d := r.opt.Pipelines.ByName[pc.cut]
	if d == nil {
		res.Status = StatusNoPipeline
		res.Error = fmt.Sprintf("no pipeline named %q: files under %s are left alone (pipelines: %s)", pc.cut, cut.InboxDir(pc.mpid, pc.cut), r.opt.Pipelines.describe())
		log.Warn().Msg(res.Error)
		return res
	}
	inputs := pc.inputs
	var quarantined []cut.Quarantine
	var broken []*brokenInput
	for {
		if len(inputs) == 0 {
			res.Status = StatusNothingLeft
			res.Quarantined = len(quarantined)
			if err := r.quarantineAll(ctx, broken, quarantined, log); err != nil {
				return failed(res, err, log)
			}
			return res
		}
		marker := cut.MarkerKey(pc.cut, pc.mpid, listingID(d, pc.mpid, inputs, r.opt.Key))
		if b, err := store.ReadAll(ctx, r.opt.Store, marker); err == nil {
			var mk cut.Marker
			json.Unmarshal(b, &mk)
			res.Status, res.Prefix, res.CutID = StatusAlreadyPublished, mk.Prefix, mk.CutID
			log.Info().Str("prefix", res.Prefix).Msg("cut already published")
			return r.removeRaw(ctx, res, inputs)
		} else if !store.IsNotFound(err) {
			return failed(res, err, log)
		}
		m, bad, err := r.publish(ctx, d, pc, inputs)
		if err != nil {
			return failed(res, err, log)
		}
		if bad != nil {
			// Left in the inbox until the manifest is written: a crash
			// before then redoes the same cut.
			broken = append(broken, bad)
			quarantined = append(quarantined, quarantineOf(pc, bad))
			inputs = without(inputs, bad.input.Key)
			continue // the cut is what remains
		}
		res.CutID, res.Prefix = m.CutID, cut.Prefix(pc.cut, pc.mpid, m.CutID)
		m.Quarantined = quarantined
		if err := cut.WriteManifest(ctx, r.opt.Store, res.Prefix, m); err != nil {
			return failed(res, err, log)
		}
		if err := r.quarantineAll(ctx, broken, quarantined, log); err != nil {
			return failed(res, err, log)
		}
		mb, _ := json.Marshal(cut.Marker{CutID: res.CutID, Prefix: res.Prefix})
		if err := r.opt.Store.Put(ctx, marker, bytes.NewReader(mb), int64(len(mb))); err != nil {
			return failed(res, err, log)
		}
		res.Status, res.Tables, res.Rejected, res.Quarantined = StatusPublished, len(m.Tables), m.Rejected.Count, len(quarantined)
		for _, t := range m.Tables {
			res.Rows += t.Rows
		}
		log.Info().Str("prefix", res.Prefix).Int("tables", res.Tables).Int64("rows", res.Rows).Int("rejected", res.Rejected).
			Int("quarantined", res.Quarantined).Msg("cut published")
		return r.removeRaw(ctx, res, inputs)
	}
}

func failed(res CutResult, err error, log zerolog.Logger) CutResult {
	res.Status, res.Error = StatusFailed, err.Error()
	log.Error().Err(err).Msg("cut failed")
	return res
}

func without(in []store.Info, key string) []store.Info {
	var out []store.Info
	for _, i := range in {
		if i.Key != key {
			out = append(out, i)
		}
	}
	return out
}

// removeRaw deletes a published cut's inbox files unless asked to keep
// them: raw personal data should not outlive its masked copy.
func (r *runner) removeRaw(ctx context.Context, res CutResult, inputs []store.Info) CutResult {
	if r.opt.KeepRaw {
		return res
	}
	for _, in := range inputs {
		if err := r.opt.Store.Delete(ctx, in.Key); err != nil {
			res.Error = "published, but removing raw input failed: " + err.Error()
			r.opt.Log.Error().Err(err).Str("input", in.Key).Msg("removing raw input")
		}
	}
	return res
}

// hashCounter hashes and counts what passes through.
type hashCounter struct {
	h hash.Hash
	n int64
	r *runner
}

func (hc *hashCounter) Write(p []byte) (int, error) {
	hc.h.Write(p)
	hc.n += int64(len(p))
	hc.r.progress(int64(len(p)))
	return len(p), nil
}

// cutBuild is one cut being published: its definition, its manifest so far
// and its tables. Formats read files into it.
type cutBuild struct {
	def  *Definition
	mpid string              // the inbox folder's
	reg  *programme.Register // nil: senders are not checked
	m    *cut.Manifest
	tw   *tables
}

// checkSender says whether the file's sender may send this cut into this
// MPID's folder (the programme register decides); a file that may not is
// broken, with rule header.sender.
func (c *cutBuild) checkSender(in store.Info, sender string) *brokenInput {
	if c.reg == nil {
		return nil
	}
	err := c.reg.MaySend(c.mpid, sender, c.def.Name)
	if err == nil {
		return nil
	}
	fix := "correct the sender MPID in the file's header (ZHV), then upload it again"
	if cut.IsMPID(sender) { // a header field is repeated only when it is an MPID
		fix = fmt.Sprintf("upload the file to %s (its sender's folder), or ask the SI to correct the programme register if %s may send %s for %s", cut.InboxDir(sender, c.def.Name), sender, c.def.Name, c.mpid)
	}
	return &brokenInput{input: in, finding: dflow.Finding{Line: 1, Group: "ZHV", Rule: programme.RuleSender, Severity: dflow.SevError, Message: err.Error()}, fix: fix}
}

// publish reads every input into masked table files and publishes them.
// A broken input stops it: the caller quarantines the input and publishes
// what remains.
func (r *runner) publish(ctx context.Context, d *Definition, pc *pendingCut, inputs []store.Info) (*cut.Manifest, *brokenInput, error) {
	started := time.Now().UTC()
	m := &cut.Manifest{Cut: pc.cut, MPID: pc.mpid, Tool: r.opt.Tool, MaskScheme: mask.SchemeVersion,
		Rules:          cut.RulesRef{Path: d.rules.Path, Version: d.rules.Version, Hash: d.rules.Hash},
		KeyFingerprint: r.opt.Key.Fingerprint(), Rejected: cut.Rejections{ByRule: map[string]int{}, Instances: []cut.Rejected{}},
		Counts: map[string]int{}}
	tw := newTables(store.TempDir(r.opt.Store), map[string]string{
		"datacut.cut": pc.cut, "datacut.mpid": pc.mpid, "datacut.mask_scheme": mask.SchemeVersion,
		"datacut.rules_version": d.rules.Version, "datacut.key_fingerprint": r.opt.Key.Fingerprint()}, r.maskers[d.Name], r.opt.Mem)
	defer tw.discard()
	defer tw.stop()
	c := &cutBuild{def: d, mpid: pc.mpid, reg: r.opt.Pipelines.Register, m: m, tw: tw}
	read := d.in.reader()
	bySHA := map[string]string{} // an input's SHA-256 → its key
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		rc, err := r.opt.Store.Get(ctx, in.Key)
		if err != nil {
			return nil, nil, err
		}
		hc := &hashCounter{h: sha256.New(), r: r}
		src := io.TeeReader(rc, hc)
		info, broken, err := read(c, in, src)
		if werr := tw.barrier(); err == nil && broken == nil && werr != nil {
			if errors.Is(werr, errSchema) {
				broken = &brokenInput{input: in, finding: dflow.Finding{Rule: "pipeline.schema", Severity: dflow.SevError, Message: werr.Error()}}
			} else {
				err = werr
			}
		}
		if err == nil {
			_, err = io.Copy(io.Discard, src) // hash what the reader did not need
		}
		rc.Close()
		if err != nil {
			r.progress(in.Size - hc.n)
			return nil, nil, err
		}
		sum := hex.EncodeToString(hc.h.Sum(nil))
		if first, ok := bySHA[sum]; ok && broken == nil {
			broken = &brokenInput{input: in, finding: dflow.Finding{Rule: "cut.duplicate-file", Severity: dflow.SevError,
				Message: fmt.Sprintf("the same content as %s (SHA-256 %s): a file is sent once; remove one of them", cut.BaseName(first), sum[:16])}}
		}
		if broken != nil {
			broken.sha256 = sum
			return nil, broken, nil
		}
		bySHA[sum] = in.Key
		info.Key, info.Size, info.SHA256 = in.Key, hc.n, sum
		m.Inputs = append(m.Inputs, info)
	}
	// The cut's id is its content's: published somewhere already (the same
	// files uploaded again), the tables there are these tables.
	m.CutID = contentID(d, pc.mpid, m.Inputs, r.opt.Key)
	prefix := cut.Prefix(pc.cut, pc.mpid, m.CutID)
	names := make([]string, 0, len(tw.files))
	for n := range tw.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := tw.files[n]
		if err := t.Close(); err != nil {
			return nil, nil, err
		}
		st, err := os.Stat(t.Path)
		if err != nil {
			return nil, nil, err
		}
		key := cut.TableKey(prefix, n)
		if err := store.PutFile(ctx, r.opt.Store, key, t.Path); err != nil {
			return nil, nil, err
		}
		delete(tw.files, n)
		m.Tables = append(m.Tables, cut.Table{Name: n, Key: key, Rows: t.Rows, Bytes: st.Size()})
	}
	m.Timings = cut.Timings{Started: started, Finished: time.Now().UTC()}
	m.Timings.Seconds = m.Timings.Finished.Sub(started).Seconds()
	return m, nil, nil
}

// tally counts a unit read from an input and says whether to publish it;
// a rejected unit is recorded in the manifest instead.
func (c *cutBuild) tally(info *cut.Input, in store.Info, rejected bool, ordinal, line int, findings []dflow.Finding) bool {
	info.Instances++
	c.m.Counts["instances"]++
	if rejected {
		info.Rejected++
		c.reject(in, ordinal, line, findings)
		return false
	}
	c.m.Counts["published"]++
	return true
}

func (c *cutBuild) reject(in store.Info, ordinal, line int, findings []dflow.Finding) {
	m := c.m
	m.Rejected.Count++
	var rules []string
	seen := map[string]bool{}
	for _, f := range findings {
		if f.Severity == dflow.SevError && !seen[f.Rule] {
			seen[f.Rule] = true
			rules = append(rules, f.Rule)
			m.Rejected.ByRule[f.Rule]++
		}
	}
	if len(m.Rejected.Instances) < cut.MaxListedRejections {
		m.Rejected.Instances = append(m.Rejected.Instances, cut.Rejected{Input: in.Key, Instance: ordinal, Line: line, Rules: rules})
	}
}
