package pipeline

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mhhs-sit/datacut/internal/mask"
)

// Run processes every pending cut in the inbox, opt.Workers at a time.
func Run(ctx context.Context, opt Options) (*Summary, error) {
	start := time.Now()
	opt.defaults()
	sum := &Summary{}
	leftovers, err := sweep(ctx, opt, start)
	sum.Leftovers = leftovers
	if err != nil {
		return nil, err
	}
	for _, k := range leftovers {
		opt.Log.Info().Str("key", k).Msg("removed a leftover of a crashed run")
	}
	cuts, err := discover(ctx, opt, sum)
	if err != nil {
		return nil, err
	}
	for _, c := range cuts {
		for _, p := range c.subs {
			if p.Waiting == "" {
				for _, f := range p.Files {
					sum.InputBytes += f.Size
				}
			}
		}
	}
	maskers := map[string]*mask.Masker{}
	for name, d := range opt.Pipelines.ByName {
		if maskers[name], err = mask.New(d.rules, opt.Key, opt.Pipelines.resolve); err != nil {
			return nil, err
		}
	}
	r := &runner{opt: opt, maskers: maskers, total: sum.InputBytes}
	results := make([][]CutResult, len(cuts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opt.Workers)
	for i, c := range cuts {
		g.Go(func() error {
			results[i] = r.takeAll(gctx, c)
			return gctx.Err()
		})
	}
	err = g.Wait()
	sum.Cuts = slices.Concat(results...)
	sum.Seconds = time.Since(start).Seconds()
	return sum, err
}

// runner is one run's shared state: options, a masker per pipeline and
// progress over every cut's input bytes.
type runner struct {
	opt     Options
	maskers map[string]*mask.Masker
	total   int64
	done    atomic.Int64
	mu      sync.Mutex
}

func (r *runner) progress(n int64) {
	d := r.done.Add(n)
	if r.opt.Progress != nil {
		r.mu.Lock()
		r.opt.Progress(d, r.total)
		r.mu.Unlock()
	}
}
