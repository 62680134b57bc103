package pipeline

import (
	"cmp"
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
	size := make([]int64, len(cuts))
	for i, c := range cuts {
		for _, p := range c.subs {
			if p.Waiting == "" {
				for _, f := range p.Files {
					size[i] += f.Size
				}
			}
		}
		sum.InputBytes += size[i]
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
	// Largest cuts first: the last cut to finish is then a small one, so
	// no worker idles for long at the end while another ends a big cut.
	// Results stay in discovery order.
	order := make([]int, len(cuts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(size[b], size[a]) })
	for _, i := range order {
		g.Go(func() error {
			results[i] = r.takeAll(gctx, cuts[i])
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
