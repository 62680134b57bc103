package pipeline

import (
	"testing"

	"github.com/mhhs-sit/datacut/internal/store/miniotest"
)

// TestEndToEndMinIO runs the whole pipeline against a real MinIO server.
func TestEndToEndMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	e2e(t, srv.Store("programme"))
}
