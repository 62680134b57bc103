// Package mask masks personal data in cuts per the DPIA rules (dpia.yaml):
// the rules and their masking methods, keyed by the programme key, applied to
// Arrow columns, and the leak check that no raw value survives in a cut.
package mask

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// SchemeVersion names the masking scheme: the methods, how keys are derived
// and how fakes are chosen. It changes whenever any masked output would; it
// is recorded in every manifest so cuts masked differently are not mixed.
const SchemeVersion = "datacut-mask/1"

// KeyEnv is the environment variable holding the programme key.
const KeyEnv = "DATACUT_MASK_KEY"

// Key is the programme masking key: 256 bits shared by every process that
// masks for the programme (the run's workers), never by participants.
// It never prints: every fmt verb shows a redaction.
type Key struct{ k [32]byte }

func (Key) String() string               { return "mask-key(redacted)" }
func (Key) GoString() string             { return "mask-key(redacted)" }
func (Key) Format(f fmt.State, _ rune)   { f.Write([]byte("mask-key(redacted)")) }
func (Key) MarshalText() ([]byte, error) { return []byte("mask-key(redacted)"), nil }

// A key must look random: at least minDistinct different byte values and
// no repetition of a pattern of up to maxPeriod bytes. A random key has
// about 30 different values and no period, so this refuses only made-up
// keys (all zeros, "abab…", a counter printed as 64 hex digits).
const (
	minDistinct = 8
	maxPeriod   = 8
)

// MaxKeyFile bounds what LoadKey reads of a key file: a key is 64 hex
// characters and a newline, so anything longer is not a key file.
const MaxKeyFile = 4 << 10

// ParseKey reads 64 hexadecimal characters and refuses a weak key (see
// minDistinct and maxPeriod). Errors never show the key.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	var k Key
	if len(s) != 64 {
		return k, fmt.Errorf("mask key must be 64 hexadecimal characters (256 bits), got %d characters", len(s))
	}
	if _, err := hex.Decode(k.k[:], []byte(s)); err != nil {
		return k, errors.New("mask key must be 64 hexadecimal characters (256 bits): it has other characters")
	}
	if err := k.checkStrength(); err != nil {
		return Key{}, err
	}
	return k, nil
}

// checkStrength refuses a key with too few different bytes or a short
// repeated pattern.
func (k Key) checkStrength() error {
	weak := "mask key is too weak: %s; a key must be random (make one with 'datacut keygen --out FILE')"
	seen := map[byte]bool{}
	for _, b := range k.k {
		seen[b] = true
	}
	if len(seen) < minDistinct {
		return fmt.Errorf(weak, fmt.Sprintf("it has %d different byte values, a random key about 30 (at least %d needed)", len(seen), minDistinct))
	}
	for p := 1; p <= maxPeriod; p++ {
		if k.repeats(p) {
			return fmt.Errorf(weak, fmt.Sprintf("it repeats a pattern of %d bytes", p))
		}
	}
	return nil
}

// repeats says whether the key is a pattern of p bytes over and over.
func (k Key) repeats(p int) bool {
	for i := p; i < len(k.k); i++ {
		if k.k[i] != k.k[i-p] {
			return false
		}
	}
	return true
}

// GenerateKey makes a fresh random key.
func GenerateKey() (Key, error) {
	for {
		var k Key
		if _, err := rand.Read(k.k[:]); err != nil {
			return Key{}, fmt.Errorf("making a mask key: %w", err)
		}
		if k.checkStrength() == nil { // all but certain the first time
			return k, nil
		}
	}
}

// WriteKeyFile writes k to a new file at path as 64 hex characters and a
// newline, readable by its owner only; an existing file is never
// overwritten (cuts masked with a key do not join cuts masked with
// another).
func WriteKeyFile(path string, k Key) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(hex.EncodeToString(k.k[:]) + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// LoadKey reads the key from file when given, else from $DATACUT_MASK_KEY.
func LoadKey(file string) (Key, error) {
	if file != "" {
		b, err := readKeyFile(file)
		if err != nil {
			return Key{}, err
		}
		k, err := ParseKey(string(b))
		if err != nil {
			return Key{}, fmt.Errorf("mask key file %s: %w", file, err)
		}
		return k, nil
	}
	v := os.Getenv(KeyEnv)
	if v == "" {
		return Key{}, fmt.Errorf("no mask key: set %s to the programme key (64 hex characters) or pass --key-file", KeyEnv)
	}
	k, err := ParseKey(v)
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", KeyEnv, err)
	}
	return k, nil
}

// readKeyFile reads at most MaxKeyFile bytes: --key-file /dev/zero must
// not read forever.
func readKeyFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading mask key file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading mask key file: %w", err)
	}
	if len(b) > MaxKeyFile {
		return nil, fmt.Errorf("mask key file %s is over %d KiB: a key file holds 64 hex characters", file, MaxKeyFile>>10)
	}
	return b, nil
}

// derive returns a 32-byte subkey for a purpose, so every domain gets its
// own independent key.
func (k Key) derive(purpose string) []byte {
	m := hmac.New(sha256.New, k.k[:])
	m.Write([]byte(SchemeVersion + "|" + purpose))
	return m.Sum(nil)
}

// Fingerprint identifies the key without revealing it; it is recorded with
// every masked output so outputs masked with different keys are detected.
func (k Key) Fingerprint() string {
	return "sha256:" + hex.EncodeToString(k.derive("fingerprint")[:8])
}
