// Command datacut validates, masks and publishes MHHS test data cuts.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "datacut",
		Short: "Validate, mask and publish MHHS test data cuts",
		Long: `datacut reads market participants' data cuts (DTC D-flow files and EES CSV
extracts), validates them against DTC 15.4, masks personal data per the DPIA
rules and publishes them as Parquet to object storage.

` + cli.ExitCodesDoc,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var cpuprofile string
	root.PersistentFlags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to this file (for performance work)")
	root.PersistentFlags().MarkHidden("cpuprofile")
	var stopProfile func()
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if cpuprofile == "" {
			return nil
		}
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return nil
	}
	root.PersistentPostRun = func(cmd *cobra.Command, args []string) {
		if stopProfile != nil {
			stopProfile()
		}
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.Usage("%v (see '%s --help')", err, c.CommandPath())
	})
	root.AddCommand(newDemoCmd(), newSynthCmd(), newRunCmd(), newLintCmd(), newValidateCmd(), newMaskCmd(), newVerifyCmd(), newLsCmd())
	return root
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	code := cli.Code(err)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		code = cli.ExitUsage
	}
	if err != nil && err.Error() != cli.DataErrors.Error() {
		fmt.Fprintln(os.Stderr, "datacut:", err)
	}
	os.Exit(code)
}
