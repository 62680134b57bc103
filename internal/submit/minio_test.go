package submit

import (
	"context"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store/miniotest"
)

// TestUploadToMinIO sends a submission to a real MinIO server: the worker's
// reader takes it, and the id is used.
func TestUploadToMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	st := srv.Store("sit")
	ctx := context.Background()
	d := definitions(t)
	local := files(t, market(t, 0), "MTRA", "mop-mtd")
	p := prepare(t, d, Request{MPID: "MTRA", Cut: "mop-mtd", Files: local})
	id, err := Upload(ctx, st, p, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	pending, _, err := cut.ScanInbox(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].ID != id || pending[0].Waiting != "" || len(pending[0].Files) != len(local) {
		t.Fatalf("ScanInbox on MinIO: %+v", pending)
	}
	if used, err := Used(ctx, st, "MTRA", "mop-mtd", id); !used || err != nil {
		t.Fatalf("Used after the upload: %v, %v", used, err)
	}
	if _, err := Upload(ctx, st, &Plan{Request: Request{ID: id}, Submission: p.Submission, Files: p.Files}, now, nil); err == nil {
		t.Fatal("the same id twice on MinIO")
	}
	// A file changed after checking (same size) is refused at its last
	// bytes, and nothing of the submission is left.
	tmp := t.TempDir()
	f := copyFile(t, local[0], tmp, "D0149_x.dat", nil)
	p = prepare(t, d, Request{MPID: "MTRB", Cut: "mop-mtd", Files: []string{f}})
	copyFile(t, local[0], tmp, "D0149_x.dat", func(b []byte) []byte { b[len(b)-2] ^= 1; return b })
	if _, err := Upload(ctx, st, p, now, nil); err == nil {
		t.Fatal("a changed file was uploaded to MinIO")
	}
	if left := keys(t, st, cut.InboxDir("MTRB", "mop-mtd")); len(left) > 0 {
		t.Fatalf("a failed upload left %v", left)
	}
}
