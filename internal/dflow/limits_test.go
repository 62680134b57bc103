package dflow

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The instance bound counts what records take in memory, not only their
// bytes: 20,000 short records (360 kB of file) break a 1 MiB bound, and
// the finding says where the instance starts and how to read it anyway.
func TestInstanceBoundCountsRecords(t *testing.T) {
	var b strings.Builder
	b.WriteString("ZHV|S1|D0302002|X|BRGT|Z|MHSI|20261101120000||||TR01|\n68C|1330000123524|20130711|\n69C|A Name||||||\n15J|A Name||\n")
	for i := range 20_000 {
		fmt.Fprintf(&b, "16J|077%08d||\n", i)
	}
	fmt.Fprintf(&b, "ZPT|S1|%d||1|20261101120001|\n", 20_003)
	if b.Len() > 1<<20/2 {
		t.Fatalf("the file is %d bytes", b.Len())
	}
	read := func(max int) error {
		r := NewReader(strings.NewReader(b.String()), "f", Options{MaxInstanceBytes: max})
		for {
			_, err := r.Next()
			if err != nil {
				return err
			}
		}
	}
	var be *BrokenError
	if err := read(1 << 20); !errors.As(err, &be) || be.Finding.Rule != RuleInstanceTooLarge ||
		!strings.Contains(be.Finding.Message, "instance 1 (from line 2)") || !strings.Contains(be.Finding.Message, "--max-instance-mib") {
		t.Fatalf("a 1 MiB bound: %v", err)
	}
	if err := read(16 << 20); err.Error() != "EOF" {
		t.Fatalf("a 16 MiB bound: %v", err)
	}
}
