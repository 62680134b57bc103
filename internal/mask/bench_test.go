package mask

import (
	"fmt"
	"testing"

	"github.com/mhhs-sit/datacut/internal/mpan"
)

func BenchmarkMethods(b *testing.B) {
	m := testMasker(b, testKeyHex)
	cases := []struct {
		name, ref string
		value     func(i int) string
	}{
		{"mpan-new", "J0003", func(i int) string { return mpan.Format(10+i%14, uint64(i)) }},
		{"meter-id-new", "J0004", func(i int) string { return fmt.Sprintf("S%09d", i) }},
		{"name-new", "J0375", func(i int) string { return fmt.Sprintf("Person %d", i) }},
		{"address-new", "J1036", func(i int) string { return fmt.Sprintf("%d High Street", i) }},
		{"postcode-new", "J0263", func(i int) string { return fmt.Sprintf("AB%d 1CD", i) }},
	}
	for _, c := range cases {
		vals := make([][]byte, 1<<16)
		for i := range vals {
			vals[i] = []byte(c.value(i))
		}
		b.Run(c.name, func(b *testing.B) {
			// Distinct values, no session: each is masked anew.
			for i := 0; i < b.N; i++ {
				if i%len(vals) == 0 {
					b.StopTimer()
					m = testMasker(b, testKeyHex)
					b.StartTimer()
				}
				if _, err := m.Value(c.ref, vals[i%len(vals)], 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("mpan-cached-in-session", func(b *testing.B) {
		v := []byte("1012345678903")
		s := m.Session()
		s.Value("J0003", v, 0)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			s.Value("J0003", v, 0)
		}
	})
	for _, ref := range []string{"J0080", "J0464"} {
		b.Run("keep-or-constant-"+ref, func(b *testing.B) {
			v := []byte("E")
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				m.Value(ref, v, 0)
			}
		})
	}
}

// BenchmarkMemo: a session's memo as a names domain uses it, a value at a
// time from 1<<15 distinct values, most seen before.
func BenchmarkMemo(b *testing.B) {
	vals := make([][]byte, 1<<15)
	for i := range vals {
		vals[i] = []byte(fmt.Sprintf("PERSON %d", i*7919))
	}
	var m memo
	out := []byte("A FAKE NAME")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := vals[(i*40503)%len(vals)]
		h := memoHash(v, 20)
		if _, ok := m.get(h, v, 20); !ok {
			m.put(h, v, out, 20)
		}
	}
}
