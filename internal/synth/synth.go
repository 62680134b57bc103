package synth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/dflow/dflowgen"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Options say what market to generate.
type Options struct {
	MPANs     int
	Seed      uint64
	FaultRate float64 // share of units corrupted and of D-flow files broken
	// CrossFaultRate is the share of MPANs whose data is made to disagree
	// between participants' cuts (cross.go), with ground truth in
	// synth/ground-truth/cross-<chunk>.jsonl.
	CrossFaultRate float64
	// ChunkMPANs splits the market into chunks generated in parallel; each
	// participant gets one file per flow per chunk. Default: 250,000, or
	// half of a smaller market (at least 10,000) so both cores work.
	ChunkMPANs int
	Workers    int      // default GOMAXPROCS
	Cuts       []string // only these cuts (default: all)
	// MPIDs writes only these participants' files (default: all). The
	// market is the same: each written file is byte for byte the file the
	// whole market has, so one large participant's cuts at full size are a
	// quick, faithful slice of a national run.
	MPIDs    []string
	Progress func(done int) // MPANs generated so far; called from workers
}

// Created is the creation time in every generated header: fixed, so runs
// are reproducible.
const Created = "20261101120000"

// TruthPrefix is where the ground truth of injected faults is written.
const TruthPrefix = "synth/ground-truth/"

// Summary says what was generated.
type Summary struct {
	Seed         uint64         `json:"seed"`
	MPANs        int            `json:"mpans"`
	Participants map[string]int `json:"participants"` // by role name
	BySegment    map[string]int `json:"bySegment"`
	ByGSP        map[string]int `json:"byGsp"`
	ByMeter      map[string]int `json:"byMeter"`
	Linked       int            `json:"linkedMpans"`
	Files        map[string]int `json:"filesByCut"`
	Bytes        int64          `json:"bytes"`
	Faults       int            `json:"faultyUnits"`
	CrossFaults  int            `json:"crossFaults,omitempty"`
	BrokenFiles  int            `json:"brokenFiles"`
}

func (s *Summary) add(o *Summary) {
	for k, v := range o.BySegment {
		s.BySegment[k] += v
	}
	for k, v := range o.ByGSP {
		s.ByGSP[k] += v
	}
	for k, v := range o.ByMeter {
		s.ByMeter[k] += v
	}
	for k, v := range o.Files {
		s.Files[k] += v
	}
	s.Linked += o.Linked
	s.Bytes += o.Bytes
	s.Faults += o.Faults
	s.CrossFaults += o.CrossFaults
	s.BrokenFiles += o.BrokenFiles
}

func newSummary() *Summary {
	return &Summary{BySegment: map[string]int{}, ByGSP: map[string]int{}, ByMeter: map[string]int{}, Files: map[string]int{}, Participants: map[string]int{}}
}

type market struct {
	seed  uint64
	n     int
	pools *pools
	cat   *dflow.Catalog
	opt   Options

	mu    sync.Mutex
	files map[string][]cut.SubmittedFile // by submission folder
}

// AsAt is the as-at date of every generated submission: fixed, like Created.
const AsAt = "2026-11-01"

// SubmissionID names the submission each participant's generated files
// are in: one per seed, so two markets written into one store never share
// a folder.
func SubmissionID(seed uint64) string { return fmt.Sprintf("synth-%d", seed) }

// Generate writes the market's cuts into the store's inbox as one full
// submission per participant and cut type, inbox/<MPID>/<cut>/<id>/<file>
// with its submission.json last, and the ground truth of injected faults under
// synth/ground-truth/.
func Generate(ctx context.Context, st store.Store, opt Options) (*Summary, error) {
	if opt.MPANs <= 0 {
		return nil, fmt.Errorf("the market needs at least one MPAN")
	}
	if opt.FaultRate < 0 || opt.FaultRate > 1 {
		return nil, fmt.Errorf("fault rate must be between 0 and 1")
	}
	if opt.CrossFaultRate < 0 || opt.CrossFaultRate > 1 {
		return nil, fmt.Errorf("cross-fault rate must be between 0 and 1")
	}
	for _, c := range opt.Cuts {
		if c != CutMTD && c != CutRegistration && c != CutEES && c != CutSupplier {
			return nil, fmt.Errorf("unknown cut %q (mop-mtd, registration, ees, supplier-customer)", c)
		}
	}
	if len(opt.MPIDs) > 0 && opt.FaultRate > 0 {
		return nil, fmt.Errorf("faults cannot be injected into a market written for some participants only: their draws follow the files written")
	}
	if err := CheckMPIDs(opt.MPIDs); err != nil {
		return nil, err
	}
	if opt.ChunkMPANs <= 0 {
		opt.ChunkMPANs = min(250_000, max(10_000, (opt.MPANs+1)/2))
	}
	m := &market{seed: opt.Seed, n: opt.MPANs, pools: newPools(opt.Seed), cat: dflow.DefaultCatalog(), opt: opt, files: map[string][]cut.SubmittedFile{}}
	chunks := (opt.MPANs + opt.ChunkMPANs - 1) / opt.ChunkMPANs
	sum := newSummary()
	sum.Seed, sum.MPANs = opt.Seed, opt.MPANs
	sum.Participants = map[string]int{"supplier": len(Suppliers), "mop": len(MOps), "hhdc": len(HHDCs), "nhhdc": len(NHHDCs),
		"da": len(DAs), "registration": len(Registrations())}
	var mu sync.Mutex
	var done atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	workers := opt.Workers
	if workers <= 0 {
		workers = max(1, min(chunks, runtime.GOMAXPROCS(0)))
	}
	g.SetLimit(workers)
	for c := 0; c < chunks; c++ {
		g.Go(func() error {
			part, err := m.chunk(gctx, st, c, &done)
			if err != nil {
				return err
			}
			mu.Lock()
			sum.add(part)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return sum, m.submit(ctx, st)
}

// submit writes each submission's submission.json, once all its files are
// stored.
func (m *market) submit(ctx context.Context, st store.Store) error {
	for _, dir := range slices.Sorted(maps.Keys(m.files)) {
		files := m.files[dir]
		sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
		f, _ := cut.ParseInboxKey(dir + files[0].Name)
		s := &cut.Submission{Schema: cut.SubmissionSchema, MPID: f.MPID, Cut: f.Type, AsAt: AsAt, Kind: cut.KindFull, Files: files}
		if err := cut.WriteSubmission(ctx, st, f.Submission, s); err != nil {
			return err
		}
	}
	return nil
}

// putFile stores a spool file and lists it in its submission.
func (m *market) putFile(ctx context.Context, st store.Store, of *outFile) error {
	f, err := os.Open(of.path)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return err
	}
	if err := store.PutFile(ctx, st, of.key, of.path); err != nil {
		return err
	}
	dir, name := path.Split(of.key)
	m.mu.Lock()
	m.files[dir] = append(m.files[dir], cut.SubmittedFile{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	m.mu.Unlock()
	return nil
}

// outFile is one file being written to the spool.
type outFile struct {
	key     string
	flow    *dflow.Flow
	path    string
	f       *os.File
	buf     *bufio.Writer
	w       *dflow.Writer
	csv     *csv.Writer
	ordinal int // instances so far (units and context records)
	rows    int // EES data rows
	truth   Truth
}

// Truth is the ground truth of one generated file.
type Truth struct {
	Key       string  `json:"key"`
	Flow      string  `json:"flow"`
	Instances int     `json:"instances"` // as the reader counts them (EES: data rows)
	MPANs     int     `json:"mpans"`
	Broken    string  `json:"broken,omitempty"` // rule the file breaks, if broken
	Faults    []Fault `json:"faults,omitempty"`
}

// Fault is one corrupted unit.
type Fault struct {
	Instance int    `json:"instance"` // reader instance ordinal (EES: data row)
	Kind     string `json:"kind"`
	Rule     string `json:"rule"`
}

type chunkGen struct {
	m     *market
	st    store.Store
	chunk int
	b     *builder
	files map[string]*outFile // by store key
	open  map[fileRef]*outFile
	ees   map[string]*outFile // by supplier
	sum   *Summary
	fault *rand.Rand
	cross []CrossFault
}

func (m *market) chunk(ctx context.Context, st store.Store, c int, done *atomic.Int64) (*Summary, error) {
	cg := &chunkGen{m: m, st: st, chunk: c, files: map[string]*outFile{}, open: map[fileRef]*outFile{}, ees: map[string]*outFile{}, sum: newSummary(),
		b:     &builder{cat: m.cat, fill: dflowgen.New(m.seed ^ uint64(c)*0x9e3779b97f4a7c15)},
		fault: rand.New(rand.NewPCG(m.seed^0xfa17, uint64(c)))}
	cg.b.fill.EmptyOptional = 0
	defer cg.abort()
	lo, hi := c*m.opt.ChunkMPANs, min((c+1)*m.opt.ChunkMPANs, m.n)
	reported := lo
	for i := lo; i < hi; i++ {
		if err := cg.point(m.point(i)); err != nil {
			return nil, err
		}
		if i+1-reported == 4096 || i+1 == hi {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n := done.Add(int64(i + 1 - reported))
			reported = i + 1
			if m.opt.Progress != nil {
				m.opt.Progress(int(n))
			}
		}
	}
	return cg.sum, cg.finish(ctx)
}

func (cg *chunkGen) point(p *Point) error {
	cg.b.reset()
	if p.Cross = cg.m.crossFault(p); p.Cross != "" {
		cg.cross = append(cg.cross, p.crossTruth(cg.m.n))
		cg.sum.CrossFaults++
	}
	cg.sum.BySegment[p.Segment]++
	cg.sum.ByGSP[p.GSP]++
	cg.sum.ByMeter[[]string{"unmetered", "traditional", "smart", "advanced"}[p.Meter]]++
	if p.Partner >= 0 {
		cg.sum.Linked++
	}
	for i := range fileSpecs {
		spec := &fileSpecs[i]
		if !cg.m.wants(spec.cut) {
			continue
		}
		f := cg.m.cat.Flow(spec.flow, spec.version)
		recs := flowPlans[spec.flow](cg.b, f, p)
		if recs == nil || !cg.m.writes(spec.owner(p)) {
			continue // built all the same: the next flows' draws stay those of the whole market
		}
		of, err := cg.dflowFile(spec, f, p)
		if err != nil {
			return err
		}
		if err := cg.writeUnit(of, recs); err != nil {
			return err
		}
	}
	if !cg.m.wants(CutEES) || !cg.m.writes(p.Supplier.MPID) {
		return nil
	}
	return cg.eesRow(p)
}

// writes says whether the participant's files are written (Options.MPIDs).
func (m *market) writes(mpid string) bool {
	return len(m.opt.MPIDs) == 0 || slices.Contains(m.opt.MPIDs, mpid)
}

// CheckMPIDs refuses an MPID that sends no synthetic cut, listing those
// that are.
func CheckMPIDs(mpids []string) error {
	var all []string
	for _, p := range slices.Concat(Suppliers, MOps, Registrations()) {
		all = append(all, p.MPID)
	}
	for _, id := range mpids {
		if !slices.Contains(all, id) {
			return fmt.Errorf("no synthetic participant sends a cut as MPID %q (one of %s)", id, strings.Join(all, ", "))
		}
	}
	return nil
}

func (m *market) wants(cut string) bool {
	if len(m.opt.Cuts) == 0 {
		return true
	}
	for _, c := range m.opt.Cuts {
		if c == cut {
			return true
		}
	}
	return false
}

func (cg *chunkGen) key(owner, cutType, name, ext string) string {
	return fmt.Sprintf("%s%s_%04d.%s", cut.SubmissionDir(owner, cutType, SubmissionID(cg.m.seed)), name, cg.chunk+1, ext)
}

// create opens a spool file for key.
func (cg *chunkGen) create(key string) (*outFile, error) {
	f, err := os.CreateTemp(store.TempDir(cg.st), "synth-*")
	if err != nil {
		return nil, fmt.Errorf("creating spool file: %w", err)
	}
	of := &outFile{key: key, path: f.Name(), f: f, buf: bufio.NewWriterSize(f, 64<<10), truth: Truth{Key: key}}
	cg.files[key] = of
	return of, nil
}

func fileID(key string) string {
	h := fnv.New64a()
	h.Write([]byte(key))
	return fmt.Sprintf("S%09d", h.Sum64()%1_000_000_000)
}

// fileRef finds a chunk's open file without building its key.
type fileRef struct {
	spec         *fileSpec
	owner, party string
}

func (cg *chunkGen) dflowFile(spec *fileSpec, f *dflow.Flow, p *Point) (*outFile, error) {
	ref := fileRef{spec: spec, owner: spec.owner(p)}
	name := spec.flow
	if spec.party != nil {
		ref.party = spec.party(p)
		name += "_" + ref.party
	}
	if of := cg.open[ref]; of != nil {
		return of, nil
	}
	of, err := cg.create(cg.key(ref.owner, spec.cut, name, "dat"))
	if err != nil {
		return nil, err
	}
	cg.open[ref] = of
	of.flow = f
	of.truth.Flow = f.Key()
	fr, fm := spec.from(p)
	tr, tm := spec.to(p)
	h := dflow.Header{FileID: fileID(of.key), Flow: f.ID, Version: f.Version, FromRole: fr, FromMPID: fm, ToRole: tr, ToMPID: tm,
		Created: Created, TestFlag: "TR01"}
	if of.w, err = dflow.NewWriter(of.buf, h, dflow.WriterOptions{}); err != nil {
		return nil, err
	}
	// Registration flows open with their file sequence number group.
	for _, top := range f.TopGroups() {
		if top.Context() {
			of.ordinal++
			if err := of.w.Write(top, [][]byte{[]byte(strconv.Itoa(cg.chunk + 1))}); err != nil {
				return nil, err
			}
		}
	}
	return of, nil
}

// writeUnit writes one point's records, corrupting them first when the
// fault draw says so.
func (cg *chunkGen) writeUnit(of *outFile, recs []rec) error {
	unitAt := -1
	for i, r := range recs {
		if r.g.Unit() || r.g.Context() {
			of.ordinal++
		}
		if r.g.Unit() && unitAt < 0 {
			unitAt = i
			of.truth.MPANs++
		}
	}
	if cg.m.opt.FaultRate > 0 && cg.fault.Float64() < cg.m.opt.FaultRate {
		var flt Fault
		recs, flt = corrupt(recs, unitAt, cg.fault.IntN(4))
		flt.Instance = of.ordinal
		of.truth.Faults = append(of.truth.Faults, flt)
		cg.sum.Faults++
	}
	for _, r := range recs {
		if err := of.w.Write(r.g, r.fields); err != nil {
			return err
		}
	}
	return nil
}

// eesRow writes the point's row of its supplier's EES portfolio export.
func (cg *chunkGen) eesRow(p *Point) error {
	of := cg.ees[p.Supplier.MPID]
	if of == nil {
		var err error
		if of, err = cg.create(cg.key(p.Supplier.MPID, CutEES, "EES", "csv")); err != nil {
			return err
		}
		cg.ees[p.Supplier.MPID] = of
		of.truth.Flow = "EES"
		of.csv = csv.NewWriter(of.buf)
		of.csv.Write(EESHeader)
	}
	of.rows++
	of.truth.MPANs++
	row := p.eesRow()
	p.crossEES(row)
	if cg.m.opt.FaultRate > 0 && cg.fault.Float64() < cg.m.opt.FaultRate {
		c := []byte(row[0])
		c[12] = '0' + (c[12]-'0'+1)%10
		row[0] = string(c)
		of.truth.Faults = append(of.truth.Faults, Fault{Instance: of.rows, Kind: "check-digit", Rule: dflow.RuleMPANCheck})
		cg.sum.Faults++
	}
	if err := of.csv.Write(row); err != nil || p.Cross != CrossOrphan {
		return err
	}
	of.rows++
	of.truth.MPANs++
	return of.csv.Write(p.orphanRow(cg.m.n))
}

// finish closes every file, breaks some on purpose, stores them and their
// ground truth.
func (cg *chunkGen) finish(ctx context.Context) error {
	keys := make([]string, 0, len(cg.files))
	for k := range cg.files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var truth []byte
	for _, k := range keys {
		of := cg.files[k]
		if err := cg.close(of); err != nil {
			return err
		}
		st, err := os.Stat(of.path)
		if err != nil {
			return err
		}
		cg.sum.Bytes += st.Size()
		cg.sum.Files[cutOf(k)]++
		line, _ := json.Marshal(of.truth)
		truth = append(append(truth, line...), '\n')
	}
	// Store the files several at a time: each put waits on the disk (fsync).
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, k := range keys {
		of := cg.files[k]
		g.Go(func() error { return cg.m.putFile(gctx, cg.st, of) })
	}
	err := g.Wait()
	cg.files = nil
	if err != nil {
		return err
	}
	tk := fmt.Sprintf("%schunk-%04d.jsonl", TruthPrefix, cg.chunk+1)
	if err := cg.st.Put(ctx, tk, bytes.NewReader(truth), int64(len(truth))); err != nil {
		return err
	}
	if cg.m.opt.CrossFaultRate <= 0 {
		return nil
	}
	cross := crossLines(cg.cross)
	ck := fmt.Sprintf("%s%s%04d.jsonl", TruthPrefix, CrossTruthPrefix, cg.chunk+1)
	return cg.st.Put(ctx, ck, bytes.NewReader(cross), int64(len(cross)))
}

func (cg *chunkGen) close(of *outFile) error {
	var err error
	if of.csv != nil {
		of.truth.Instances = of.rows
		of.csv.Flush()
		err = of.csv.Error()
	} else {
		of.truth.Instances = of.ordinal
		broken := cg.m.opt.FaultRate > 0 && hashFloat(cg.m.seed, of.key) < cg.m.opt.FaultRate
		groups, flows := of.w.Counts()
		switch {
		case broken && hashFloat(cg.m.seed+1, of.key) < 0.5:
			of.truth.Broken = dflow.RuleTrailerGroups
			err = of.w.CloseCounts(groups+1, flows, "", Created)
		case broken:
			of.truth.Broken = dflow.RuleTrailerMissing
			err = of.w.CloseCounts(groups, flows, "", Created)
		default:
			err = of.w.Close("", Created)
		}
		if broken {
			cg.sum.BrokenFiles++
		}
	}
	if err == nil {
		err = of.buf.Flush()
	}
	if cerr := of.f.Close(); err == nil {
		err = cerr
	}
	of.f = nil
	if err == nil && of.truth.Broken == dflow.RuleTrailerMissing {
		err = truncate(of.path)
	}
	return err
}

// truncate cuts a file at the line start nearest 60 % of its size, as an
// interrupted transfer would, losing the trailer.
func truncate(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	cut := len(b) * 6 / 10
	for cut > 0 && b[cut-1] != '\n' {
		cut--
	}
	return os.Truncate(path, int64(cut))
}

func hashFloat(seed uint64, key string) float64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%s", seed, key)
	return float64(h.Sum64()>>11) / (1 << 53)
}

// cutOf is the <cut> segment of inbox/<MPID>/<cut>/<id>/<file>.
func cutOf(key string) string {
	f, _ := cut.ParseInboxKey(key)
	return f.Type
}

// abort removes spool files left by a failed chunk.
func (cg *chunkGen) abort() {
	for _, of := range cg.files {
		if of.f != nil {
			of.f.Close()
		}
		os.Remove(of.path)
	}
}
