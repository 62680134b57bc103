package ff1

import (
	"crypto/aes"
	"math/rand/v2"
	"testing"
)

// The lanes agree with crypto/aes for every key size, on every lane.
func TestLanesMatchCryptoAES(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	if !haveAESNI {
		t.Log("no AES-NI here: the lanes fall back to crypto/aes")
	}
	for _, n := range []int{16, 24, 32} {
		for trial := 0; trial < 50; trial++ {
			key := make([]byte, n)
			for i := range key {
				key[i] = byte(rng.Uint32())
			}
			block, _ := aes.NewCipher(key)
			l := newLaneAES(key, block)
			var b, want [Lanes][16]byte
			for k := range b {
				for i := range b[k] {
					b[k][i] = byte(rng.Uint32())
				}
				block.Encrypt(want[k][:], b[k][:])
			}
			fallback := b
			l.encrypt(&b)
			if b != want {
				t.Fatalf("AES-%d trial %d: lanes %x, want %x", 8*n, trial, b, want)
			}
			(&laneAES{block: block}).encrypt(&fallback)
			if fallback != want {
				t.Fatalf("AES-%d trial %d: fallback %x, want %x", 8*n, trial, fallback, want)
			}
		}
	}
}

func BenchmarkLanes(b *testing.B) {
	key := make([]byte, 32)
	block, _ := aes.NewCipher(key)
	l := newLaneAES(key, block)
	var x [Lanes][16]byte
	b.Run("lanes", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			l.encrypt(&x)
		}
	})
	b.Run("one-by-one", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for k := range x {
				block.Encrypt(x[k][:], x[k][:])
			}
		}
	})
}

// EncryptLanes gives Encrypt's results on every shape: numeral counts from
// the minimum domain to 19 digits, radix 10 and 36, tweaks of 0-12 bytes
// (past 8, and past one block of Q, they take Encrypt's path), in groups
// that do not fill the lanes.
func TestEncryptLanesMatchesEncrypt(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(rng.Uint32())
	}
	for _, radix := range []int{10, 36} {
		c, err := New(key, radix)
		if err != nil {
			t.Fatal(err)
		}
		for trial := 0; trial < 300; trial++ {
			ls := make([]Lane, 1+rng.IntN(3*Lanes))
			want := make([]uint64, len(ls))
			for j := range ls {
				n := 6 + rng.IntN(14)
				if radix == 36 {
					n = 4 + rng.IntN(9)
				}
				max := uint64(1)
				for i := 0; i < n; i++ {
					max *= uint64(radix)
				}
				tweak := make([]byte, rng.IntN(13))
				for i := range tweak {
					tweak[i] = byte(rng.Uint32())
				}
				ls[j] = Lane{N: n, X: rng.Uint64N(max), Tweak: tweak}
				x := make([]uint16, n)
				c.str(x, ls[j].X)
				if err := c.Encrypt(x, x, tweak); err != nil {
					t.Fatal(err)
				}
				want[j] = c.num(x)
			}
			if err := c.EncryptLanes(ls); err != nil {
				t.Fatal(err)
			}
			for j := range ls {
				if ls[j].X != want[j] {
					t.Fatalf("radix %d lane %d (%d numerals, tweak %d bytes): %d, want %d", radix, j, ls[j].N, len(ls[j].Tweak), ls[j].X, want[j])
				}
			}
		}
	}
	c, _ := New(key, 10)
	for _, bad := range []Lane{{N: 5, X: 1}, {N: 6, X: 1_000_000}, {N: 21, X: 1}} {
		if err := c.EncryptLanes([]Lane{bad}); err == nil {
			t.Errorf("lane %+v accepted", bad)
		}
	}
}

func BenchmarkEncryptLanes10Digits(b *testing.B) {
	c, _ := New(make([]byte, 32), 10)
	ls := make([]Lane, 64)
	for j := range ls {
		ls[j] = Lane{N: 10, X: uint64(j) * 7919, Tweak: []byte("12")}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.EncryptLanes(ls); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ls)), "ns/value")
}

// reduce agrees with % for moduli across the range FF1 uses and values at
// the edges, where the estimated quotient is one short.
func TestModulusReduce(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := 0; trial < 20000; trial++ {
		m := 1 + rng.Uint64N(maxHalf)
		if trial%4 == 0 {
			m = 1 + rng.Uint64N(1000)
		}
		md := newModulus(m)
		for _, x := range []uint64{0, m - 1, m, ^uint64(0), ^uint64(0) - m, rng.Uint64(), rng.Uint64N(m) * m} {
			if got := md.reduce(x); got != x%m {
				t.Fatalf("%d mod %d = %d, want %d", x, m, got, x%m)
			}
		}
	}
}
