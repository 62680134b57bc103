package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/store"
)

// built is what a submission made: a version (nil if every file it sent
// was broken) and its broken files, to quarantine.
type built struct {
	m           *cut.Manifest
	broken      []*brokenInput
	quarantined []cut.Quarantine
}

// build makes version number version of the cut from a submission (and
// the version it amends, if any). A broken file is set aside and the
// version made again from what remains.
func (r *runner) build(ctx context.Context, d *Definition, p *cut.Pending, base *cut.Manifest, version int) (*built, error) {
	b := &built{}
	inputs := p.Files
	for {
		if len(p.Files) > 0 && len(inputs) == 0 {
			return b, nil // nothing of it is publishable
		}
		m, bad, err := r.publish(ctx, d, p, base, b.kept(base, p.Submission), inputs, version)
		if err != nil {
			return nil, err
		}
		if bad == nil {
			m.Quarantined = b.quarantined
			m.Warnings = append(m.Warnings, b.keptReplaced(base, p.Submission)...)
			b.m = m
			return b, nil
		}
		b.broken = append(b.broken, bad)
		b.quarantined = append(b.quarantined, quarantineOf(p, bad))
		inputs = without(inputs, bad.input.Key)
	}
}

// kept are the parts of the amended version the new one carries over:
// all but those replaced or withdrawn. A part replaced by a file of the
// same name that turned out broken is kept, so a failed correction never
// loses the rows it was to correct.
func (b *built) kept(base *cut.Manifest, s *cut.Submission) []cut.Input {
	if base == nil {
		return nil
	}
	brokenNames := map[string]bool{}
	for _, x := range b.broken {
		brokenNames[cut.BaseName(x.input.Key)] = true
	}
	var out []cut.Input
	for _, in := range base.Inputs {
		if !s.Drops(in.Name()) || (slices.Contains(s.Replaces, in.Name()) && brokenNames[in.Name()]) {
			out = append(out, in)
		}
	}
	return out
}

// keptReplaced says which replaced parts the version kept because their
// replacement was broken.
func (b *built) keptReplaced(base *cut.Manifest, s *cut.Submission) []string {
	var out []string
	for _, x := range b.broken {
		name := cut.BaseName(x.input.Key)
		if base != nil && slices.Contains(s.Replaces, name) && slices.ContainsFunc(base.Inputs, func(in cut.Input) bool { return in.Name() == name }) {
			out = append(out, fmt.Sprintf("%s keeps version %d's rows: its replacement was quarantined (%s)", name, base.Version, x.finding.Rule))
		}
	}
	return out
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
	def     *Definition
	mpid    string              // the inbox folder's
	reg     *programme.Register // nil: senders are not checked
	m       *cut.Manifest
	tw      *tables
	rejects map[string]*rejectFile // by input key
	// maxInstance is Options.MaxInstanceBytes.
	maxInstance int
	// eesSizes are the sizes of the EES file read last's columns, to start
	// the next file's at.
	eesSizes ees.Sizes
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

// publish writes a version's tables: the kept parts of the version it
// amends, copied as they are (masked already), then every input read and
// masked. A broken input stops it: the caller quarantines the input and
// publishes what remains.
func (r *runner) publish(ctx context.Context, d *Definition, p *cut.Pending, base *cut.Manifest, kept []cut.Input, inputs []store.Info, version int) (*cut.Manifest, *brokenInput, error) {
	started := time.Now().UTC()
	s := p.Submission
	m := &cut.Manifest{Cut: p.Cut, MPID: p.MPID, Version: version, AsAt: s.AsAt, Submission: cut.SubmissionRef{ID: p.ID, SHA256: p.SHA256},
		Amends: s.Amends, Tool: r.opt.Tool, MaskScheme: mask.SchemeVersion,
		Rules:          cut.RulesRef{Path: d.rules.Path, Version: d.rules.Version, Hash: d.rules.Hash},
		KeyFingerprint: r.opt.Key.Fingerprint(), Rejected: cut.Rejections{ByRule: map[string]int{}, Instances: []cut.Rejected{}},
		Counts: map[string]int{}}
	tw := newTables(store.TempDir(r.opt.Store), map[string]string{
		"datacut.cut": p.Cut, "datacut.mpid": p.MPID, "datacut.mask_scheme": mask.SchemeVersion,
		"datacut.rules_version": d.rules.Version, "datacut.key_fingerprint": r.opt.Key.Fingerprint()}, r.maskers[d.Name], r.opt.Mem, d.in.units())
	defer tw.discard()
	defer tw.stop()
	c := &cutBuild{def: d, mpid: p.MPID, reg: r.opt.Pipelines.Register, m: m, tw: tw, rejects: map[string]*rejectFile{}, maxInstance: r.opt.MaxInstanceBytes}
	defer c.discardRejects()
	if base != nil {
		if err := r.carry(ctx, c, base, kept); err != nil {
			return nil, nil, fmt.Errorf("carrying version %d's rows over: %w", base.Version, err)
		}
	}
	read := d.in.reader()
	bySHA := map[string]string{} // an input's SHA-256 → its key
	for _, in := range kept {
		bySHA[in.SHA256] = in.Key
	}
	rows := tw.rows()
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		rc, err := r.opt.Store.Get(ctx, in.Key)
		if err != nil {
			return nil, nil, err
		}
		hc := &hashCounter{h: sha256.New(), r: r}
		src := io.TeeReader(store.ContextReader(ctx, rc), hc) // a signal stops a read that would not end
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
		if listed, _ := s.Listed(cut.BaseName(in.Key)); listed.SHA256 != sum && broken == nil {
			broken = &brokenInput{input: in, finding: dflow.Finding{Rule: "submission.sha256", Severity: dflow.SevError,
				Message: fmt.Sprintf("its SHA-256 is %s, but submission.json lists %s: the file changed after it was listed, or the listing is wrong", sum[:16], listed.SHA256[:min(16, len(listed.SHA256))])}}
		}
		if first, ok := bySHA[sum]; ok && broken == nil {
			broken = &brokenInput{input: in, finding: dflow.Finding{Rule: "cut.duplicate-file", Severity: dflow.SevError,
				Message: fmt.Sprintf("the same content as %s (SHA-256 %s): a file is sent once; remove one of them", cut.BaseName(first), sum[:16])}}
		}
		if broken != nil {
			broken.sha256 = sum
			return nil, broken, nil
		}
		bySHA[sum] = in.Key
		now := tw.rows()
		info.Key, info.Submission, info.Size, info.SHA256, info.Rows = in.Key, p.ID, hc.n, sum, since(now, rows)
		rows = now
		m.Inputs = append(m.Inputs, info)
	}
	if err := tw.finish(); err != nil {
		return nil, nil, err
	}
	m.CutID = versionID(d, m, r.opt.Key)
	prefix := cut.Prefix(p.Cut, p.MPID, m.CutID)
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
	dups, err := tw.units.result(m.Inputs)
	if err != nil {
		return nil, nil, fmt.Errorf("looking for MPAN units twice: %w", err)
	}
	m.Duplicates = dups
	if err := c.publishRejects(ctx, r.opt.Store, p); err != nil {
		return nil, nil, err
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
		c.reject(info, in, ordinal, line, findings)
		return false
	}
	c.m.Counts["published"]++
	return true
}

func (c *cutBuild) reject(info *cut.Input, in store.Info, ordinal, line int, findings []dflow.Finding) {
	m := c.m
	m.Rejected.Count++
	var rules []string
	seen := map[string]bool{}
	if info.ByRule == nil {
		info.ByRule = map[string]int{}
	}
	for _, f := range findings {
		if f.Severity == dflow.SevError && !seen[f.Rule] {
			seen[f.Rule] = true
			rules = append(rules, f.Rule)
			m.Rejected.ByRule[f.Rule]++
			info.ByRule[f.Rule]++
		}
	}
	if len(m.Rejected.Instances) < cut.MaxListedRejections {
		m.Rejected.Instances = append(m.Rejected.Instances, cut.Rejected{Input: in.Key, Instance: ordinal, Line: line, Rules: rules})
	}
}
