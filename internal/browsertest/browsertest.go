// Package browsertest opens the project's HTML pages in headless Chromium
// for tests, the way a reader's browser would, with the flags this
// closed-network machine needs.
package browsertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// DumpDOM loads the page at path in headless Chromium, runs its script and
// returns the resulting DOM. Without Chromium the test is skipped, or fails
// under CI (scripts/tools.sh installs it).
func DumpDOM(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command(chromium(t), append(flags(t), "--dump-dom", "file://"+path)...).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(out)
}

// chromium is the browser's path. Without it the test is skipped, or fails
// under CI (scripts/tools.sh installs it).
func chromium(t *testing.T) string {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: scripts/tools.sh installs it")
		}
		t.Skip("chromium is not installed (scripts/tools.sh installs it)")
	}
	return browser
}

// flags run Chromium headless on this closed-network machine.
func flags(t *testing.T) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
}

// Screenshot renders the page at path in headless Chromium to a PNG and
// returns its path: $DATACUT_SCREENSHOTS/<test>.png when that is set (to
// look at), else in the test's temporary folder. It fails the test if the
// PNG is missing or blank-small.
func Screenshot(t *testing.T, path string) string {
	t.Helper()
	browser := chromium(t)
	dir := os.Getenv("DATACUT_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png")
	out, err := exec.Command(browser, append(flags(t), "--window-size=1280,1600", "--hide-scrollbars", "--screenshot="+png, "file://"+path)...).CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	if fi, err := os.Stat(png); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v (%v bytes)", png, err, fi)
	}
	return png
}
