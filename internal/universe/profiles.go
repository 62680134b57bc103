package universe

// Profiles is the universe's table of profiles. A profile is kept as its
// values' symbols (52 bytes, not a Profile's 208): the distinct profiles
// grow with the market (79,000 at 10^6 MPANs, 186,000 at 3·10^7), their
// values do not.
type Profiles struct {
	vals []string          // symbol → value
	syms map[string]uint32 // value → symbol, made by the first Append
	keys []profileKey
}

// Len is the number of profiles.
func (p *Profiles) Len() int { return len(p.keys) }

// At is profile i.
func (p *Profiles) At(i uint32) Profile {
	var pr Profile
	for a, s := range p.keys[i] {
		pr[a] = p.vals[s]
	}
	return pr
}

// Append adds a profile (tests, and universes made by hand) and returns
// its number.
func (p *Profiles) Append(pr Profile) uint32 {
	if p.syms == nil {
		p.syms = make(map[string]uint32, len(p.vals))
		for s, v := range p.vals {
			p.syms[v] = uint32(s)
		}
	}
	var k profileKey
	for a, v := range pr {
		s, ok := p.syms[v]
		if !ok {
			s = uint32(len(p.vals))
			p.syms[v] = s
			p.vals = append(p.vals, v)
		}
		k[a] = s
	}
	p.keys = append(p.keys, k)
	return uint32(len(p.keys) - 1)
}
