package mask

import (
	"fmt"

	"github.com/mhhs-sit/datacut/internal/mask/ff1"
	"github.com/mhhs-sit/datacut/internal/mpan"
)

// MethodMPAN masks MPAN cores: FF1 on digits 3..12, distributor kept,
// check digit recomputed.
const MethodMPAN = "mpan"

var mpanSpec = &methodSpec{
	name:        MethodMPAN,
	summary:     "FF1 (NIST SP 800-38G) on digits 3–12 with the distributor id as tweak; distributor id kept, check digit recomputed; a bijection",
	usedFor:     "MPAN core and every MPAN-typed alias (related, primary, secondary, sequence MPANs): one domain, so links survive",
	details:     "An MPAN core masks to a valid core of the same distributor, and two cores never mask alike, so an MPAN still joins every table and flow it appears in, and across participants masking with the same key. An invalid core (not 13 digits, or a wrong check digit) is an error, never passed through. MPAN-typed items must use this method, or keep or blank.",
	cached:      true,
	perInstance: true,
	onlyMPAN:    true,
	mpanItems:   true,
	textOnly:    true,
	build:       func(_ *Domain, key []byte) (method, error) { return newMPAN(key) },
}

type mpanMethod struct{ c *ff1.Cipher }

func newMPAN(key []byte) (*mpanMethod, error) {
	c, err := ff1.New(key, 10)
	return &mpanMethod{c: c}, err
}

func (m *mpanMethod) mask(v []byte, width int) ([]byte, error) {
	return maskOne(m, v, width)
}

func (m *mpanMethod) maskAll(vs [][]byte, _ int) ([][]byte, error) {
	ls := make([]ff1.Lane, len(vs))
	for i, v := range vs {
		if p := mpan.Problem(v); p != "" {
			return nil, fmt.Errorf("cannot mask an invalid MPAN core (%s)", p)
		}
		var x uint64
		for _, c := range v[2:12] {
			x = x*10 + uint64(c-'0')
		}
		// The distributor id is the tweak: each distributor's numbers get
		// their own permutation, so equal unique numbers under different
		// ids do not mask alike.
		ls[i] = ff1.Lane{N: 10, X: x, Tweak: v[:2]}
	}
	if err := m.c.EncryptLanes(ls); err != nil {
		return nil, err
	}
	arena := make([]byte, 13*len(vs))
	out := make([][]byte, len(vs))
	for i, l := range ls {
		o := arena[13*i : 13*i+13 : 13*i+13]
		o[0], o[1] = vs[i][0], vs[i][1]
		for k, x := 11, l.X; k >= 2; k, x = k-1, x/10 {
			o[k] = byte('0' + x%10)
		}
		o[12] = mpan.CheckDigit(o)
		out[i] = o
	}
	return out, nil
}
