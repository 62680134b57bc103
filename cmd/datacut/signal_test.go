package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/cli"
)

// vmHWM is a running process's peak resident memory in KiB.
func vmHWM(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestSignalsStopCommands: a command busy on input that never ends, or
// waiting, stops on SIGTERM (and SIGINT) through its context: it says so,
// exits 3 and leaves nothing behind; reading /dev/zero holds its memory
// bounded meanwhile.
func TestSignalsStopCommands(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	demoMarket(t, dir)
	data := filepath.Join(dir, "data")
	big := filepath.Join(dir, "big")
	if out, err := exec.Command(bin, "synth", "--store", big, "--mpans", "1000000", "--cuts", "mop-mtd").CombinedOutput(); err != nil {
		t.Fatalf("synth: %v\n%s", err, out)
	}
	// The bound on memory before the signal: 512 MiB, and for run the
	// 1 GB it is built to stay under (a 640 MiB soft memory limit; its
	// normal peak on a cut like this is near that, so how far it got
	// must not decide the test). Run is signalled sooner: its cut of
	// 240 MB takes seconds, not forever.
	const mib512, gb1 = 512 << 10, 1_000_000_000 >> 10
	for _, c := range []struct {
		name   string
		args   []string
		sig    syscall.Signal
		maxKiB int
		after  time.Duration
	}{
		{"validate a pipe nobody writes", []string{"validate", "/dev/stdin"}, syscall.SIGTERM, mib512, 2 * time.Second},
		{"validate --format ees a pipe nobody writes", []string{"validate", "--format", "ees", "/dev/stdin"}, syscall.SIGINT, mib512, 2 * time.Second},
		{"submit --wait for a receipt no run writes", []string{"submit", "--store", data, "--mpid", "BRGT", "--cut", "ees", "--id", "synth-1", "--wait"}, syscall.SIGTERM, mib512, 2 * time.Second},
		{"synth of a large market", []string{"synth", "--store", filepath.Join(dir, "bigger"), "--mpans", "5000000"}, syscall.SIGINT, mib512, 2 * time.Second},
		{"run of a large cut", []string{"run", "--store", big}, syscall.SIGTERM, gb1, 500 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.args...)
			cmd.Env = append(os.Environ(), "DATACUT_MASK_KEY="+testKey)
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			cmd.Stdin = pr
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				t.Fatalf("ended before the signal: %v\n%s", err, stderr.String())
			case <-time.After(c.after):
			}
			if kib := vmHWM(t, cmd.Process.Pid); kib > c.maxKiB {
				t.Errorf("peak memory %d MiB before the signal, over %d MiB", kib>>10, c.maxKiB>>10)
			}
			cmd.Process.Signal(c.sig)
			select {
			case <-done:
			case <-time.After(20 * time.Second): // a hang, not a speed bar
				cmd.Process.Kill()
				t.Fatalf("still running 20 s after %v\n%s", c.sig, stderr.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != cli.ExitFailure || !strings.Contains(stderr.String(), "stopping cleanly") {
				t.Fatalf("exit %d after %v\n%s", code, c.sig, stderr.String())
			}
		})
	}
}
