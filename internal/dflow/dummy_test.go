package dflow_test

import (
	"testing"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

func TestRedacted(t *testing.T) {
	for width, want := range map[int]string{0: "REDACTED", 4: "REDA", 8: "REDACTED", 200: "REDACTED"} {
		if got := dflow.Redacted(width); got != want {
			t.Errorf("Redacted(%d) = %q, want %q", width, got, want)
		}
	}
}

// A dummy is valid for its item (an MPAN item has none: the masking
// rules refuse the method constant for it).
func TestDummyIsValid(t *testing.T) {
	cat := dflow.DefaultCatalog()
	for _, ref := range []string{"J0464", "J0693", "J1699", "J0012", "J0016", "J0004"} {
		it := cat.Item(ref)
		v := it.Dummy()
		if rule, why := dflow.CheckValue(it, it.Format, []byte(v)); rule != "" {
			t.Errorf("%s (%s): dummy %q: %s (%s)", ref, it.Format, v, why, rule)
		}
	}
	if got := cat.Item("J1699").Dummy(); got != cat.Item("J1699").ValidSet[0] {
		t.Errorf("J1699: dummy %q, want its valid set's first value", got)
	}
}
