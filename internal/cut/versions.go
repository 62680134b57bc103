package cut

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/mhhs-sit/datacut/internal/store"
)

// Latest is cuts/<type>/mpid=<M>/latest.json: the version readers take
// unless a plan pins another. It is written after that version's manifest.
type Latest struct {
	Version    int    `json:"version"`
	CutID      string `json:"cutId"`
	Prefix     string `json:"prefix"`
	AsAt       string `json:"asAt"`
	Submission string `json:"submission"`
}

// LatestOf picks the latest of versions: the latest as-at, then the
// highest version number. Nil if there are none.
func LatestOf(versions []*Manifest) *Manifest {
	var best *Manifest
	var bestAt time.Time
	for _, m := range versions {
		at, _ := ParseAsAt(m.AsAt)
		if best == nil || at.After(bestAt) || (at.Equal(bestAt) && m.Version > best.Version) {
			best, bestAt = m, at
		}
	}
	return best
}

// LatestRef is what latest.json says of m.
func LatestRef(m *Manifest) Latest {
	return Latest{Version: m.Version, CutID: m.CutID, Prefix: Prefix(m.Cut, m.MPID, m.CutID), AsAt: m.AsAt, Submission: m.Submission.ID}
}

// Versions reads the manifest of every published version of mpid's cut of
// cutType, by version number.
func Versions(ctx context.Context, st store.Store, cutType, mpid string) ([]*Manifest, error) {
	var prefixes []string
	err := st.List(ctx, MPIDRoot(cutType, mpid), func(i store.Info) error {
		if k, ok := ParseCutKey(i.Key); ok && k.ID != "" && k.Name == ManifestFile {
			prefixes = append(prefixes, k.Prefix)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*Manifest, 0, len(prefixes))
	for _, p := range prefixes {
		m, err := ReadManifest(ctx, st, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// ReadLatest reads the latest.json of mpid's cut of cutType; an error for
// which store.IsNotFound is true if none was published.
func ReadLatest(ctx context.Context, st store.Store, cutType, mpid string) (Latest, error) {
	var l Latest
	b, err := store.ReadAll(ctx, st, LatestKey(cutType, mpid))
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("%s: %w", LatestKey(cutType, mpid), err)
	}
	return l, nil
}

// LatestManifest reads the manifest of the version mpid's latest.json
// names, and checks it is that version of that cut.
func LatestManifest(ctx context.Context, st store.Store, cutType, mpid string) (*Manifest, error) {
	l, err := ReadLatest(ctx, st, cutType, mpid)
	if err != nil {
		return nil, fmt.Errorf("the latest %s cut of %s: %w", cutType, mpid, err)
	}
	prefix := Prefix(cutType, mpid, l.CutID)
	if l.CutID == "" || (l.Prefix != "" && l.Prefix != prefix) {
		return nil, fmt.Errorf("%s names cut id %q at %q, not a version of %s's %s cut", LatestKey(cutType, mpid), l.CutID, l.Prefix, mpid, cutType)
	}
	m, err := ReadManifest(ctx, st, prefix)
	if err != nil {
		return nil, fmt.Errorf("%s names version %d (%s): %w", LatestKey(cutType, mpid), l.Version, prefix, err)
	}
	if m.Cut != cutType || m.MPID != mpid || m.Version != l.Version {
		return nil, fmt.Errorf("%s names version %d, but %s holds %s's %s cut version %d", LatestKey(cutType, mpid), l.Version, ManifestKey(prefix), m.MPID, m.Cut, m.Version)
	}
	return m, nil
}

// WriteLatest makes l the latest version of mpid's cut of cutType.
func WriteLatest(ctx context.Context, st store.Store, cutType, mpid string, l Latest) error {
	return putJSON(ctx, st, LatestKey(cutType, mpid), l)
}

// WriteSubmission writes a submission's submission.json: the last object
// of its folder, once every file it lists is uploaded.
func WriteSubmission(ctx context.Context, st store.Store, id string, s *Submission) error {
	return putJSON(ctx, st, SubmissionKey(s.MPID, s.Cut, id), s)
}

// Receipt statuses: what became of a submission.
const (
	ReceiptPublished        = "published"         // it became a version
	ReceiptNothingPublished = "nothing published" // every file it sent was quarantined
)

// Receipt says what became of a submission: reports/<type>/mpid=<M>/<id>/receipt.json.
// It holds names, counts and rules, never data.
type Receipt struct {
	Submission SubmissionRef `json:"submission"`
	Cut        string        `json:"cut"`
	MPID       string        `json:"mpid"`
	// Status is ReceiptPublished (a new version) or
	// ReceiptNothingPublished (every file it sent was quarantined).
	Status      string           `json:"status"`
	Version     int              `json:"version,omitempty"`
	CutID       string           `json:"cutId,omitempty"`
	Prefix      string           `json:"prefix,omitempty"`
	AsAt        string           `json:"asAt"`
	Amends      int              `json:"amends,omitempty"`
	Latest      bool             `json:"latest"` // the version is the cut's latest
	Rows        map[string]int64 `json:"rows,omitempty"`
	Rejected    int              `json:"rejected"`
	ByRule      map[string]int   `json:"rejectedByRule,omitempty"`
	RejectedIn  []string         `json:"rejectedInstances,omitempty"` // keys of the files holding them
	Quarantined []Quarantine     `json:"quarantined,omitempty"`
	// DuplicateUnits counts MPAN units found twice in one flow of the
	// version (listed in its manifest): a warning.
	DuplicateUnits int       `json:"duplicateUnits,omitempty"`
	Warnings       []string  `json:"warnings,omitempty"`
	Finished       time.Time `json:"finished"`
}

// ReadReceipt reads a submission's receipt; store.IsNotFound if it has none yet.
func ReadReceipt(ctx context.Context, st store.Store, cutType, mpid, submission string) (*Receipt, error) {
	b, err := store.ReadAll(ctx, st, ReceiptKey(cutType, mpid, submission))
	if err != nil {
		return nil, err
	}
	var r Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", ReceiptKey(cutType, mpid, submission), err)
	}
	return &r, nil
}

// WriteReceipt writes a submission's receipt.
func WriteReceipt(ctx context.Context, st store.Store, r *Receipt) error {
	return putJSON(ctx, st, ReceiptKey(r.Cut, r.MPID, r.Submission.ID), r)
}

func putJSON(ctx context.Context, st store.Store, key string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	return st.Put(ctx, key, bytes.NewReader(b), int64(len(b)))
}
