package pipeline

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// pendingCut is one MPID's files of one cut type, waiting in the inbox.
type pendingCut struct {
	cut, mpid string
	inputs    []store.Info
}

// discover lists the inbox and groups files into pending cuts, those of
// this process's shard only, in a stable order.
func discover(ctx context.Context, opt Options, sum *Summary) ([]*pendingCut, error) {
	byCut := map[string]*pendingCut{}
	err := opt.Store.List(ctx, cut.InboxRoot, func(i store.Info) error {
		f, err := cut.ParseInboxKey(i.Key)
		if err != nil {
			sum.Ignored = append(sum.Ignored, Ignored{Key: i.Key, Reason: err.Error()})
			return nil
		}
		if (opt.MPID != "" && f.MPID != opt.MPID) || (opt.Cut != "" && f.Type != opt.Cut) || !inShard(f.Type, f.MPID, opt) {
			return nil
		}
		k := f.Type + "/" + f.MPID
		if byCut[k] == nil {
			byCut[k] = &pendingCut{cut: f.Type, mpid: f.MPID}
		}
		byCut[k].inputs = append(byCut[k].inputs, i)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the inbox: %w", err)
	}
	keys := make([]string, 0, len(byCut))
	for k := range byCut {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*pendingCut, len(keys))
	for i, k := range keys {
		out[i] = byCut[k]
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
