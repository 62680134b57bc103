package main

import (
	"runtime/debug"
	"testing"
)

// datacut run collects at 3x its live heap under its own soft limit, and
// leaves both to GOGC and GOMEMLIMIT when they are set.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	tuneGC()
	if got := debug.SetGCPercent(-1); got != 200 {
		t.Errorf("GC percent %d, want 200", got)
	}
	if got := debug.SetMemoryLimit(-1); got != runMemoryLimit {
		t.Errorf("memory limit %d MiB, want %d MiB", got>>20, runMemoryLimit>>20)
	}

	debug.SetGCPercent(150)
	debug.SetMemoryLimit(123 << 20)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "123MiB")
	tuneGC()
	if got := debug.SetGCPercent(-1); got != 150 {
		t.Errorf("with GOGC set: GC percent %d, want it left at 150", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Errorf("with GOMEMLIMIT set: memory limit %d MiB, want it left at 123 MiB", got>>20)
	}
}
