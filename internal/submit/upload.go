package submit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mhhs-sit/datacut/internal/audit"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// NewID makes a submission id from the time and 4 random hex digits:
// 20261201T201500Z-3f9a.
func NewID(now time.Time) string {
	var b [2]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Used says whether a submission id of mpid's cut of cutType was used
// already: its inbox folder holds objects, or it has a receipt. Ids are
// used once.
func Used(ctx context.Context, st store.Store, mpid, cutType, id string) (bool, error) {
	errFound := errors.New("found")
	err := st.List(ctx, cut.SubmissionDir(mpid, cutType, id), func(store.Info) error { return errFound })
	if errors.Is(err, errFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := st.Stat(ctx, cut.ReceiptKey(cutType, mpid, id)); err == nil {
		return true, nil
	} else if !store.IsNotFound(err) {
		return false, err
	}
	return false, nil
}

// Upload sends a plan's files to a fresh submission folder, then its
// submission.json, last, and returns the submission id. Each file is
// streamed from disk and must still be what Prepare read (size and
// SHA-256), or its upload fails. If anything fails, what was uploaded is
// removed again (the folder has no submission.json, so nothing took it).
// progress reports bytes uploaded of the total.
func Upload(ctx context.Context, st store.Store, p *Plan, now time.Time, progress func(done, total int64)) (string, error) {
	if p.Refused() {
		return "", fmt.Errorf("%d files would be quarantined: not uploaded", len(p.Broken()))
	}
	s := p.Submission
	if s.Kind == cut.KindAmend {
		if err := checkAmended(ctx, st, s); err != nil {
			return "", err
		}
	}
	id, err := freshID(ctx, st, p, now)
	if err != nil {
		return "", err
	}
	var total, done int64
	for _, f := range p.Files {
		total += f.Size
	}
	var uploaded []string
	recorded := false
	cleanup := func(err error) (string, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		var left []string
		undo := audit.Record{Tool: p.Tool, Action: audit.ActionSubmit, MPID: s.MPID, Cut: s.Cut, Submission: id,
			Detail: "not completed: the files uploaded are removed"}
		for _, k := range uploaded {
			if derr := st.Delete(ctx, k); derr != nil {
				left = append(left, k)
			} else {
				undo.Objects = append(undo.Objects, audit.Object{Op: audit.OpDelete, Key: k})
			}
		}
		if recorded {
			audit.Write(ctx, st, undo) // best effort: the submission failed already
		}
		if len(left) > 0 {
			return "", fmt.Errorf("%w (and removing the files uploaded so far failed: %s is left without %s, and nothing will take it)", err, strings.Join(left, ", "), cut.SubmissionFile)
		}
		return "", err
	}
	dir := cut.SubmissionDir(s.MPID, s.Cut, id)
	for _, f := range p.Files {
		key := dir + f.Name
		err := putFile(ctx, st, key, f, func(n int64) {
			done += n
			if progress != nil {
				progress(done, total)
			}
		})
		if err != nil {
			return cleanup(fmt.Errorf("uploading %s to %s: %w", f.Path, key, err))
		}
		uploaded = append(uploaded, key)
	}
	// The audit record goes first: until submission.json is there nothing
	// takes the files, so a submission is never taken unrecorded.
	if err := audit.Write(ctx, st, record(p, id, dir)); err != nil {
		return cleanup(fmt.Errorf("%w: %w", ErrAuditRecord, err))
	}
	recorded = true
	if err := cut.WriteSubmission(ctx, st, id, s); err != nil {
		return cleanup(fmt.Errorf("writing %s: %w", cut.SubmissionKey(s.MPID, s.Cut, id), err))
	}
	return id, nil
}

// ErrAuditRecord wraps the error of writing a submission's audit record:
// the submission is not sent without it.
var ErrAuditRecord = errors.New("the submission's audit record could not be added, so it was not sent")

// record is the audit record of a submission sent: its files with sizes
// and SHA-256, and its submission.json.
func record(p *Plan, id, dir string) audit.Record {
	s := p.Submission
	r := audit.Record{Tool: p.Tool, Action: audit.ActionSubmit, MPID: s.MPID, Cut: s.Cut, Submission: id,
		Detail: fmt.Sprintf("%s submission, as at %s, %s", s.Kind, s.AsAt, plural(len(p.Files), "file"))}
	if s.Kind == cut.KindAmend {
		r.Detail += fmt.Sprintf(", amending version %d", s.Amends)
	}
	for _, f := range p.Files {
		r.Objects = append(r.Objects, audit.Object{Op: audit.OpPut, Key: dir + f.Name, Size: f.Size, SHA256: f.SHA256})
	}
	r.Objects = append(r.Objects, audit.Object{Op: audit.OpPut, Key: cut.SubmissionKey(s.MPID, s.Cut, id)})
	return r
}

// freshID is the request's id if unused, else a new one.
func freshID(ctx context.Context, st store.Store, p *Plan, now time.Time) (string, error) {
	s := p.Submission
	if p.ID != "" {
		used, err := Used(ctx, st, s.MPID, s.Cut, p.ID)
		if err != nil {
			return "", fmt.Errorf("checking submission id %s: %w", p.ID, err)
		}
		if used {
			return "", &RequestError{Msg: fmt.Sprintf("submission id %s of %s's %s was used already (%s or its receipt %s exists): an id is used once; leave --id out to get a new one",
				p.ID, s.MPID, s.Cut, cut.SubmissionDir(s.MPID, s.Cut, p.ID), cut.ReceiptKey(s.Cut, s.MPID, p.ID))}
		}
		return p.ID, nil
	}
	for range 5 {
		id := NewID(now)
		used, err := Used(ctx, st, s.MPID, s.Cut, id)
		if err != nil {
			return "", fmt.Errorf("checking submission id %s: %w", id, err)
		}
		if !used {
			return id, nil
		}
	}
	return "", fmt.Errorf("no unused submission id after 5 tries: give one with --id")
}

// checkAmended checks an amendment against the published versions of its
// cut the way a run will (cut.Amended). A run also needs the version
// masked with its DPIA rules and key, which only the run knows.
func checkAmended(ctx context.Context, st store.Store, s *cut.Submission) error {
	versions, err := cut.Versions(ctx, st, s.Cut, s.MPID)
	if err != nil {
		return fmt.Errorf("reading the versions of %s's %s: %w", s.MPID, s.Cut, err)
	}
	if _, err := cut.Amended(s, versions); err != nil {
		return &RequestError{Msg: fmt.Sprintf("--amend %d: %v", s.Amends, err)}
	}
	return nil
}

// putFile streams a local file to key. The reader it hands the store
// withholds the file's last bytes unless size and SHA-256 are those
// Prepare saw, so a file changed since is never stored whole.
func putFile(ctx context.Context, st store.Store, key string, f *FileReport, uploaded func(int64)) error {
	fh, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != f.Size {
		return fmt.Errorf("the file changed since it was checked (%d bytes, then %d): submit again", fi.Size(), f.Size)
	}
	vr := &verifyingReader{r: fh, want: f.Size, sha: f.SHA256, h: sha256.New(), uploaded: uploaded}
	if err := st.Put(ctx, key, vr, f.Size); err != nil {
		return err
	}
	if vr.n != f.Size || !vr.ok {
		// The reader's check failed after the store had what it wanted (it
		// did not read on to the end, or ignored the error): the object is
		// not the file Prepare read.
		st.Delete(context.WithoutCancel(ctx), key)
		if vr.n != f.Size {
			return fmt.Errorf("the store took %d of %d bytes", vr.n, f.Size)
		}
		return errChanged
	}
	return nil
}

// errChanged is returned instead of a changed file's last bytes.
var errChanged = errors.New("the file changed since it was checked (its SHA-256 differs): submit again")

type verifyingReader struct {
	r        io.Reader
	want, n  int64
	sha      string
	h        hash.Hash
	ok       bool
	uploaded func(int64)
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.n == v.want {
		// Past the end: the file must have no more bytes.
		var one [1]byte
		if n, _ := v.r.Read(one[:]); n > 0 {
			v.ok = false
			return 0, errChanged
		}
		v.ok = hex.EncodeToString(v.h.Sum(nil)) == v.sha // for an empty file, checked here
		return 0, io.EOF
	}
	if rest := v.want - v.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if v.n+int64(n) == v.want {
		if hex.EncodeToString(v.h.Sum(nil)) != v.sha {
			return 0, errChanged
		}
		v.ok = true
		if err == io.EOF {
			err = nil // the next Read says EOF, after checking there is no more
		}
	} else if err == io.EOF {
		return 0, fmt.Errorf("the file changed since it was checked (it ends after %d of %d bytes): submit again", v.n+int64(n), v.want)
	}
	v.n += int64(n)
	if v.uploaded != nil && n > 0 {
		v.uploaded(int64(n))
	}
	return n, err
}
