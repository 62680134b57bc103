package universe

// Profiles is the universe's table of profiles. A profile is kept as its
// values' symbols (52 bytes, not a Profile's 208): the distinct profiles
// grow with the market (79,000 at 10^6 MPANs, 186,000 at 3·10^7), their
// values do not.
type Profiles struct {
	sym  symbols
	keys []profileKey
}

// Len is the number of profiles.
func (p *Profiles) Len() int { return len(p.keys) }

// At is profile i.
func (p *Profiles) At(i uint32) Profile {
	var pr Profile
	for a, s := range p.keys[i] {
		pr[a] = p.sym.vals[s]
	}
	return pr
}

// Append adds a profile (tests, and universes made by hand) and returns
// its number.
func (p *Profiles) Append(pr Profile) uint32 {
	if p.sym.ids == nil { // a built table keeps its values only
		p.sym.ids = make(map[string]uint32, len(p.sym.vals))
		for s, v := range p.sym.vals {
			p.sym.ids[v] = uint32(s)
		}
	}
	p.keys = append(p.keys, p.sym.key(pr))
	return uint32(len(p.keys) - 1)
}

// profileKey is a profile as its values' symbols.
type profileKey [NumAttrs]uint32

// symbols numbers attribute values, in order of first sight.
type symbols struct {
	ids  map[string]uint32 // value → symbol
	vals []string          // symbol → value
}

// key is pr as symbols, numbering values not seen before.
func (s *symbols) key(pr Profile) profileKey {
	var k profileKey
	for a, v := range pr {
		id, ok := s.ids[v]
		if !ok {
			id = uint32(len(s.vals))
			s.ids[v] = id
			s.vals = append(s.vals, v)
		}
		k[a] = id
	}
	return k
}
