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
	"hash/fnv"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Options configure a run.
type Options struct {
	Store         store.Store
	Pipelines     Set
	Key           mask.Key
	MPID, Cut     string // only these, when set
	Shard, Shards int    // this process takes the cuts with hash % Shards == Shard
	Workers       int    // cuts processed at once (default 2)
	KeepRaw       bool   // keep inbox files after their cut is published
	Log           zerolog.Logger
	Progress      func(done, total int64) // input bytes
	Tool          string
	Mem           memory.Allocator
}

// Cut statuses.
const (
	StatusPublished        = "published"
	StatusAlreadyPublished = "already published"
	StatusNothingLeft      = "nothing left to publish"
	StatusNoPipeline       = "no pipeline"
	StatusFailed           = "failed"
)

// CutResult is what happened to one pending cut.
type CutResult struct {
	Cut         string `json:"cut"`
	MPID        string `json:"mpid"`
	CutID       string `json:"cutId,omitempty"`
	Status      string `json:"status"`
	Prefix      string `json:"prefix,omitempty"`
	Inputs      int    `json:"inputs"`
	Tables      int    `json:"tables"`
	Rows        int64  `json:"rows"`
	Rejected    int    `json:"rejected"`
	Quarantined int    `json:"quarantined"`
	Error       string `json:"error,omitempty"`
}

// Summary is a run's outcome.
type Summary struct {
	Cuts       []CutResult `json:"cuts"`
	InputBytes int64       `json:"inputBytes"`
	Seconds    float64     `json:"seconds"`
	Ignored    []string    `json:"ignored,omitempty"` // inbox keys not of the form inbox/<MPID>/<cut>/<file>
}

// Count returns how many cuts have the status.
func (s *Summary) Count(status string) int {
	n := 0
	for _, c := range s.Cuts {
		if c.Status == status {
			n++
		}
	}
	return n
}

// Totals adds up rejections and quarantines.
func (s *Summary) Totals() (rejected, quarantined int) {
	for _, c := range s.Cuts {
		rejected += c.Rejected
		quarantined += c.Quarantined
	}
	return
}

type pendingCut struct {
	cut, mpid string
	inputs    []store.Info
}

// Run processes every pending cut in the inbox.
func Run(ctx context.Context, opt Options) (*Summary, error) {
	start := time.Now()
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	if opt.Shards <= 0 {
		opt.Shards = 1
	}
	if opt.Mem == nil {
		opt.Mem = memory.NewGoAllocator()
	}
	if opt.Tool == "" {
		opt.Tool = "datacut"
	}
	sum := &Summary{}
	cuts, err := discover(ctx, opt, sum)
	if err != nil {
		return nil, err
	}
	var total int64
	for _, c := range cuts {
		for _, in := range c.inputs {
			total += in.Size
		}
	}
	sum.InputBytes = total
	maskers := map[string]*mask.Masker{}
	for name, d := range opt.Pipelines {
		if maskers[name], err = mask.New(d.rules, opt.Key, d.resolve); err != nil {
			return nil, err
		}
	}
	r := &runner{opt: opt, maskers: maskers, total: total}
	results := make([]CutResult, len(cuts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opt.Workers)
	for i, c := range cuts {
		g.Go(func() error {
			res := r.cut(gctx, c)
			results[i] = res
			if res.Status == StatusFailed && gctx.Err() != nil {
				return gctx.Err()
			}
			return nil
		})
	}
	err = g.Wait()
	sum.Cuts = results
	sum.Seconds = time.Since(start).Seconds()
	return sum, err
}

// discover lists the inbox and groups files into pending cuts.
func discover(ctx context.Context, opt Options, sum *Summary) ([]*pendingCut, error) {
	byCut := map[string]*pendingCut{}
	err := opt.Store.List(ctx, "inbox/", func(i store.Info) error {
		parts := strings.Split(i.Key, "/")
		if len(parts) != 4 {
			sum.Ignored = append(sum.Ignored, i.Key)
			return nil
		}
		mpid, cut := parts[1], parts[2]
		if (opt.MPID != "" && mpid != opt.MPID) || (opt.Cut != "" && cut != opt.Cut) || !inShard(cut, mpid, opt) {
			return nil
		}
		k := cut + "/" + mpid
		if byCut[k] == nil {
			byCut[k] = &pendingCut{cut: cut, mpid: mpid}
		}
		byCut[k].inputs = append(byCut[k].inputs, i)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the inbox: %w", err)
	}
	keys := make([]string, 0, len(byCut))
	for k := range byCut {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*pendingCut, len(keys))
	for i, k := range keys {
		out[i] = byCut[k]
	}
	return out, nil
}

func inShard(cut, mpid string, opt Options) bool {
	if opt.Shards <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(cut + "/" + mpid))
	return int(h.Sum32()%uint32(opt.Shards)) == opt.Shard
}

type runner struct {
	opt     Options
	maskers map[string]*mask.Masker
	total   int64
	done    atomic.Int64
	mu      sync.Mutex
}

func (r *runner) progress(n int64) {
	d := r.done.Add(n)
	if r.opt.Progress != nil {
		r.mu.Lock()
		r.opt.Progress(d, r.total)
		r.mu.Unlock()
	}
}

// listingID identifies the inbox state of a cut cheaply: names, sizes and
// times of its inputs, with the pipeline, rules and key. A marker under it
// lets a re-run skip a published cut without reading anything.
func listingID(d *Definition, mpid string, inputs []store.Info, key mask.Key) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s\n", d.Name, mpid, d.rules.Hash, key.Fingerprint(), mask.SchemeVersion)
	for _, in := range inputs {
		fmt.Fprintf(h, "%s|%d|%d\n", in.Key, in.Size, in.Modified.UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// contentID identifies a cut by its content: the inputs' names and SHA-256,
// the pipeline, rules and key. The same inputs give the same cut id in any
// store, from any number of shards.
func contentID(d *Definition, mpid string, inputs []Input, key mask.Key) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s\n", d.Name, mpid, d.rules.Hash, key.Fingerprint(), mask.SchemeVersion)
	for _, in := range inputs {
		name := in.Key[strings.LastIndexByte(in.Key, '/')+1:]
		fmt.Fprintf(h, "%s|%s\n", name, in.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// prefixOf is where a cut's tables and manifest live.
func prefixOf(cut, mpid, id string) string {
	return fmt.Sprintf("cuts/%s/mpid=%s/cut=%s/", cut, mpid, id)
}

// markerOf is the listing marker of a published cut.
func markerOf(cut, mpid, listing string) string {
	return fmt.Sprintf("cuts/%s/mpid=%s/published/%s.json", cut, mpid, listing)
}

func (r *runner) cut(ctx context.Context, pc *pendingCut) CutResult {
	res := CutResult{Cut: pc.cut, MPID: pc.mpid, Inputs: len(pc.inputs)}
	log := r.opt.Log.With().Str("cut", pc.cut).Str("mpid", pc.mpid).Logger()
	d := r.opt.Pipelines[pc.cut]
	if d == nil {
		res.Status = StatusNoPipeline
		res.Error = fmt.Sprintf("no pipeline named %q: files under inbox/%s/%s/ are left alone (pipelines: %s)", pc.cut, pc.mpid, pc.cut, strings.Join(r.opt.Pipelines.Names(), ", "))
		log.Warn().Msg(res.Error)
		return res
	}
	inputs := pc.inputs
	var quarantined []Quarantine
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
		marker := markerOf(pc.cut, pc.mpid, listingID(d, pc.mpid, inputs, r.opt.Key))
		if b, err := store.ReadAll(ctx, r.opt.Store, marker); err == nil {
			var mk struct{ Prefix, CutID string }
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
		res.CutID, res.Prefix = m.CutID, prefixOf(pc.cut, pc.mpid, m.CutID)
		m.Quarantined = quarantined
		if err := r.writeManifest(ctx, res.Prefix, m); err != nil {
			return failed(res, err, log)
		}
		if err := r.quarantineAll(ctx, broken, quarantined, log); err != nil {
			return failed(res, err, log)
		}
		mb, _ := json.Marshal(map[string]string{"Prefix": res.Prefix, "CutID": res.CutID})
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

func (r *runner) writeManifest(ctx context.Context, prefix string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	return r.opt.Store.Put(ctx, prefix+"manifest.json", strings.NewReader(string(b)), int64(len(b)))
}

// brokenInput is a file that cannot be published at all.
type brokenInput struct {
	input   store.Info
	finding dflow.Finding
	report  any
}

// quarantineOf says where a broken input goes.
func quarantineOf(pc *pendingCut, b *brokenInput) Quarantine {
	name := b.input.Key[strings.LastIndexByte(b.input.Key, '/')+1:]
	base := fmt.Sprintf("quarantine/%s/mpid=%s/%s", pc.cut, pc.mpid, name)
	return Quarantine{Input: b.input.Key, Key: base, Report: base + ".report.json", Rule: b.finding.Rule, Reason: b.finding.Message}
}

func (r *runner) quarantineAll(ctx context.Context, broken []*brokenInput, qs []Quarantine, log zerolog.Logger) error {
	for i, b := range broken {
		if err := r.quarantine(ctx, b, qs[i]); err != nil {
			return err
		}
		log.Warn().Str("input", b.input.Key).Str("rule", qs[i].Rule).Msg("input quarantined: " + qs[i].Reason)
	}
	return nil
}

// quarantine moves a broken input to quarantine/ with its report.
func (r *runner) quarantine(ctx context.Context, b *brokenInput, q Quarantine) error {
	rep, _ := json.MarshalIndent(map[string]any{"input": b.input.Key, "finding": b.finding, "details": b.report,
		"fix": "correct the file (the finding names line, group, item and rule) and upload it again to " + b.input.Key}, "", "  ")
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

// publish reads every input into masked table files and publishes them.
// A broken input stops it: the caller quarantines the input and publishes
// what remains.
func (r *runner) publish(ctx context.Context, d *Definition, pc *pendingCut, inputs []store.Info) (*Manifest, *brokenInput, error) {
	started := time.Now().UTC()
	m := &Manifest{Cut: pc.cut, MPID: pc.mpid, Tool: r.opt.Tool, MaskScheme: mask.SchemeVersion,
		Rules:          RulesRef{Path: d.rules.Path, Version: d.rules.Version, Hash: d.rules.Hash},
		KeyFingerprint: r.opt.Key.Fingerprint(), Rejected: Rejections{ByRule: map[string]int{}, Instances: []Rejected{}},
		Counts: map[string]int{}}
	tw := newTables(store.TempDir(r.opt.Store), map[string]string{
		"datacut.cut": pc.cut, "datacut.mpid": pc.mpid, "datacut.mask_scheme": mask.SchemeVersion,
		"datacut.rules_version": d.rules.Version, "datacut.key_fingerprint": r.opt.Key.Fingerprint()}, r.maskers[d.Name], r.opt.Mem)
	defer tw.discard()
	defer tw.stop()
	// One builder per flow for the whole cut: its columns start each batch
	// at the size of the one before, instead of growing from empty in
	// every file. readDFlow leaves none of a file's rows in it.
	builders := map[*dflow.Flow]*dflow.ArrowBuilder{}
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
		var info Input
		var broken *brokenInput
		if d.Input.Format == FormatEESCSV {
			info, broken, err = r.readEES(d, in, src, tw, m)
		} else {
			info, broken, err = r.readDFlow(d, in, src, tw, m, builders)
		}
		if werr := tw.barrier(); err == nil && broken == nil && werr != nil {
			if errors.Is(werr, errSchema) {
				broken = &brokenInput{input: in, finding: dflow.Finding{Rule: "pipeline.schema", Severity: dflow.SevError, Message: werr.Error()}}
			} else {
				err = werr
			}
		}
		if err == nil && broken == nil {
			_, err = io.Copy(io.Discard, src) // hash what the reader did not need
		}
		rc.Close()
		if err != nil || broken != nil {
			r.progress(in.Size - hc.n)
			return nil, broken, err
		}
		info.Key, info.Size, info.SHA256 = in.Key, hc.n, hex.EncodeToString(hc.h.Sum(nil))
		m.Inputs = append(m.Inputs, info)
	}
	// The cut's id is its content's: published somewhere already (the same
	// files uploaded again), the tables there are these tables.
	m.CutID = contentID(d, pc.mpid, m.Inputs, r.opt.Key)
	prefix := prefixOf(pc.cut, pc.mpid, m.CutID)
	names := make([]string, 0, len(tw.files))
	for n := range tw.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := tw.files[n]
		if err := t.close(); err != nil {
			return nil, nil, err
		}
		st, err := os.Stat(t.path)
		if err != nil {
			return nil, nil, err
		}
		key := prefix + n + ".parquet"
		if err := store.PutFile(ctx, r.opt.Store, key, t.path); err != nil {
			return nil, nil, err
		}
		delete(tw.files, n)
		m.Tables = append(m.Tables, Table{Name: n, Key: key, Rows: t.rows, Bytes: st.Size()})
	}
	m.Timings = Timings{Started: started, Finished: time.Now().UTC()}
	m.Timings.Seconds = m.Timings.Finished.Sub(started).Seconds()
	return m, nil, nil
}

// tables holds a cut's table files being written. Records are masked and
// written by a goroutine of their own, so reading and validating the next
// records (one core) overlaps masking and encoding them (the other).
type tables struct {
	dir   string
	meta  map[string]string
	files map[string]*tableFile
	mk    *mask.Session
	mem   memory.Allocator
	queue chan tableRec
	done  chan error // the writer's result after each barrier
}

type tableRec struct {
	name    string
	rec     arrow.Record
	barrier bool
}

func newTables(dir string, meta map[string]string, mk *mask.Masker, mem memory.Allocator) *tables {
	t := &tables{dir: dir, meta: meta, files: map[string]*tableFile{}, mk: mk.Session(), mem: mem,
		queue: make(chan tableRec, 4), done: make(chan error)}
	go t.run()
	return t
}

// run masks and writes queued records; after an error it only releases
// them, and reports the error at the next barrier.
func (t *tables) run() {
	var err error
	for it := range t.queue {
		if it.barrier {
			t.done <- err
			err = nil
			continue
		}
		if err == nil {
			err = t.maskAndWrite(it.name, it.rec)
		}
		it.rec.Release()
	}
	close(t.done)
}

func (t *tables) maskAndWrite(name string, rec arrow.Record) error {
	masked, err := t.mk.Record(rec, t.mem)
	if err != nil {
		return err
	}
	defer masked.Release()
	return t.write(name, masked)
}

// send queues a record (ownership passes to the writer).
func (t *tables) send(name string, rec arrow.Record) {
	t.queue <- tableRec{name: name, rec: rec}
}

// barrier waits until everything queued is written and returns the first
// error since the previous barrier.
func (t *tables) barrier() error {
	t.queue <- tableRec{barrier: true}
	return <-t.done
}

// stop ends the writer goroutine.
func (t *tables) stop() {
	close(t.queue)
	for range t.done {
	}
}

func (t *tables) write(name string, rec arrow.Record) error {
	f := t.files[name]
	if f == nil {
		var err error
		if f, err = newTableFile(t.dir, name, rec.Schema(), t.meta); err != nil {
			return err
		}
		t.files[name] = f
	}
	if !f.schema.Equal(rec.Schema()) {
		return errSchema
	}
	return f.write(rec)
}

var errSchema = errors.New("its columns differ from the cut's earlier files of the same table")

func (t *tables) discard() {
	for _, f := range t.files {
		f.discard()
	}
}

// TableName names a D-flow group's table: d0150_288. A flow version other
// than the catalogue's newest gets its version: d0150v001_288.
func TableName(g *dflow.Group) string {
	vs := dflow.DefaultCatalog().Versions(g.Flow.ID)
	name := strings.ToLower(g.Flow.ID)
	if len(vs) > 1 && vs[len(vs)-1] != g.Flow {
		name += "v" + g.Flow.Version
	}
	return name + "_" + strings.ToLower(g.Code)
}

// tally counts a unit read from an input and says whether to publish it;
// a rejected unit is recorded in the manifest instead.
func (r *runner) tally(m *Manifest, info *Input, in store.Info, rejected bool, ordinal, line int, findings []dflow.Finding) bool {
	info.Instances++
	m.Counts["instances"]++
	if rejected {
		info.Rejected++
		r.reject(m, in, ordinal, line, findings)
		return false
	}
	m.Counts["published"]++
	return true
}

func (r *runner) reject(m *Manifest, in store.Info, ordinal, line int, findings []dflow.Finding) {
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
	if len(m.Rejected.Instances) < MaxListedRejections {
		m.Rejected.Instances = append(m.Rejected.Instances, Rejected{Input: in.Key, Instance: ordinal, Line: line, Rules: rules})
	}
}

// batchRows is how many rows of a group are buffered before they are
// masked and written as a row group.
const batchRows = RowGroupRows

func (r *runner) readDFlow(d *Definition, in store.Info, src io.Reader, tw *tables, m *Manifest, builders map[*dflow.Flow]*dflow.ArrowBuilder) (Input, *brokenInput, error) {
	var info Input
	rd := dflow.NewReader(src, in.Key, dflow.Options{Reveal: func(ref string) bool { return !d.rules.Sensitive(ref) }})
	broken := func(err error) (Input, *brokenInput, error) {
		var be *dflow.BrokenError
		if errors.As(err, &be) {
			return info, &brokenInput{input: in, finding: be.Finding, report: rd.FileFindings()}, nil
		}
		return info, nil, err
	}
	h, err := rd.Header()
	if err != nil {
		return broken(err)
	}
	if !d.Accepts(h.Flow) {
		return info, &brokenInput{input: in, finding: dflow.Finding{Line: 1, Group: "ZHV", Rule: "pipeline.flow", Severity: dflow.SevError,
			Message: fmt.Sprintf("flow %s does not belong to cut %s (it reads %s): upload it to the right cut", h.Flow, d.Name, strings.Join(d.Input.Flows, ", "))}}, nil
	}
	info.Flow = rd.Flow().Key()
	b := builders[rd.Flow()]
	if b == nil {
		b = dflow.NewArrowBuilder(rd.Flow())
		builders[rd.Flow()] = b
	}
	defer b.Release() // rows of a broken file are dropped
	emit := func(g *dflow.Group, rec arrow.Record) error {
		tw.send(TableName(g), rec)
		return nil
	}
	for {
		inst, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return broken(err)
		}
		line := 0
		if len(inst.Records) > 0 {
			line = inst.Records[0].Line
		}
		if !r.tally(m, &info, in, inst.Rejected(), inst.Ordinal, line, inst.Findings) {
			continue
		}
		if err := b.Append(h.FileID, inst); err != nil {
			return info, nil, err
		}
		if err := b.Flush(batchRows, emit); err != nil {
			return info, nil, err
		}
	}
	if err := b.Flush(0, emit); err != nil {
		return info, nil, err
	}
	for _, f := range rd.FileFindings() {
		if f.Severity == dflow.SevError {
			m.Counts["fileErrors"]++
		}
	}
	return info, nil, nil
}

func (r *runner) readEES(d *Definition, in store.Info, src io.Reader, tw *tables, m *Manifest) (Input, *brokenInput, error) {
	info := Input{Flow: "EES"}
	rd := ees.NewReader(src, in.Key, d.columns, d.resolve)
	broken := func(err error) (Input, *brokenInput, error) {
		var be *dflow.BrokenError
		if errors.As(err, &be) {
			return info, &brokenInput{input: in, finding: be.Finding}, nil
		}
		return info, nil, err
	}
	cols, err := rd.Columns()
	if err != nil {
		return broken(err)
	}
	b := ees.NewArrowBuilder(cols)
	defer b.Release()
	name := in.Key[strings.LastIndexByte(in.Key, '/')+1:]
	flush := func() { tw.send(ees.Table, b.Record()) }
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return broken(err)
		}
		if !r.tally(m, &info, in, row.Rejected(), row.Ordinal, row.Line, row.Findings) {
			continue
		}
		if err := b.Append(name, row); err != nil {
			return info, nil, err
		}
		if b.Rows() >= batchRows {
			flush()
		}
	}
	if b.Rows() > 0 {
		flush()
	}
	return info, nil, nil
}
