package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Main runs a command tree the way every binary of the project does:
// cancelled on SIGINT/SIGTERM, usage errors exit 2, a hidden --cpuprofile
// for performance work, the error printed once, the exit code by Code.
func Main(root *cobra.Command) {
	var cpuprofile string
	root.PersistentFlags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to this file (for performance work)")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if cpuprofile == "" {
			return nil
		}
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		return pprof.StartCPUProfile(f)
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return Usage("%v (see '%s --help')", err, c.CommandPath())
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := root.ExecuteContext(ctx)
	pprof.StopCPUProfile() // a no-op unless --cpuprofile started one; runs on errors too
	stop()
	code := Code(err)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		code = ExitUsage
	}
	if err != nil && err.Error() != DataErrors.Error() {
		fmt.Fprintf(os.Stderr, "%s: %v\n", root.Name(), err)
	}
	os.Exit(code)
}

// ToolVersion names the binary and its module version, for manifests and
// reports.
func ToolVersion(name string) string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return name + " " + bi.Main.Version
	}
	return name + " dev"
}
