package access

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/minio/madmin-go/v3"
)

var noSuchPolicy = madmin.ErrorResponse{Code: "XMinioAdminNoSuchPolicy", Message: "The canned policy does not exist."}

// fakeAdmin answers the first missing attaches that the policy does not
// exist, then err (nil: attached).
type fakeAdmin struct {
	missing  int
	err      error
	attaches int
	adds     []string
	onAttach func()
}

func (f *fakeAdmin) AttachPolicy(ctx context.Context, r madmin.PolicyAssociationReq) (madmin.PolicyAssociationResp, error) {
	f.attaches++
	if f.onAttach != nil {
		f.onAttach()
	}
	if f.attaches <= f.missing {
		return madmin.PolicyAssociationResp{}, noSuchPolicy
	}
	return madmin.PolicyAssociationResp{}, f.err
}

func (f *fakeAdmin) AddCannedPolicy(ctx context.Context, name string, policy []byte) error {
	f.adds = append(f.adds, name+" "+string(policy))
	return nil
}

func TestPolicyMissingIsTheServersNoSuchPolicy(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{noSuchPolicy, true},
		{fmt.Errorf("attaching: %w", noSuchPolicy), true},
		{madmin.ErrorResponse{Code: "XMinioAdminNoSuchUser"}, false},
		{madmin.ErrorResponse{Code: "XMinioAdminPolicyChangeAlreadyApplied"}, false},
		{errors.New("connection refused"), false},
		{nil, false},
	} {
		if got := policyMissing(tc.err); got != tc.want {
			t.Errorf("policyMissing(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A policy the server says it does not have, just after it was written
// (a fresh MinIO), is written again and the attach retried.
func TestAttachRetriesAPolicyTheServerLost(t *testing.T) {
	id := Identity{Name: "p-BRGT", Policy: Policy{Version: "2012-10-17"}}
	waits := []time.Duration{0, 0, 0}
	f := &fakeAdmin{missing: 2}
	if err := attachPolicy(context.Background(), f, id, waits); err != nil {
		t.Fatalf("attaching after 2 misses: %v", err)
	}
	if f.attaches != 3 || len(f.adds) != 2 || f.adds[0] != "p-BRGT "+string(id.Policy.JSON()) {
		t.Errorf("%d attaches, policies written again: %q; want 3 and 2 of p-BRGT's", f.attaches, f.adds)
	}

	f = &fakeAdmin{missing: 100}
	if err := attachPolicy(context.Background(), f, id, waits); !policyMissing(err) || f.attaches != 4 || len(f.adds) != 3 {
		t.Errorf("never there: %v after %d attaches and %d writes, want the server's error after 4 and 3", err, f.attaches, len(f.adds))
	}

	other := madmin.ErrorResponse{Code: "XMinioAdminNoSuchUser"}
	f = &fakeAdmin{err: other}
	if err := attachPolicy(context.Background(), f, id, waits); !errors.Is(err, other) || f.attaches != 1 || len(f.adds) != 0 {
		t.Errorf("another error: %v after %d attaches, want it at once", err, f.attaches)
	}

	f = &fakeAdmin{err: madmin.ErrorResponse{Code: "XMinioAdminPolicyChangeAlreadyApplied"}}
	if err := attachPolicy(context.Background(), f, id, waits); err != nil {
		t.Errorf("already attached: %v", err)
	}
}

// A retry waits no longer than its context (an hour's wait here: the
// suite's timeout catches one that does).
func TestAttachRetryEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeAdmin{missing: 100, onAttach: cancel}
	err := attachPolicy(ctx, f, Identity{Name: "p-BRGT"}, []time.Duration{time.Hour})
	if !errors.Is(err, context.Canceled) || f.attaches != 1 || len(f.adds) != 0 {
		t.Errorf("%v after %d attaches, want the context's end after 1", err, f.attaches)
	}
}
