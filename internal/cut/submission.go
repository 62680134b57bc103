package cut

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// SubmissionSchema is the schema value of a submission.json this version
// reads (docs/submissions.md).
const SubmissionSchema = "datacut.submission/v1"

// Kinds of submission.
const (
	KindFull  = "full"  // a whole new cut
	KindAmend = "amend" // changes to a published version
)

// Submission is what a participant writes last into a submission folder,
// inbox/<MPID>/<cut type>/<submission id>/submission.json: until it is
// there, and every file it lists is there with its size, nothing of the
// folder is published or removed.
type Submission struct {
	Schema string `json:"schema"`
	MPID   string `json:"mpid"`
	Cut    string `json:"cut"`
	// AsAt is when the data was extracted: a date (2026-11-30) or an RFC
	// 3339 time. The latest version of a cut is the one with the latest
	// as-at date, not the one published last.
	AsAt string `json:"asAt"`
	Kind string `json:"kind"`
	// Amends is the version an amendment changes.
	Amends int `json:"amends,omitempty"`
	// Replaces and Withdraws name files of the amended version (or files
	// it quarantined) whose rows the new version leaves out; the
	// submission's own files are added.
	Replaces  []string        `json:"replaces,omitempty"`
	Withdraws []string        `json:"withdraws,omitempty"`
	Files     []SubmittedFile `json:"files"`
}

// SubmittedFile is one file of a submission, as its sender saw it.
type SubmittedFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseAsAt reads an as-at date or time.
func ParseAsAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("asAt %q is neither a date (2026-11-30) nor an RFC 3339 time (2026-11-30T06:00:00Z)", s)
	}
	return t, nil
}

// ParseSubmission reads and checks the submission.json of the folder
// inbox/<mpid>/<cutType>/<id>/. Problems are named by field and file name,
// which are the sender's own, never data.
func ParseSubmission(b []byte, mpid, cutType string) (*Submission, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Submission
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("submission.json is not a submission (%s): %w", SubmissionSchema, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("submission.json holds more than one JSON value")
	}
	return &s, s.Check(mpid, cutType)
}

// Check says what is wrong with a submission sent to the folder of mpid's
// cut of cutType, all problems at once.
func (s *Submission) Check(mpid, cutType string) error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if s.Schema != SubmissionSchema {
		bad("schema is %q, want %q", s.Schema, SubmissionSchema)
	}
	if s.MPID != mpid {
		bad("mpid is %q but the submission is in %s's folder", s.MPID, mpid)
	}
	if s.Cut != cutType {
		bad("cut is %q but the submission is in the %s folder", s.Cut, cutType)
	}
	if _, err := ParseAsAt(s.AsAt); err != nil {
		bad("%v", err)
	}
	names := map[string]bool{}
	for i, f := range s.Files {
		switch {
		case !isFileName(f.Name):
			bad("files[%d].name %q is not a file name (no '/', not hidden, not %s)", i, f.Name, SubmissionFile)
		case names[f.Name]:
			bad("files[%d].name %q is listed twice", i, f.Name)
		}
		names[f.Name] = true
		if f.Size < 0 {
			bad("files[%d].size is negative", i)
		}
		if !sha256RE.MatchString(f.SHA256) {
			bad("files[%d].sha256 is not 64 lower-case hex digits", i)
		}
	}
	switch s.Kind {
	case KindFull:
		if s.Amends != 0 || len(s.Replaces) > 0 || len(s.Withdraws) > 0 {
			bad("a full submission has no amends, replaces or withdraws (kind %q is for those)", KindAmend)
		}
		if len(s.Files) == 0 {
			bad("a full submission lists at least one file")
		}
	case KindAmend:
		if s.Amends < 1 {
			bad("an amendment names the version it amends (amends: 1 or more)")
		}
		if len(s.Files) == 0 && len(s.Withdraws) == 0 {
			bad("an amendment adds files or withdraws some")
		}
		if len(s.Replaces) > 0 && len(s.Files) == 0 {
			bad("an amendment that replaces files sends their replacements")
		}
		for _, l := range []struct {
			field string
			names []string
		}{{"replaces", s.Replaces}, {"withdraws", s.Withdraws}} {
			for i, n := range l.names {
				if !isFileName(n) {
					bad("%s[%d] %q is not a file name (no '/', not hidden, not %s)", l.field, i, n, SubmissionFile)
				}
			}
		}
		gone := map[string]bool{}
		for _, n := range slices.Concat(s.Replaces, s.Withdraws) {
			if gone[n] {
				bad("%q is named twice in replaces and withdraws", n)
			}
			gone[n] = true
		}
		for _, n := range s.Withdraws {
			if names[n] {
				bad("%q is both withdrawn and sent: list it under replaces instead", n)
			}
		}
	default:
		bad("kind is %q, want %s or %s", s.Kind, KindFull, KindAmend)
	}
	if len(errs) > 0 {
		return fmt.Errorf("submission.json: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Listed returns the submission's entry for a file name.
func (s *Submission) Listed(name string) (SubmittedFile, bool) {
	for _, f := range s.Files {
		if f.Name == name {
			return f, true
		}
	}
	return SubmittedFile{}, false
}

// Drops says whether the submission leaves a file of the amended version out.
func (s *Submission) Drops(name string) bool {
	return slices.Contains(s.Replaces, name) || slices.Contains(s.Withdraws, name)
}

func isFileName(n string) bool {
	return n != "" && n != SubmissionFile && !strings.ContainsAny(n, "/\\") && !strings.HasPrefix(n, ".") && len(n) <= 255
}
