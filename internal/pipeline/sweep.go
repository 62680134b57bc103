package pipeline

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// DefaultLeftoverGrace is how old a leftover must be before a run removes
// it: far longer than any run takes to publish a cut, so what another
// shard's run is writing is never touched.
const DefaultLeftoverGrace = 24 * time.Hour

// sweep removes what crashed runs left behind, once older than the grace
// period: cut folders without a manifest (a crash before the manifest, then
// inputs that changed, so no run will finish that cut id) and spool files in
// the store's own temporary directory. It reports what it removed.
func sweep(ctx context.Context, opt Options, now time.Time) ([]string, error) {
	cutoff := now.Add(-opt.LeftoverGrace)
	type folder struct {
		keys     []string
		manifest bool
		newest   time.Time
	}
	folders := map[string]*folder{}
	err := opt.Store.List(ctx, cut.CutsRoot, func(i store.Info) error {
		k, ok := cut.ParseCutKey(i.Key)
		if !ok || k.Latest || !inShard(k.Type, k.MPID, opt) {
			return nil // a sharded run sweeps only its own cuts' folders
		}
		prefix := k.Prefix
		f := folders[prefix]
		if f == nil {
			f = &folder{}
			folders[prefix] = f
		}
		f.keys = append(f.keys, i.Key)
		f.manifest = f.manifest || k.Name == cut.ManifestFile
		if i.Modified.After(f.newest) {
			f.newest = i.Modified
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing cuts for leftovers: %w", err)
	}
	var removed []string
	for _, p := range slices.Sorted(maps.Keys(folders)) {
		f := folders[p]
		if f.manifest || !f.newest.Before(cutoff) {
			continue
		}
		for _, k := range f.keys {
			if err := opt.Store.Delete(ctx, k); err != nil {
				return removed, fmt.Errorf("removing leftover %s: %w", k, err)
			}
			removed = append(removed, k)
		}
	}
	tmp, err := sweepSpool(store.TempDir(opt.Store), cutoff)
	return append(removed, tmp...), err
}

// sweepSpool removes old spool files from a store's own temporary
// directory; the system's shared one (S3 stores spool there) is left alone.
func sweepSpool(dir string, cutoff time.Time) ([]string, error) {
	if filepath.Clean(dir) == filepath.Clean(os.TempDir()) {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading %s for leftovers: %w", dir, err)
	}
	var removed []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		path := filepath.Join(dir, e.Name()) // a spool file, or an allocation run's spool folder
		if err := os.RemoveAll(path); err == nil {
			removed = append(removed, path)
		}
	}
	return removed, nil
}
