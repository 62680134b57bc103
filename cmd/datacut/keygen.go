package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/mask"
)

func newKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Make a new programme mask key in a file of its own",
		Long: `keygen writes a fresh random 256-bit mask key to FILE as 64 hex characters
and a newline, readable by its owner only (0600), and prints its fingerprint,
never the key. It never overwrites a file: cuts masked with one key do not join
cuts masked with another, so a programme makes its key once.

Hand the key to the worker that runs 'datacut run' (DATACUT_MASK_KEY or
--key-file, as a secret) and to whoever runs 'datacut mask' or 'datacut verify'
for the programme; participants send raw cuts with 'datacut submit' and never
need it. Keep a copy where the programme keeps its secrets: a lost key means
new cuts no longer join the old ones.

` + cli.ExitCodesDoc,
		Example: `  datacut keygen --out /secure/programme.key
  datacut run --key-file /secure/programme.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeygen(out, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the new key file (must not exist)")
	return cmd
}

func runKeygen(path string, out io.Writer) error {
	if path == "" {
		return cli.Usage("keygen needs --out FILE, the new key file (see 'datacut keygen --help')")
	}
	k, err := mask.GenerateKey()
	if err != nil {
		return err
	}
	err = mask.WriteKeyFile(path, k)
	if errors.Is(err, fs.ErrExist) {
		return cli.Usage("%s exists: keygen never overwrites a key (cuts masked with it would no longer join new ones); choose another --out", path)
	}
	if err != nil {
		return cli.Usage("--out: %v", err)
	}
	fmt.Fprintf(out, "wrote a new mask key to %s (0600), fingerprint %s\n", path, k.Fingerprint())
	fmt.Fprintf(out, "give it to the worker running datacut run: --key-file %s or %s=$(cat %s)\n", path, mask.KeyEnv, path)
	return nil
}
