package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Main runs a command tree the way every binary of the project does:
// cancelled on SIGINT/SIGTERM (a second one ends it at once), then Execute with the process's arguments,
// exiting with its code.
func Main(root *cobra.Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	said := make(chan struct{})
	go func() {
		<-ctx.Done()
		fmt.Fprintf(os.Stderr, "%s: stopping cleanly (send the signal again to stop at once)\n", root.Name())
		stop() // a second signal ends the process at once
		close(said)
	}()
	code := Execute(ctx, root, os.Args[1:], os.Stderr)
	if ctx.Err() != nil {
		<-said
	}
	// Not stop(): it would cancel ctx and say "stopping" on the way out.
	writePeak()
	os.Exit(code)
}

// PeakEnv names a file a process writes its peak resident memory to when
// it ends (VmHWM of /proc/self/status, KiB): for measuring memory bounds,
// since a parent's rusage of a child counts the parent's pages it forked
// from.
const PeakEnv = "DATACUT_PEAK_RSS_FILE"

func writePeak() {
	path := os.Getenv(PeakEnv)
	if path == "" {
		return
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			os.WriteFile(path, []byte(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))+"\n"), 0o600)
		}
	}
}

// Execute runs root with args and returns the exit code: usage errors
// (unknown commands, bad flags or arguments) exit 2, hidden --cpuprofile and
// --memprofile (allocations, written at the end) serve performance work, and the error is printed once to stderr unless
// it is DataErrors (the command's report already said what was wrong).
// Execute owns root's PersistentPreRunE: it marks where cobra's own checks
// end and a command starts, so errors before it are usage errors.
func Execute(ctx context.Context, root *cobra.Command, args []string, stderr io.Writer) int {
	var cpuprofile, memprofile string
	started := false
	root.PersistentFlags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to this file (for performance work)")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentFlags().StringVar(&memprofile, "memprofile", "", "write an allocation profile to this file at the end (for performance work)")
	root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		started = true
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
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	pprof.StopCPUProfile() // a no-op unless --cpuprofile started one; runs on errors too
	if memprofile != "" && started {
		if f, perr := os.Create(memprofile); perr == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	var ee *ExitError
	if err != nil && !started && !errors.As(err, &ee) {
		// Cobra failed before any command ran: finding the command (an
		// unknown one) or checking its arguments (cobra.NoArgs). Flag
		// errors come typed through the flag error func above.
		err = &ExitError{Code: ExitUsage, Err: err}
	}
	if err != nil && !errors.Is(err, DataErrors) {
		fmt.Fprintf(stderr, "%s: %s\n", root.Name(), strings.TrimRight(err.Error(), "\n"))
	}
	return Code(err)
}

// ToolVersion names the binary and its module version, for manifests and
// reports.
func ToolVersion(name string) string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return name + " " + bi.Main.Version
	}
	return name + " dev"
}
