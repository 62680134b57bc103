// Package mask masks personal data in cuts per the DPIA rules (dpia.yaml):
// the rules and their masking methods, keyed by the programme key, applied to
// Arrow columns, and the leak check that no raw value survives in a cut.
package mask

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// SchemeVersion names the masking scheme: the methods, how keys are derived
// and how fakes are chosen. It changes whenever any masked output would; it
// is recorded in every manifest so cuts masked differently are not mixed.
const SchemeVersion = "datacut-mask/1"

// KeyEnv is the environment variable holding the programme key.
const KeyEnv = "DATACUT_MASK_KEY"

// Key is the programme masking key: 256 bits shared by every participant.
// It never prints: every fmt verb shows a redaction.
type Key struct{ k [32]byte }

func (Key) String() string               { return "mask-key(redacted)" }
func (Key) GoString() string             { return "mask-key(redacted)" }
func (Key) Format(f fmt.State, _ rune)   { f.Write([]byte("mask-key(redacted)")) }
func (Key) MarshalText() ([]byte, error) { return []byte("mask-key(redacted)"), nil }

// ParseKey reads 64 hexadecimal characters.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	var k Key
	if len(s) != 64 {
		return k, fmt.Errorf("mask key must be 64 hexadecimal characters (256 bits), got %d characters", len(s))
	}
	if _, err := hex.Decode(k.k[:], []byte(s)); err != nil {
		return k, errors.New("mask key must be 64 hexadecimal characters (256 bits): it has other characters")
	}
	return k, nil
}

// LoadKey reads the key from file when given, else from $DATACUT_MASK_KEY.
func LoadKey(file string) (Key, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return Key{}, fmt.Errorf("reading mask key file: %w", err)
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
