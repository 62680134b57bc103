package submit

import (
	"context"
	"fmt"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Wait reads a submission's receipt every interval until it is there; it
// stops with ctx (an error wrapping ctx's).
func Wait(ctx context.Context, st store.Store, cutType, mpid, id string, every time.Duration) (*cut.Receipt, error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r, err := cut.ReadReceipt(ctx, st, cutType, mpid, id)
		if err == nil {
			return r, nil
		}
		if !store.IsNotFound(err) {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return nil, fmt.Errorf("reading the receipt %s: %w", cut.ReceiptKey(cutType, mpid, id), err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no receipt at %s yet: %w", cut.ReceiptKey(cutType, mpid, id), ctx.Err())
		case <-t.C:
		}
	}
}

// Submitted says whether a submission of that id was uploaded whole (its
// submission.json is in the inbox) or has a receipt already: what is worth
// waiting for.
func Submitted(ctx context.Context, st store.Store, mpid, cutType, id string) (bool, error) {
	for _, k := range []string{cut.SubmissionKey(mpid, cutType, id), cut.ReceiptKey(cutType, mpid, id)} {
		_, err := st.Stat(ctx, k)
		if err == nil {
			return true, nil
		}
		if !store.IsNotFound(err) {
			return false, err
		}
	}
	return false, nil
}
