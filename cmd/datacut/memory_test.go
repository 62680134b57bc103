package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/cli"
)

// writeD0302 writes a D0302 from mpid whose one instance holds n 16J
// (telephone) records: 18 bytes each, so n = 3.8 M is a 64 MiB instance.
func writeD0302(t *testing.T, path, mpid string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "ZHV|S872851917|D0302002|X|%s|Z|MHSI|20261101120000||||TR01|\n68C|1330000123524|20130711|\n69C|Arianna Wagner||||||\n15J|Arianna Wagner||\n", mpid)
	line := []byte("16J|07700000000||\n")
	for i := range n {
		for j, k := 14, i; j >= 7; j, k = j-1, k/10 { // the number's 8 digits
			line[j] = byte('0' + k%10)
		}
		w.Write(line)
	}
	fmt.Fprintf(w, "ZPT|S872851917|%d||1|20261101120001|\n", n+3)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// peaks runs commands that report their peak resident memory (cli.PeakEnv).
type peaks struct {
	t    *testing.T
	file string
}

func newPeaks(t *testing.T) *peaks { return &peaks{t, filepath.Join(t.TempDir(), "peak")} }

// cmd is bin with args, reporting its peak.
func (p *peaks) cmd(bin string, args ...string) *exec.Cmd {
	os.Remove(p.file)
	c := exec.Command(bin, args...)
	c.Env = append(os.Environ(), cli.PeakEnv+"="+p.file, "DATACUT_MASK_KEY="+testKey)
	return c
}

// mib is the peak the last finished command reported.
func (p *peaks) mib() int {
	b, err := os.ReadFile(p.file)
	if err != nil {
		p.t.Fatalf("no peak reported: %v", err)
	}
	kib, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		p.t.Fatal(err)
	}
	return kib >> 10
}

// TestMemoryBoundedByInstanceSize: a 64 MiB instance is refused as
// instance.too-large before it fills memory, in validate and in run; two
// instances just under the bound, read by two workers at once, stay far
// below the 1 GB a worker process is given.
func TestMemoryBoundedByInstanceSize(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	big := filepath.Join(dir, "D0302_big.dat")
	writeD0302(t, big, "DLTA", 3_800_000)
	if fi, _ := os.Stat(big); fi.Size() < 64<<20 {
		t.Fatalf("the instance is %d bytes", fi.Size())
	}
	pk := newPeaks(t)
	cmd := pk.cmd(bin, "validate", big)
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != cli.ExitData || !strings.Contains(string(out), "[instance.too-large]") {
		t.Fatalf("validate of a 64 MiB instance: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
	t.Logf("validate, 64 MiB instance: peak %d MiB", pk.mib())
	if pk.mib() > 400 {
		t.Errorf("validate of a 64 MiB instance peaks at %d MiB", pk.mib())
	}

	store := filepath.Join(dir, "store")
	for mpid, n := range map[string]int{"BRGT": 150_000, "CRWN": 150_000, "DLTA": 3_800_000} {
		f := filepath.Join(dir, mpid, "D0302_0001.dat")
		os.MkdirAll(filepath.Dir(f), 0o700)
		writeD0302(t, f, mpid, n)
		c := exec.Command(bin, "submit", "--store", store, "--mpid", mpid, "--cut", "supplier-customer", "--allow-broken", f)
		if out, err := c.CombinedOutput(); c.ProcessState.ExitCode() > cli.ExitData {
			t.Fatalf("submit %s: %v\n%s", mpid, err, out)
		}
	}
	cmd = pk.cmd(bin, "run", "--store", store, "--workers", "2")
	out, _ = cmd.CombinedOutput()
	if !strings.Contains(string(out), "2 versions published") || !strings.Contains(string(out), "1 file quarantined") {
		t.Fatalf("run: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
	t.Logf("run --workers 2, two instances near the bound and a 64 MiB one: peak %d MiB", pk.mib())
	if pk.mib() > 1000 {
		t.Errorf("run peaks at %d MiB", pk.mib())
	}
}

// TestEndlessInputIsBroken: a file that never ends a line (/dev/zero) is
// broken at the longest record a format allows, not read for ever.
func TestEndlessInputIsBroken(t *testing.T) {
	bin := binary(t)
	pk := newPeaks(t)
	for _, args := range [][]string{{"validate", "/dev/zero"}, {"validate", "--format", "ees", "/dev/zero"}} {
		cmd := pk.cmd(bin, args...)
		done := make(chan []byte, 1)
		go func() { out, _ := cmd.CombinedOutput(); done <- out }()
		select {
		case out := <-done:
			if cmd.ProcessState.ExitCode() != cli.ExitData || !strings.Contains(string(out), "BROKEN") || !strings.Contains(string(out), "longer than") {
				t.Errorf("%v: exit %d\n%s", args, cmd.ProcessState.ExitCode(), out)
			}
			if pk.mib() > 200 {
				t.Errorf("%v: peak %d MiB", args, pk.mib())
			}
		case <-time.After(60 * time.Second): // a hang, not a speed bar
			cmd.Process.Kill()
			t.Fatalf("%v still reading after a minute", args)
		}
	}
}
