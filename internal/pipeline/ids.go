package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/store"
)

// listingID identifies the inbox state of a cut cheaply: names, sizes and
// times of its inputs, with the pipeline, rules and key. A marker under it
// lets a re-run skip a published cut without reading anything.
func listingID(d *Definition, mpid string, inputs []store.Info, key mask.Key) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s\n", d.Name, mpid, d.rules.Hash, key.Fingerprint(), mask.SchemeVersion)
	for _, in := range inputs {
		fmt.Fprintf(h, "%s|%d|%d\n", in.Key, in.Size, in.Modified.UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// contentID identifies a cut by its content: the inputs' names and SHA-256,
// the pipeline, rules and key. The same inputs give the same cut id in any
// store, from any number of shards.
func contentID(d *Definition, mpid string, inputs []cut.Input, key mask.Key) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s\n", d.Name, mpid, d.rules.Hash, key.Fingerprint(), mask.SchemeVersion)
	for _, in := range inputs {
		fmt.Fprintf(h, "%s|%s\n", cut.BaseName(in.Key), in.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
