package cut

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mhhs-sit/datacut/internal/store"
)

// Pending is one submission folder in the inbox, or the loose files of one
// MPID's cut type folder (ID ""), which are never published.
type Pending struct {
	MPID, Cut, ID string
	Files         []store.Info // the data files, as submission.json lists them once it is valid
	// Submission is the folder's submission.json, parsed; nil while it is
	// missing or invalid. SHA256 is that file's.
	Submission *Submission
	SHA256     string
	// Waiting says why the folder cannot be taken yet ("" when it can):
	// the participant has more to upload or something to correct.
	Waiting string
	// Since is the time of the folder's newest upload.
	Since time.Time
}

// Ignored is an inbox object that is not where a submission's file
// belongs, and why.
type Ignored struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// ScanInbox lists the inbox's submissions of the (MPID, cut type) pairs
// keep accepts (all if nil), in the order a run takes them: by MPID and
// cut type, then by when submission.json arrived, then by id. Each is
// checked as far as the inbox alone tells: its submission.json is there
// and valid and every file it lists is there with its size.
func ScanInbox(ctx context.Context, st store.Store, keep func(mpid, cutType string) bool) ([]*Pending, []Ignored, error) {
	return scanInbox(ctx, st, []string{InboxRoot}, keep)
}

// ScanInboxOf is ScanInbox of the inbox folders of mpids only, which is
// what a participant's own credentials may list.
func ScanInboxOf(ctx context.Context, st store.Store, mpids []string) ([]*Pending, []Ignored, error) {
	roots := make([]string, len(mpids))
	for i, m := range mpids {
		roots[i] = InboxRoot + m + "/"
	}
	return scanInbox(ctx, st, roots, nil)
}

func scanInbox(ctx context.Context, st store.Store, roots []string, keep func(mpid, cutType string) bool) ([]*Pending, []Ignored, error) {
	var ignored []Ignored
	byDir := map[string]*Pending{}
	meta := map[string]store.Info{}
	list := func(root string) error {
		return st.List(ctx, root, func(i store.Info) error {
			f, err := ParseInboxKey(i.Key)
			if err != nil {
				ignored = append(ignored, Ignored{Key: i.Key, Reason: err.Error()})
				return nil
			}
			if keep != nil && !keep(f.MPID, f.Type) {
				return nil
			}
			dir := InboxDir(f.MPID, f.Type) + f.Submission
			p := byDir[dir]
			if p == nil {
				p = &Pending{MPID: f.MPID, Cut: f.Type, ID: f.Submission}
				byDir[dir] = p
			}
			if i.Modified.After(p.Since) {
				p.Since = i.Modified
			}
			if f.Submission != "" && f.Name == SubmissionFile {
				meta[dir] = i
			} else {
				p.Files = append(p.Files, i)
			}
			return nil
		})
	}
	for _, root := range roots {
		if err := list(root); err != nil {
			return nil, nil, fmt.Errorf("listing %s: %w", root, err)
		}
	}
	out := make([]*Pending, 0, len(byDir))
	for dir, p := range byDir {
		m, ok := meta[dir]
		if err := p.check(ctx, st, m, ok); err != nil {
			return nil, nil, err
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.MPID != b.MPID || a.Cut != b.Cut {
			return a.MPID+"/"+a.Cut < b.MPID+"/"+b.Cut
		}
		ta, tb := a.metaTime(meta), b.metaTime(meta)
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return a.ID < b.ID
	})
	return out, ignored, nil
}

func (p *Pending) metaTime(meta map[string]store.Info) time.Time {
	return meta[InboxDir(p.MPID, p.Cut)+p.ID].Modified
}

// check reads the folder's submission.json and says what it still waits for.
func (p *Pending) check(ctx context.Context, st store.Store, meta store.Info, hasMeta bool) error {
	switch {
	case p.ID == "":
		p.Waiting = fmt.Sprintf("loose files, not in a submission folder: upload them to %s<submission id>/ with a %s (datacut submit does both)", InboxDir(p.MPID, p.Cut), SubmissionFile)
		return nil
	case !hasMeta:
		p.Waiting = fmt.Sprintf("no %s yet: it is uploaded last, after every file", SubmissionFile)
		return nil
	}
	b, err := store.ReadAll(ctx, st, meta.Key)
	if store.IsNotFound(err) { // removed since the listing
		p.Waiting = fmt.Sprintf("no %s yet: it is uploaded last, after every file", SubmissionFile)
		return nil
	}
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	p.SHA256 = hex.EncodeToString(sum[:])
	s, err := ParseSubmission(b, p.MPID, p.Cut)
	if err != nil {
		p.Waiting = err.Error() + ": correct it and upload submission.json again"
		return nil
	}
	have := map[string]store.Info{}
	for _, f := range p.Files {
		have[BaseName(f.Key)] = f
	}
	var missing, extra []string
	for _, f := range s.Files {
		got, ok := have[f.Name]
		switch {
		case !ok:
			missing = append(missing, f.Name)
		case got.Size != f.Size:
			missing = append(missing, fmt.Sprintf("%s (%d of %d bytes)", f.Name, got.Size, f.Size))
		}
	}
	for name := range have {
		if _, ok := s.Listed(name); !ok {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	switch {
	case len(missing) > 0:
		p.Waiting = fmt.Sprintf("%d of %d files not uploaded yet: %s", len(missing), len(s.Files), strings.Join(missing, ", "))
	case len(extra) > 0:
		p.Waiting = fmt.Sprintf("holds files %s does not list: %s (list them, or remove them)", SubmissionFile, strings.Join(extra, ", "))
	default:
		p.Submission = s
		for i, f := range s.Files { // in the order the sender listed them
			p.Files[i] = have[f.Name]
		}
	}
	return nil
}
