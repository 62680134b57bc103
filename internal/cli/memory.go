package cli

import (
	"os"
	"runtime/debug"
)

// SoftMemoryLimit asks the garbage collector to keep the heap under 900 MiB,
// a margin below the 1 GB a batch command is built to stay under, so a command whose live heap is well within
// the budget does not overshoot it between collections. An explicit
// GOMEMLIMIT wins.
func SoftMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(900 << 20)
	}
}
