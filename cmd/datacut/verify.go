package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
)

type verifyOptions struct {
	maskFlags
	raw, masked []string
	json        bool
	cut         string
	store       cli.StoreFlags
}

func newVerifyCmd() *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify (--cut PREFIX | --raw RAW --masked MASKED ...)",
		Short: "Check masked output for raw sensitive values (the DPIA leak check)",
		Long: `verify compares raw D-flow files with their masked forms record by record and
counts every sensitive data item (any item whose DPIA rule is not keep) whose raw
value came through unchanged. Zero is expected. The report names items and
counts, never values, so a DPIA reviewer can run it and share the result
without reading code. The key is needed to know the rules' constants apply.

With --cut it checks a published cut: its Parquet tables against the raw
inputs named in its manifest, which must still be in the store's inbox (run
'datacut run --keep-raw' for cuts you mean to verify). It also looks for raw
values in the texts published beside the cut: its manifest, the reports of
its quarantined files and its submission's receipt and reports under
reports/. It looks for every sensitive value of the raw inputs and of the
quarantined files (rejected rows too), and every cell of a quarantined file
that could be a value, since such a file may be unreadable.

` + cli.ExitCodesDoc,
		Example: `  datacut verify --cut cuts/mop-mtd/mpid=MTRA/cut=3df1be8a2845d03d/
  datacut verify --raw inbox/D0150_1.dat --masked masked/D0150_1.dat
  datacut verify --json --raw a.dat --masked ma.dat --raw b.dat --masked mb.dat`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 || (o.cut == "") == (len(o.raw) == 0) || len(o.raw) != len(o.masked) {
				return cli.Usage("verify needs --cut PREFIX, or pairs of --raw FILE --masked FILE (see 'datacut verify --help')")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.register(cmd.Flags())
	cmd.Flags().StringArrayVar(&o.raw, "raw", nil, "raw D-flow file (repeat, paired in order with --masked)")
	cmd.Flags().StringArrayVar(&o.masked, "masked", nil, "its masked form")
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object per pair")
	cmd.Flags().StringVar(&o.cut, "cut", "", "a published cut's prefix: cuts/<cut>/mpid=<MPID>/cut=<id>/")
	o.store.Register(cmd.Flags())
	return cmd
}

type verifyReport struct {
	Raw    string `json:"raw"`
	Masked string `json:"masked"`
	mask.LeakReport
	Texts *pipeline.TextLeakReport `json:"texts,omitempty"` // --cut: the manifest, reports and receipt
}

func runVerify(ctx context.Context, o *verifyOptions, out io.Writer) error {
	if o.cut != "" {
		return runVerifyCut(ctx, o, out)
	}
	m, err := o.masker()
	if err != nil {
		return err
	}
	leaks := 0
	for i := range o.raw {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep, err := verifyPair(m, o.raw[i], o.masked[i])
		if err != nil {
			return err
		}
		leaks += rep.Leaks
		if o.json {
			json.NewEncoder(out).Encode(verifyReport{Raw: o.raw[i], Masked: o.masked[i], LeakReport: rep})
			continue
		}
		status := "no raw sensitive values found"
		if rep.Leaks > 0 {
			status = fmt.Sprintf("LEAK: %d raw sensitive values found unchanged", rep.Leaks)
		}
		fmt.Fprintf(out, "%s vs %s: %d records, %d sensitive values checked: %s\n", o.raw[i], o.masked[i], rep.Records, rep.Checked, status)
		refs := make([]string, 0, len(rep.ByItem))
		for ref := range rep.ByItem {
			refs = append(refs, ref)
		}
		sort.Strings(refs)
		for _, ref := range refs {
			fmt.Fprintf(out, "  %s: %d\n", ref, rep.ByItem[ref])
		}
	}
	if leaks > 0 {
		return cli.DataErrors
	}
	return nil
}

func verifyPair(m *mask.Masker, raw, masked string) (mask.LeakReport, error) {
	rf, err := os.Open(raw)
	if err != nil {
		return mask.LeakReport{}, err
	}
	defer rf.Close()
	mf, err := os.Open(masked)
	if err != nil {
		return mask.LeakReport{}, err
	}
	defer mf.Close()
	return m.VerifyDFlow(rf, raw, mf, masked)
}

func runVerifyCut(ctx context.Context, o *verifyOptions, out io.Writer) error {
	set, err := o.pipelines()
	if err != nil {
		return err
	}
	st, err := o.store.OpenExisting(ctx)
	if err != nil {
		return err
	}
	m, err := cut.ReadManifest(ctx, st, o.cut)
	if err != nil {
		return err
	}
	d := set.ByName[m.Cut]
	if d == nil {
		return cli.Usage("the cut's pipeline %q is not among the definitions", m.Cut)
	}
	rep, err := pipeline.Verify(ctx, st, o.cut, d, st, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	texts, err := pipeline.VerifyTexts(ctx, st, o.cut, d, st)
	if err != nil {
		return err
	}
	if o.json {
		json.NewEncoder(out).Encode(verifyReport{Raw: "inbox", Masked: o.cut, LeakReport: rep, Texts: &texts})
	} else {
		status := "no raw sensitive values found"
		if rep.Leaks > 0 {
			status = fmt.Sprintf("LEAK: %d raw sensitive values found unchanged", rep.Leaks)
		}
		fmt.Fprintf(out, "%s (%s %s, key %s): %d rows, %d sensitive values checked: %s\n", o.cut, m.Cut, m.MPID, m.KeyFingerprint, rep.Records, rep.Checked, status)
		for _, ref := range slices.Sorted(maps.Keys(rep.ByItem)) {
			fmt.Fprintf(out, "  %s: %d\n", ref, rep.ByItem[ref])
		}
		status = "no raw values found"
		if texts.Leaks > 0 {
			status = fmt.Sprintf("LEAK: %d raw values found", texts.Leaks)
		}
		fmt.Fprintf(out, "texts (manifest, %d reports and receipts): %d raw values looked for: %s\n", len(texts.Texts)-1, texts.Values, status)
		for _, k := range slices.Sorted(maps.Keys(texts.ByText)) {
			fmt.Fprintf(out, "  %s: %d\n", k, texts.ByText[k])
		}
		for _, ref := range slices.Sorted(maps.Keys(texts.ByItem)) {
			fmt.Fprintf(out, "  %s: %d\n", ref, texts.ByItem[ref])
		}
	}
	if rep.Leaks > 0 || texts.Leaks > 0 {
		return cli.DataErrors
	}
	return nil
}
