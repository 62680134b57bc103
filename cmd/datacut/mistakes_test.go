package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/store/local"
)

// wantUsage runs datacut and wants exit 2 with each of wants in stderr.
func wantUsage(t *testing.T, args []string, wants ...string) {
	t.Helper()
	code, stdout, stderr := execDatacut(context.Background(), args...)
	if code != cli.ExitUsage {
		t.Errorf("datacut %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, cli.ExitUsage, stdout, stderr)
		return
	}
	for _, w := range wants {
		if !strings.Contains(stderr, w) {
			t.Errorf("datacut %s: stderr %q lacks %q", strings.Join(args, " "), stderr, w)
		}
	}
}

// An unknown --cut or --mpid is a usage error naming what exists, not
// "nothing pending".
func TestRunRefusesUnknownCutAndMPID(t *testing.T) {
	t.Setenv(mask.KeyEnv, testKey)
	dir := t.TempDir()
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), "inbox/ZZZ9/mop-mtd/s1/D0150_1.dat", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, []string{"run", "--store", dir, "--cut", "mop-mtdd"}, `--cut "mop-mtdd" is not a cut type`, "mop-mtd, ")
	wantUsage(t, []string{"run", "--store", dir, "--mpid", "mtra"}, `--mpid "mtra" is not an MPID`, "upper case")
	wantUsage(t, []string{"run", "--store", dir, "--mpid", "QQQQ"}, "--mpid QQQQ is neither in the programme register nor in "+dir+"/inbox/",
		"the programme register has AGGA, ", "MTRA", "the inbox has ZZZ9", "add it to programme.yaml")
	// The other commands with --mpid said so already.
	wantUsage(t, []string{"status", "--store", dir, "--mpid", "mtra"}, `--mpid "mtra" is not an MPID`)
	wantUsage(t, []string{"audit", "--store", dir, "--mpid", "mtra"}, `--mpid "mtra" is not an MPID`)
	wantUsage(t, []string{"submit", "--store", dir, "--mpid", "mtra", "--cut", "mop-mtdd", "--id", "s1", "--wait"}, `--mpid "mtra" is not an MPID`)
	// Known MPIDs: one of the register with nothing pending, one only in the inbox.
	for _, mpid := range []string{"MTRA", "ZZZ9"} {
		code, stdout, stderr := execDatacut(context.Background(), "run", "--store", dir, "--mpid", mpid, "--cut", "ees")
		if code != cli.ExitOK || !strings.Contains(stdout, "nothing pending") {
			t.Errorf("--mpid %s: exit %d\nstdout: %s\nstderr: %s", mpid, code, stdout, stderr)
		}
	}
}

func TestRunRefusesWorkersOutOfRange(t *testing.T) {
	t.Setenv(mask.KeyEnv, testKey)
	dir := t.TempDir()
	for _, n := range []string{"-1", "0", "65", "100000"} {
		wantUsage(t, []string{"run", "--store", dir, "--workers", n}, "--workers is "+n+": it must be 1 to 64")
	}
	if code, stdout, stderr := execDatacut(context.Background(), "run", "--store", dir, "--workers", "64"); code != cli.ExitOK {
		t.Errorf("--workers 64: exit %d\n%s%s", code, stdout, stderr)
	}
}

// Commands that only read never make a store: a mistyped --store is said.
func TestReadOnlyCommandsNeedAStore(t *testing.T) {
	t.Setenv(mask.KeyEnv, testKey)
	missing := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{
		{"ls"},
		{"status"},
		{"audit"},
		{"prune"},
		{"reconcile"},
		{"verify", "--cut", "cuts/mop-mtd/mpid=MTRA/cut=1/"},
		{"submit", "--mpid", "MTRA", "--cut", "mop-mtd", "--id", "s1", "--wait"},
	} {
		wantUsage(t, append(args, "--store", missing), "no store at "+missing, "check --store")
		if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("datacut %s made %s: %v", args[0], missing, err)
		}
	}
	// An existing folder is a store, though nothing made it one.
	empty := t.TempDir()
	if code, stdout, stderr := execDatacut(context.Background(), "ls", "--store", empty); code != cli.ExitOK || !strings.Contains(stdout, "0 objects") {
		t.Errorf("ls of an empty folder: exit %d\n%s%s", code, stdout, stderr)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("ls wrote into the store: %v", entries)
	}
}

func TestKeygen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "programme.key")
	code, stdout, stderr := execDatacut(context.Background(), "keygen", "--out", path)
	if code != cli.ExitOK {
		t.Fatalf("keygen: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := mask.LoadKey(path)
	if err != nil || len(b) != 65 {
		t.Fatalf("the key file (%d bytes) does not load: %v", len(b), err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode())
	}
	if !strings.Contains(stdout, "fingerprint "+key.Fingerprint()) || strings.Contains(stdout, string(b[:16])) {
		t.Errorf("keygen prints the fingerprint, never the key:\n%s", stdout)
	}
	wantUsage(t, []string{"keygen", "--out", path}, path+" exists: keygen never overwrites a key")
	if again, _ := os.ReadFile(path); string(again) != string(b) {
		t.Error("keygen overwrote the key")
	}
	wantUsage(t, []string{"keygen"}, "keygen needs --out FILE")
	t.Setenv(mask.KeyEnv, "")
	wantUsage(t, []string{"run", "--store", t.TempDir(), "--key-file", "/dev/zero"}, "mask key file /dev/zero is over 4 KiB")
	t.Setenv(mask.KeyEnv, strings.Repeat("00", 32))
	wantUsage(t, []string{"run", "--store", t.TempDir()}, "mask key is too weak", "datacut keygen --out FILE")
}

// What validate finds of a file as a whole, run says too: a flow version
// not in the catalogue is a warning (exit 0, as validate's), a file
// without instances an error (exit 1, as validate's).
func TestRunSaysWhatValidateFindsOfAFile(t *testing.T) {
	t.Setenv(mask.KeyEnv, testKey)
	dir := t.TempDir()
	good, err := os.ReadFile("testdata/dflow/d0150-good.dat")
	if err != nil {
		t.Fatal(err)
	}
	v999 := strings.NewReplacer("D0150002", "D0150999", "|MOPA|", "|MTRA|").Replace(string(good))
	header := "ZHV|HDR0150|D0150002|M|MTRA|X|SUPA|20240101120000||||TR01|\nZPT|HDR0150|0||0|20240101120001|\n"
	lines := strings.SplitAfterN(v999, "\n", 3)
	blanks := lines[0] + lines[1] + strings.Repeat("\n", 6) + lines[2] // 7 findings with the version's
	files := map[string]string{"D0150_v999.dat": v999, "D0150_hdr.dat": header, "D0150_blank.dat": blanks}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	store := filepath.Join(dir, "store")
	for _, c := range []struct {
		file, mpid, id, want string
		code                 int
	}{
		{"D0150_v999.dat", "MTRA", "s1", "  warning: D0150_v999.dat: line 1 group ZHV [header.unknown-version] warning: version 999 of D0150 is not in DTC 15.4", cli.ExitOK},
		{"D0150_blank.dat", "MTRA", "s2", "  warning: D0150_blank.dat: 2 more findings of the file (datacut validate lists them)", cli.ExitOK},
		{"D0150_hdr.dat", "MTRB", "s1", "  warning: D0150_hdr.dat: line 2 group 288 [group.cardinality-min] error: file needs at least 1 group 288", cli.ExitData},
	} {
		if code, stdout, stderr := execDatacut(context.Background(), "submit", "--store", store, "--mpid", c.mpid, "--cut", "mop-mtd", "--id", c.id, filepath.Join(dir, c.file)); code != c.code {
			t.Fatalf("submit %s: exit %d\n%s%s", c.file, code, stdout, stderr)
		}
		vcode, _, _ := execDatacut(context.Background(), "validate", filepath.Join(dir, c.file))
		code, stdout, stderr := execDatacut(context.Background(), "run", "--store", store)
		if code != c.code || vcode != c.code || !strings.Contains(stdout, c.want) {
			t.Errorf("%s: run exit %d, validate exit %d, want %d and %q\n%s%s", c.file, code, vcode, c.code, c.want, stdout, stderr)
		}
		receipt, err := os.ReadFile(filepath.Join(store, "reports/mop-mtd/mpid="+c.mpid+"/"+c.id+"/receipt.json"))
		if err != nil || !strings.Contains(string(receipt), strings.TrimPrefix(c.want, "  warning: ")) {
			t.Errorf("%s: the receipt lacks the finding (%v):\n%s", c.file, err, receipt)
		}
	}
}
