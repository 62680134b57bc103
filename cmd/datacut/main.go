// Command datacut validates, masks and publishes MHHS test data cuts.
package main

import (
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
	root.AddCommand(newDemoCmd(), newSynthCmd(), newRunCmd(), newLintCmd(), newValidateCmd(), newMaskCmd(), newVerifyCmd(), newLsCmd(), newStatusCmd(), newKeygenCmd(), newPruneCmd(), newSubmitCmd(), newAccessCmd(), newAuditCmd(), newReconcileCmd())
	return root
}

func main() { cli.Main(newRootCmd()) }
