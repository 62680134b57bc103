package mask

import (
	"fmt"
	"testing"
)

// TestMemoStandsAsideForValuesThatDoNotRecur: a memo whose full arena found
// almost nothing stops looking for a while, then tries again; one whose
// values recur keeps looking.
func TestMemoStandsAsideForValuesThatDoNotRecur(t *testing.T) {
	use := func(m *memo, v string) bool {
		h := memoHash([]byte(v), 0)
		if _, ok := m.get(h, []byte(v), 0); ok {
			return true
		}
		m.put(h, []byte(v), []byte("out"), 0)
		return false
	}
	var distinct memo
	for i := range memoEntries + 1 {
		use(&distinct, fmt.Sprint("address ", i))
	}
	if distinct.rest != memoRest || distinct.at != nil {
		t.Fatalf("after a full memo of distinct values: rest %d, map kept %v; want %d and none", distinct.rest, distinct.at != nil, memoRest)
	}
	if use(&distinct, "address 0"); distinct.at != nil {
		t.Error("a memo standing aside stored a value")
	}
	for i := range memoRest {
		use(&distinct, fmt.Sprint("again ", i))
	}
	if use(&distinct, "after"); distinct.at == nil || distinct.rest != 0 {
		t.Error("the memo did not start again after its rest")
	}

	var recurring memo
	hits := 0
	for i := range 3 * memoEntries { // each value twice: the memo fills, half its lookups found
		if use(&recurring, fmt.Sprint("name ", i/2)) {
			hits++
		}
	}
	if recurring.rest != 0 || recurring.at == nil || hits != 3*memoEntries/2 {
		t.Errorf("a memo of recurring values stood aside: rest %d, %d hits", recurring.rest, hits)
	}
}
