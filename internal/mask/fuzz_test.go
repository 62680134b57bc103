package mask

import (
	"testing"
	"unicode/utf8"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// FuzzMaskValue: any value for any rule never panics; text outputs fit the
// item's width; identifiers keep their length.
func FuzzMaskValue(f *testing.F) {
	m := testMasker(f, testKeyHex)
	refs := []string{"J0003", "J0004", "J0428", "J2312", "J1840", "J0375", "J0490", "J2060", "J1036", "J0263", "J0464", "J1699", "J0008", "J0080"}
	for i, s := range []string{"1012345678903", "S12A 34567", "ab-12", "0A-1B", "", "Jane", "\xff\xfe", "SW1A 1AA", "x"} {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, which uint8, v []byte) {
		ref := refs[int(which)%len(refs)]
		out, err := m.Value(ref, v, 0)
		if err != nil {
			return // e.g. an invalid MPAN: refused, not passed through
		}
		it := dflow.DefaultCatalog().Item(ref)
		if len(v) == 0 && len(out) != 0 {
			t.Fatalf("%s: empty became %q", ref, out)
		}
		method := m.rules.Items[ref].Domain.Method
		if method == MethodIdentifier && len(out) != len(v) {
			t.Fatalf("%s: identifier length %d -> %d", ref, len(v), len(out))
		}
		if method != MethodKeep && method != MethodIdentifier && it.Format.Kind == dflow.KindChar && utf8.RuneCount(out) > it.Format.Width {
			t.Fatalf("%s: %q exceeds CHAR(%d)", ref, out, it.Format.Width)
		}
	})
}
