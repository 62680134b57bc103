package cli

import (
	"os"
	"runtime/debug"
)

// SoftMemoryLimit asks the garbage collector to keep the process's memory
// under limit bytes, a margin below what a batch command is built to stay
// under (1 GB), so that a command whose live heap is well within its budget
// does not overshoot it between collections. An explicit GOMEMLIMIT wins.
func SoftMemoryLimit(limit int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}
