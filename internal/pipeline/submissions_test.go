package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// submitFiles uploads files as one submission, as a participant would: the
// files, then submission.json. Kind and as-at default to full and
// 2026-11-01.
func submitFiles(t *testing.T, st store.Store, s cut.Submission, id string, files map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	s.Schema = cut.SubmissionSchema
	if s.Kind == "" {
		s.Kind = cut.KindFull
	}
	if s.AsAt == "" {
		s.AsAt = "2026-11-01"
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		b := files[name]
		if err := st.Put(ctx, cut.SubmissionDir(s.MPID, s.Cut, id)+name, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		s.Files = append(s.Files, cut.SubmittedFile{Name: name, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])})
	}
	if err := cut.WriteSubmission(ctx, st, id, &s); err != nil {
		t.Fatal(err)
	}
}

// addToSubmission puts one more file into the submission whose file key
// is sibling, and lists it in its submission.json.
func addToSubmission(t *testing.T, st store.Store, sibling, name string, b []byte) {
	t.Helper()
	f, err := cut.ParseInboxKey(sibling)
	if err != nil {
		t.Fatal(err)
	}
	putListed(t, st, cut.SubmissionDir(f.MPID, f.Type, f.Submission)+name, b)
}

// putListed puts b at a submission's file key and lists it in the
// submission's submission.json with its size and SHA-256 (replacing the
// listing of a file of that name).
func putListed(t *testing.T, st store.Store, key string, b []byte) {
	t.Helper()
	ctx := context.Background()
	f, err := cut.ParseInboxKey(key)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := store.ReadAll(ctx, st, cut.SubmissionKey(f.MPID, f.Type, f.Submission))
	if err != nil {
		t.Fatal(err)
	}
	var s cut.Submission
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	listed := cut.SubmittedFile{Name: f.Name, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
	if i := slices.IndexFunc(s.Files, func(sf cut.SubmittedFile) bool { return sf.Name == f.Name }); i >= 0 {
		s.Files[i] = listed
	} else {
		s.Files = append(s.Files, listed)
	}
	if err := cut.WriteSubmission(ctx, st, f.Submission, &s); err != nil {
		t.Fatal(err)
	}
}

// dataKeys lists the data files under prefix, not the submission.json files.
func dataKeys(t *testing.T, st store.Store, prefix string) []string {
	var out []string
	for _, k := range listKeys(t, st, prefix) {
		if cut.BaseName(k) != cut.SubmissionFile {
			out = append(out, k)
		}
	}
	return out
}
