package reconcile

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/pipeline"
)

// A published table whose pages are damaged (bytes that do not decompress:
// Arrow's Snappy codec panics on them) makes the run an error naming the
// table, never a panic, whichever of its pages is hit.
func TestDamagedTableIsAnError(t *testing.T) {
	st, dir, set := market(t, 400, 0)
	dpia := set.Rules(pipeline.DefaultRules)
	opt := Options{Store: st, Rules: builtIn(t), Clear: func(ref string) bool { return !dpia.Sensitive(ref) }}
	var path string
	var size int64
	filepath.WalkDir(filepath.Join(dir, "cuts"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(p, "/ees/") && strings.HasSuffix(p, ".parquet") {
			if info, _ := d.Info(); info != nil && info.Size() > size {
				path, size = p, info.Size()
			}
		}
		return nil
	})
	if path == "" {
		t.Fatal("no EES table published")
	}
	valid, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	footer := int(binary.LittleEndian.Uint32(valid[len(valid)-8:]))
	pages := len(valid) - 8 - footer - 4
	if _, err := Run(t.Context(), opt); err != nil {
		t.Fatalf("the undamaged market: %v", err)
	}
	errs := 0
	for at := 0; at < pages; at += pages / 40 {
		data := bytes.Clone(valid)
		for i := range 16 {
			data[4+(at+i)%pages] ^= 0xa5
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Run(t.Context(), opt)
		if err != nil {
			errs++
			rel, _ := filepath.Rel(dir, path)
			if !strings.Contains(err.Error(), filepath.ToSlash(rel)) {
				t.Errorf("damage at page byte %d: %v; want the error to name %s", at, err, rel)
			}
		}
	}
	if errs == 0 {
		t.Fatal("no damage made an error: the test hits no page the rules read")
	}
}
