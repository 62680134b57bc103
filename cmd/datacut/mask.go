package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mask"
)

type maskOptions struct {
	maskFlags
	out string
}

func newMaskCmd() *cobra.Command {
	o := &maskOptions{}
	cmd := &cobra.Command{
		Use:   "mask --out DIR FILE...",
		Short: "Mask D-flow files per the DPIA rules (one file in, one masked file out)",
		Long: `mask validates each D-flow file and writes its masked form to DIR under the
same name: every data item masked per the DPIA rules with the programme key,
instances that fail validation left out, and the header's OPER test flag
changed to TR01. Masking is consistent: the same MPAN, meter id, name or
address masks to the same value in every participant's files, on any machine
with the same key. A flow with a data item the rules do not cover is refused.

The key comes from --key-file or $` + mask.KeyEnv + ` (64 hex characters); it is
never printed. The key fingerprint is printed so runs can be matched.

` + cli.ExitCodesDoc,
		Example: `  export DATACUT_MASK_KEY=$(cat /secure/programme.key)
  datacut mask --out masked/ inbox/MOPA/mop-mtd/*.dat
  datacut verify --raw inbox/MOPA/mop-mtd/D0150_1.dat --masked masked/D0150_1.dat`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || o.out == "" {
				return cli.Usage("mask needs --out DIR and at least one FILE (see 'datacut mask --help')")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMask(cmd.Context(), o, args, cmd.OutOrStdout())
		},
	}
	o.register(cmd.Flags())
	cmd.Flags().StringVar(&o.out, "out", "", "directory for the masked files")
	return cmd
}

func runMask(ctx context.Context, o *maskOptions, files []string, out io.Writer) error {
	m, err := o.masker()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(out, "masking with rules %s (version %s), key %s, scheme %s\n", m.Rules().Path, m.Rules().Version, m.KeyFingerprint(), mask.SchemeVersion)
	dataErrors := false
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		dst := filepath.Join(o.out, filepath.Base(name))
		sum, err := maskFile(m, name, dst)
		var be *dflow.BrokenError
		switch {
		case errors.As(err, &be):
			dataErrors = true
			fmt.Fprintf(out, "%s: BROKEN, nothing written: %s\n", name, be.Finding)
		case err != nil:
			return err
		default:
			if sum.Rejected > 0 {
				dataErrors = true
			}
			fmt.Fprintf(out, "%s: %s, %d instances masked, %d rejected (run validate for why) -> %s\n", name, sum.Flow, sum.Instances, sum.Rejected, dst)
		}
	}
	if dataErrors {
		return cli.DataErrors
	}
	return nil
}

// maskFile writes dst via a temporary file, so a failure leaves no
// half-masked file behind.
func maskFile(m *mask.Masker, src, dst string) (mask.FileSummary, error) {
	in, err := os.Open(src)
	if err != nil {
		return mask.FileSummary{}, err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".masking-*")
	if err != nil {
		return mask.FileSummary{}, err
	}
	defer os.Remove(tmp.Name())
	sum, err := m.MaskDFlow(in, src, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sum, err
	}
	return sum, os.Rename(tmp.Name(), dst)
}
