package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func testRoot(runErr error) *cobra.Command {
	root := &cobra.Command{Use: "tool", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(&cobra.Command{Use: "lint", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return runErr }})
	return root
}

func execute(t *testing.T, runErr error, args ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	code := Execute(context.Background(), testRoot(runErr), args, &stderr)
	return code, stderr.String()
}

func TestExecuteUsageErrorsExit2(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `tool: unknown command "bogus" for "tool"`},
		{[]string{"lnt"}, "Did you mean this?\n\tlint"},
		{[]string{"bogus", "--help"}, `unknown command "bogus"`},
		{[]string{"lint", "extra"}, `tool: unknown command "extra" for "tool lint"`},
		{[]string{"lint", "--bogus"}, "tool: unknown flag: --bogus (see 'tool lint --help')"},
	} {
		code, stderr := execute(t, nil, c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, ExitUsage, c.want)
		}
	}
}

func TestExecuteRunErrors(t *testing.T) {
	if code, stderr := execute(t, nil, "lint"); code != ExitOK || stderr != "" {
		t.Errorf("success: exit %d, stderr %q", code, stderr)
	}
	if code, stderr := execute(t, DataErrors, "lint"); code != ExitData || stderr != "" {
		t.Errorf("DataErrors is a silent exit 1: exit %d, stderr %q", code, stderr)
	}
	if code, stderr := execute(t, errors.New("disk full"), "lint"); code != ExitFailure || stderr != "tool: disk full\n" {
		t.Errorf("a failure exits 3, printed once: exit %d, stderr %q", code, stderr)
	}
	// An untyped error of a command that ran is a failure, even when its
	// text looks like cobra's.
	if code, _ := execute(t, errors.New("unknown command in the data"), "lint"); code != ExitFailure {
		t.Errorf("a run's error classified by its text: exit %d", code)
	}
	if code, stderr := execute(t, Usage("--plan is required"), "lint"); code != ExitUsage || stderr != "tool: --plan is required\n" {
		t.Errorf("usage error: exit %d, stderr %q", code, stderr)
	}
}
