package synth

import (
	"context"
	"math/rand/v2"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/dflow/dflowgen"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Sampler draws single metering points of a seed, one per index, each with
// every attribute a point of the seed's market has (segment, classes,
// meter, appointees, address, customer) and no linked partner: the
// allocator's top-up picks among them one that a demand accepts, then
// gives it a core and appointees of its own. Safe for one goroutine.
type Sampler struct {
	m *market
	// A point's generator, reseeded for each candidate's own attributes:
	// none is built on the heap per candidate.
	pcg *rand.PCG
	r   *rand.Rand
}

// NewSampler is the sampler of a seed.
func NewSampler(seed uint64) *Sampler {
	pcg := &rand.PCG{}
	return &Sampler{m: &market{seed: seed, n: 1 << 62, pools: newPools(seed)}, pcg: pcg, r: rand.New(pcg)}
}

// Point is the seed's point i (i ≥ 0), unlinked.
func (s *Sampler) Point(i int) *Point {
	p := s.m.point(i)
	p.Partner, p.PartnerCore, p.Export = -1, "", false
	return p
}

// Segment is the segment of the seed's point i, as Point(i) has it, drawn
// without the rest of the point: a cheap first test of a candidate (an
// unmetered point is one in a hundred).
func (s *Sampler) Segment(i int) string {
	s.pcg.Seed(s.m.seed, pointStream(i))
	return segmentOf(firstFloat(s.pcg), s.export(i))
}

// Own fills p with the own attributes of the seed's point i (segment,
// measurement and profile class, meter, energisation, domestic), as
// Point(i) has them, and nothing else: the next test of a candidate whose
// segment passed, without the site, address and customer.
func (s *Sampler) Own(i int, p *Point) {
	*p = Point{Index: i, Partner: -1, Export: s.export(i)} // an export's segment is A
	s.pcg.Seed(s.m.seed, pointStream(i))
	p.drawOwn(s.r)
	p.Export = false // unlinked, as Point(i)
}

// export reports whether point i is the export half of a linked pair.
func (s *Sampler) export(i int) bool {
	return !isImportOfPair(s.m.seed, i, s.m.n) && i > 0 && isImportOfPair(s.m.seed, i-1, s.m.n)
}

// MeterType is the point's DTC meter type (J0483) as EES shows it: N
// traditional, H advanced, S2ADE smart; "" unmetered.
func (p *Point) MeterType() string {
	if p.Meter == Unmetered {
		return ""
	}
	v, _ := p.value("J0483", at{register: 1})
	return v
}

// WritePoints writes the cuts of the given points into the store's inbox
// the way Generate writes a market's (one full submission per participant
// and cut type, without faults): the records of each point's flows, its
// EES row. cuts limits the cut types (default: all). Points keep their
// attributes; their Index numbers their records (keep it small).
func WritePoints(ctx context.Context, st store.Store, seed uint64, points []*Point, cuts []string) error {
	m := &market{seed: seed, n: len(points), pools: newPools(seed), cat: dflow.DefaultCatalog(), files: map[string][]cut.SubmittedFile{},
		opt: Options{MPANs: len(points), Seed: seed, ChunkMPANs: max(1, len(points)), Cuts: cuts}}
	cg := &chunkGen{m: m, st: st, files: map[string]*outFile{}, open: map[fileRef]*outFile{}, ees: map[string]*outFile{}, sum: newSummary(),
		b:     &builder{cat: m.cat, fill: dflowgen.New(seed)},
		fault: rand.New(rand.NewPCG(seed^0xfa17, 0))}
	cg.b.fill.EmptyOptional = 0
	defer cg.abort()
	for _, p := range points {
		if err := cg.point(p); err != nil {
			return err
		}
	}
	if err := cg.finish(ctx); err != nil {
		return err
	}
	return m.submit(ctx, st)
}
