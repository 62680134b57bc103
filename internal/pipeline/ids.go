package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
)

// versionID identifies a version by what made it: the pipeline, rules and
// key, the version number and submission, and its parts' names and
// SHA-256. A run redoing a version after a crash writes the same folder.
func versionID(d *Definition, m *cut.Manifest, key mask.Key) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s\n", d.Name, m.MPID, d.rules.Hash, key.Fingerprint(), mask.SchemeVersion)
	fmt.Fprintf(h, "v%d|%s|%s|%d\n", m.Version, m.Submission.ID, m.Submission.SHA256, m.Amends)
	for _, in := range m.Inputs {
		fmt.Fprintf(h, "%s|%s\n", in.Name(), in.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func nowUTC() time.Time { return time.Now().UTC() }
