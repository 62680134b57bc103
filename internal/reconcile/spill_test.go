package reconcile

import (
	"os"
	"reflect"
	"testing"

	"github.com/mhhs-sit/datacut/internal/store"
)

// A market reconciled in many passes (a tiny passRows) has the findings,
// in the order, of one pass: cross faults of every kind, linked MPANs
// whose partners fall in other partitions among them. The passes' files
// are removed.
func TestPassesFindTheSame(t *testing.T) {
	st, _, set := market(t, 3000, 0.06)
	var passes int
	passesHook = func(n int) { passes = n }
	defer func() { passesHook = nil }()
	one := reconcile(t, st, set, builtIn(t))
	if passes != 1 {
		t.Fatalf("%d passes at the default passRows, want 1", passes)
	}
	if len(one.Findings) < 100 {
		t.Fatalf("only %d findings", len(one.Findings))
	}
	kinds := map[string]int{}
	for _, f := range one.Findings {
		kinds[f.Kind]++
	}
	if kinds[KindLinked] == 0 || kinds[KindCompare] == 0 || kinds[KindMissing] == 0 || kinds[KindOrphan] == 0 || kinds[KindCustomerMissing] == 0 {
		t.Fatalf("findings by kind %v: a kind has none", kinds)
	}
	defer func(n int) { passRows = n }(passRows)
	for _, rows := range []int{2000, 150, 40} {
		passRows = rows
		got := reconcile(t, st, set, builtIn(t))
		if passes < 2 {
			t.Fatalf("passRows %d: %d passes", rows, passes)
		}
		if len(got.Findings) != len(one.Findings) {
			t.Errorf("%d passes: %d findings, %d in one pass", passes, len(got.Findings), len(one.Findings))
		}
		for i := range min(len(got.Findings), len(one.Findings)) {
			if !reflect.DeepEqual(got.Findings[i], one.Findings[i]) {
				t.Errorf("%d passes: finding %d is %+v, in one pass %+v", passes, i, got.Findings[i], one.Findings[i])
				break
			}
		}
		if got.ID != one.ID {
			t.Errorf("%d passes: run id %s, %s in one pass", passes, got.ID, one.ID)
		}
		left, err := os.ReadDir(store.TempDir(st))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, d := range left {
			t.Errorf("%d passes left %s in the store's temp directory", passes, d.Name())
		}
		t.Logf("passRows %d: %d passes, %d findings", rows, passes, len(got.Findings))
	}
}
