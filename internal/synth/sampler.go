package synth

// Sampler draws single metering points of a seed, one per index, each with
// every attribute a point of the seed's market has (segment, classes,
// meter, appointees, address, customer) and no linked partner: the
// allocator's top-up picks among them one that a demand accepts, then
// gives it a core and appointees of its own. Safe for one goroutine.
type Sampler struct{ m *market }

// NewSampler is the sampler of a seed.
func NewSampler(seed uint64) *Sampler {
	return &Sampler{m: &market{seed: seed, n: 1 << 62, pools: newPools(seed)}}
}

// Point is the seed's point i (i ≥ 0), unlinked.
func (s *Sampler) Point(i int) *Point {
	p := s.m.point(i)
	p.Partner, p.PartnerCore, p.Export = -1, "", false
	return p
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
