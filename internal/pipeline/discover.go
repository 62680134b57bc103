package pipeline

import (
	"context"
	"hash/fnv"

	"github.com/mhhs-sit/datacut/internal/cut"
)

// pendingCut is one MPID's submissions of one cut type, in the order they
// are taken: each may amend a version the one before published.
type pendingCut struct {
	cut, mpid string
	subs      []*cut.Pending
}

// discover lists the inbox's submissions of this process's shard, grouped
// by cut type and MPID, in a stable order.
func discover(ctx context.Context, opt Options, sum *Summary) ([]*pendingCut, error) {
	subs, ignored, err := cut.ScanInbox(ctx, opt.Store, func(mpid, cutType string) bool {
		return (opt.MPID == "" || mpid == opt.MPID) && (opt.Cut == "" || cutType == opt.Cut) && inShard(cutType, mpid, opt)
	})
	if err != nil {
		return nil, err
	}
	sum.Ignored = ignored
	var out []*pendingCut
	for _, p := range subs {
		if n := len(out); n == 0 || out[n-1].cut != p.Cut || out[n-1].mpid != p.MPID {
			out = append(out, &pendingCut{cut: p.Cut, mpid: p.MPID})
		}
		out[len(out)-1].subs = append(out[len(out)-1].subs, p)
	}
	return out, nil
}

// inShard says whether the cut belongs to this process: shards split the
// inbox by a hash of cut type and MPID, so they never overlap.
func inShard(cutType, mpid string, opt Options) bool {
	if opt.Shards <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(cutType + "/" + mpid))
	return int(h.Sum32()%uint32(opt.Shards)) == opt.Shard
}
