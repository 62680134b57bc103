package s3_test

import (
	"testing"

	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/miniotest"
	"github.com/mhhs-sit/datacut/internal/store/storetest"
)

func TestConformanceMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	t.Run("NoPrefix", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return srv.Store("") })
	})
	t.Run("Prefix", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return srv.Store("team/cuts") })
	})
}
