// Package dflowgen generates valid D-flow files for any catalogue flow, for
// tests and benchmarks. Values are canonical: they survive a round trip
// through Arrow byte for byte.
package dflowgen

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mpan"
)

// Gen produces records with deterministic pseudo-random valid values.
type Gen struct {
	rng *rand.Rand
	seq uint64
	// EmptyOptional is the probability an optional item is left empty.
	EmptyOptional float64
	// Repeat sets how many times a child group appears under each parent
	// (default: its minimum, at least 1).
	Repeat map[string]int
}

// New returns a generator seeded with seed.
func New(seed uint64) *Gen {
	return &Gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), EmptyOptional: 0.2}
}

// Header returns a test header for the flow.
func Header(f *dflow.Flow, fileID string) dflow.Header {
	return dflow.Header{FileID: fileID, Flow: f.ID, Version: f.Version, FromRole: "M", FromMPID: "MOPA",
		ToRole: "X", ToMPID: "SUPA", Created: "20240101120000", TestFlag: "TR01"}
}

// File writes a valid file of the flow with n instances of each unbounded
// level-1 group (bounded ones get their maximum, at most n).
func (g *Gen) File(w io.Writer, f *dflow.Flow, fileID string, n int) error {
	wr, err := dflow.NewWriter(w, Header(f, fileID), dflow.WriterOptions{})
	if err != nil {
		return err
	}
	for _, top := range f.TopGroups() {
		cnt := n
		if top.Max != dflow.Unbounded && top.Max < cnt {
			cnt = top.Max
		}
		for i := 0; i < cnt; i++ {
			if err := g.subtree(wr, top); err != nil {
				return err
			}
		}
	}
	return wr.Close("", "20240101120001")
}

func (g *Gen) subtree(wr *dflow.Writer, grp *dflow.Group) error {
	if err := wr.Write(grp, g.Record(grp)); err != nil {
		return err
	}
	for _, c := range grp.Children {
		cnt := max(c.Min, 1)
		if r, ok := g.Repeat[c.Code]; ok {
			cnt = r
		}
		if c.Max != dflow.Unbounded && cnt > c.Max {
			cnt = c.Max
		}
		for i := 0; i < cnt; i++ {
			if err := g.subtree(wr, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// Record returns valid field values for one record of the group.
func (g *Gen) Record(grp *dflow.Group) [][]byte {
	out := make([][]byte, len(grp.Fields))
	for i := range grp.Fields {
		fd := &grp.Fields[i]
		if !fd.Required && g.rng.Float64() < g.EmptyOptional {
			out[i] = []byte{}
			continue
		}
		out[i] = []byte(g.Value(fd))
	}
	return out
}

// Value returns one valid, canonical value for the field.
func (g *Gen) Value(fd *dflow.Field) string {
	it := fd.Item
	g.seq++
	if it.MPAN {
		return mpan.Format(10+int(g.seq%14), g.seq*7919+g.rng.Uint64N(1000))
	}
	if len(it.ValidSet) > 0 {
		v := it.ValidSet[g.rng.IntN(len(it.ValidSet))]
		if fits(fd.Format, v) {
			return v
		}
	}
	ft := fd.Format
	switch ft.Kind {
	case dflow.KindDate:
		return fmt.Sprintf("20%02d%02d%02d", 10+g.rng.IntN(20), 1+g.rng.IntN(12), 1+g.rng.IntN(28))
	case dflow.KindDateTime:
		return fmt.Sprintf("20%02d%02d%02d%02d%02d%02d", 10+g.rng.IntN(20), 1+g.rng.IntN(12), 1+g.rng.IntN(28), g.rng.IntN(24), g.rng.IntN(60), g.rng.IntN(60))
	case dflow.KindTime:
		return fmt.Sprintf("%02d%02d%02d", g.rng.IntN(24), g.rng.IntN(60), g.rng.IntN(60))
	case dflow.KindBoolean:
		return []string{"T", "F"}[g.rng.IntN(2)]
	case dflow.KindNum, dflow.KindInt:
		return g.number(fd)
	case dflow.KindText:
		return "TEXT"
	}
	n := ft.Width
	if n == 0 || n > 12 {
		n = 1 + g.rng.IntN(12)
	}
	if ft.Width > 0 && n > ft.Width {
		n = ft.Width
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte("ABCDEFGHJKLMNPRSTUVWXYZ0123456789"[g.rng.IntN(33)])
	}
	return b.String()
}

func (g *Gen) number(fd *dflow.Field) string {
	ft := fd.Format
	w := ft.Width
	if w == 0 {
		w = 6
	}
	if fd.Item.Type == dflow.TypeString {
		// codes keep their width and leading zeros
		n := min(w, 4)
		s := fmt.Sprintf("%0*d", n, g.rng.IntN(pow10(n)))
		return s
	}
	intDigits := min(w-ft.Scale, 4)
	var s string
	if intDigits <= 0 {
		s = "0"
	} else {
		s = fmt.Sprint(g.rng.IntN(pow10(intDigits)))
	}
	if ft.Scale > 0 {
		s += "." + fmt.Sprintf("%0*d", ft.Scale, g.rng.Int64N(int64(pow10(min(ft.Scale, 18)))))[:ft.Scale]
	}
	if ft.Signed && g.rng.IntN(4) == 0 && strings.Trim(s, "0.") != "" {
		s = "-" + s
	}
	return s
}

func pow10(n int) int {
	p := 1
	for i := 0; i < n && i < 18; i++ {
		p *= 10
	}
	return p
}

// fits reports whether a valid-set code fits the field's CHAR width.
func fits(ft dflow.Format, v string) bool {
	return ft.Kind != dflow.KindChar || ft.Width == 0 || len(v) <= ft.Width
}
