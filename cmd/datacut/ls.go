package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/store"
)

type lsOptions struct {
	store cli.StoreFlags
}

func newLsCmd() *cobra.Command {
	o := &lsOptions{}
	cmd := &cobra.Command{
		Use:   "ls [--store LOCATION] [PREFIX]",
		Short: "List objects in the store (checks the store settings too)",
		Long: `ls lists the objects under PREFIX with their sizes and times: a quick way to
see what is in a store and to check that its location and credentials work.

Locations: a directory (default ./data), file://DIR, or s3://BUCKET/PREFIX with
the endpoint in --s3-endpoint or DATACUT_S3_ENDPOINT and credentials in
DATACUT_S3_ACCESS_KEY and DATACUT_S3_SECRET_KEY.

` + cli.ExitCodesDoc,
		Example: `  datacut ls inbox/
  DATACUT_S3_ENDPOINT=minio.sit.example:9000 datacut ls --store s3://cuts/sit cuts/mop-mtd/`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cli.Usage("ls takes at most one PREFIX")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 1 {
				prefix = args[0]
			}
			return runLs(cmd.Context(), o, prefix, cmd.OutOrStdout())
		},
	}
	o.store.Register(cmd.Flags())
	return cmd
}

func runLs(ctx context.Context, o *lsOptions, prefix string, out io.Writer) error {
	if err := store.ValidatePrefix(prefix); err != nil {
		return cli.Usage("%v", err)
	}
	st, err := o.store.OpenExisting(ctx)
	if err != nil {
		return err
	}
	n, total := 0, int64(0)
	err = st.List(ctx, prefix, func(i store.Info) error {
		n++
		total += i.Size
		_, err := fmt.Fprintf(out, "%12d  %s  %s\n", i.Size, i.Modified.UTC().Format("2006-01-02 15:04:05"), i.Key)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d objects, %d bytes in %s\n", n, total, st)
	return nil
}
