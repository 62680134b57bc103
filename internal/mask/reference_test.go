package mask

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

var referencePath = filepath.Join("..", "..", "docs", "reference", "dpia-methods.md")

// TestMethodsReferenceIsFresh: the committed reference is what the list of
// methods says; -update rewrites it.
func TestMethodsReferenceIsFresh(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMethodsReference(&b); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(referencePath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(referencePath, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("%s is stale: regenerate it with go test ./internal/mask -run TestMethodsReferenceIsFresh -update\n%s", referencePath, diffLines(string(want), b.String()))
	}
}
