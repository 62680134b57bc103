package pipeline

import (
	"testing"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/miniotest"
)

// TestEndToEndMinIO runs the whole pipeline against a real MinIO server.
func TestEndToEndMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	e2e(t, srv.Store("programme"))
}

// TestLifeOfACutMinIO: amendments, and a crash at any write then a run,
// against a real MinIO server.
func TestLifeOfACutMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	open := func(t *testing.T, name string) store.Store { return srv.Store(t.Name() + "/" + name) }
	t.Run("amendments", func(t *testing.T) { amendments(t, open) })
	t.Run("crash", func(t *testing.T) { crashAtAnyWrite(t, open) })
}
