// Package browsertest opens the project's HTML pages in headless Chromium
// for tests, the way a reader's browser would, with the flags this
// closed-network machine needs.
package browsertest

import (
	"os"
	"os/exec"
	"testing"
)

// DumpDOM loads the page at path in headless Chromium, runs its script and
// returns the resulting DOM. Without Chromium the test is skipped, or fails
// under CI (scripts/tools.sh installs it).
func DumpDOM(t *testing.T, path string) string {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: scripts/tools.sh installs it")
		}
		t.Skip("chromium is not installed (scripts/tools.sh installs it)")
	}
	out, err := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+path).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(out)
}
