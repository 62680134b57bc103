package mask

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWeakKeysAreRefused(t *testing.T) {
	demo := sha256.Sum256([]byte("datacut demo key: never for real data"))
	for _, good := range []string{testKeyHex, hex.EncodeToString(demo[:]), strings.Repeat("00112233445566778899aabbccddeeff", 2)} {
		if _, err := ParseKey(good); err != nil {
			t.Errorf("a good key refused: %v", err)
		}
	}
	for _, c := range []struct{ key, want string }{
		{strings.Repeat("00", 32), "it has 1 different byte values"},
		{strings.Repeat("ab", 32), "it has 1 different byte values"},
		{fmt.Sprintf("%064x", 12345), "it has 3 different byte values"},
		{strings.Repeat("00", 26) + "010203040506", "it has 7 different byte values"},
		{strings.Repeat("0123456789abcdef", 4), "it repeats a pattern of 8 bytes"},
	} {
		_, err := ParseKey(c.key)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "datacut keygen") {
			t.Errorf("key %.16s…: %v, want %q", c.key, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), c.key[:8]) {
			t.Errorf("the error shows the key: %v", err)
		}
	}
}

func TestLoadKeyReadsAFewKiBAtMost(t *testing.T) {
	if _, err := LoadKey("/dev/zero"); err == nil || !strings.Contains(err.Error(), "mask key file /dev/zero is over 4 KiB") {
		t.Fatalf("/dev/zero: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big")
	os.WriteFile(big, []byte(testKeyHex+strings.Repeat("\n", MaxKeyFile)), 0o600)
	if _, err := LoadKey(big); err == nil || !strings.Contains(err.Error(), "over 4 KiB") {
		t.Fatalf("a key file over the limit: %v", err)
	}
}

func TestGenerateAndWriteKeyFile(t *testing.T) {
	a, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateKey()
	if a == b || a == (Key{}) {
		t.Fatal("GenerateKey is not random")
	}
	path := filepath.Join(t.TempDir(), "programme.key")
	if err := WriteKeyFile(path, a); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 65 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	if k, err := LoadKey(path); err != nil || k != a {
		t.Fatalf("the written key reads back as another: %v", err)
	}
	if err := WriteKeyFile(path, b); err == nil {
		t.Fatal("WriteKeyFile overwrote a key")
	}
	if k, _ := LoadKey(path); k != a {
		t.Fatal("the key file changed")
	}
}
