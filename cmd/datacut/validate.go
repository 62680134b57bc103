package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/store"
)

type validateOptions struct {
	defsFlags
	json        bool
	encoding    string
	showValues  bool
	maxFindings int
	format      string
	instance    instanceFlag

	eesCols *ees.Columns // loaded on the first EES file
}

func newValidateCmd() *cobra.Command {
	o := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate [--json] [--format auto|dflow|ees] FILE...",
		Short: "Check D-flow files and EES exports against the DTC 15.4 catalogue",
		Long: `validate reads each D-flow file, checks header, trailer, group hierarchy and
every data item (format, width, valid set, MPAN check digit, cardinality) and
prints what it found. Findings never show data values unless --show-values is
given, so reports can be shared.

An EES portfolio export (CSV) is checked the way 'datacut run' reads it:
columns by header name against ees-columns.yaml (unknown, duplicated and
missing required columns, a first line that is no header), CSV structure,
and every value of every row. Its findings never show values, even with
--show-values. --format auto (the default) takes a file whose name ends in
.csv, or whose first line has a comma and no '|', for an EES export.

` + cli.ExitCodesDoc,
		Example: `  datacut validate inbox/MOPA/mop-mtd/D0150_0001.dat
  datacut validate --json data/inbox/*/*/*.dat | jq 'select(.errors > 0) | .file'
  datacut validate data/inbox/BRGT/ees/s1/EES_0001.csv`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cli.Usage("validate needs at least one FILE (see 'datacut validate --help')")
			}
			if o.format != "auto" && o.format != "dflow" && o.format != "ees" {
				return cli.Usage("--format is auto, dflow or ees, not %q", o.format)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := dflow.ParseEncoding(o.encoding); err != nil {
				return cli.Usage("--encoding: %v", err)
			}
			return runValidate(cmd.Context(), o, args, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object per file")
	cmd.Flags().BoolVar(&o.showValues, "show-values", false, "include raw data values in findings (only for your own raw data: do not share such reports)")
	cmd.Flags().IntVar(&o.maxFindings, "max-findings", 1000, "findings listed per file (all are counted)")
	o.instance.register(cmd.Flags())
	cmd.Flags().StringVar(&o.format, "format", "auto", "file format: auto (by name and first line), dflow or ees")
	o.defsFlags.register(cmd.Flags())
	cmd.Flags().StringVar(&o.encoding, "encoding", "auto", "the files' text: auto (UTF-8; a line that is not, but is Windows-1252, is read as Windows-1252 with a warning), utf-8 or windows-1252")
	return cmd
}

// FileReport is what validate says of one file.
type FileReport struct {
	File       string          `json:"file"`
	Flow       string          `json:"flow,omitempty"`
	Version    string          `json:"version,omitempty"`
	FlowName   string          `json:"flowName,omitempty"`
	Encoding   string          `json:"encoding,omitempty"`
	FromRole   string          `json:"fromRole,omitempty"`
	FromMPID   string          `json:"fromMpid,omitempty"`
	ToRole     string          `json:"toRole,omitempty"`
	ToMPID     string          `json:"toMpid,omitempty"`
	TestFlag   string          `json:"testFlag,omitempty"`
	Groups     int             `json:"groups"`
	FlowCount  int             `json:"flowCount"`
	MPANs      int             `json:"mpans"`
	Instances  int             `json:"instances"`
	Rejected   int             `json:"rejected"`
	Errors     int             `json:"errors"`
	Warnings   int             `json:"warnings"`
	Broken     bool            `json:"broken"`
	Findings   []dflow.Finding `json:"findings"`
	Unlisted   int             `json:"findingsNotListed,omitempty"`
	ReadFailed string          `json:"readError,omitempty"`
}

func runValidate(ctx context.Context, o *validateOptions, files []string, out io.Writer) error {
	if _, err := o.instance.bytes(); err != nil && o.instance.mib != 0 {
		return err
	}
	anyErrors, unreadable := false, false
	enc := json.NewEncoder(out)
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep := validateFile(ctx, name, o)
		if err := ctx.Err(); err != nil {
			return err // stopped part way: the file's report would be wrong
		}
		anyErrors = anyErrors || rep.Errors > 0 || rep.Broken
		unreadable = unreadable || rep.ReadFailed != ""
		if o.json {
			if err := enc.Encode(rep); err != nil {
				return err
			}
		} else {
			printReport(out, rep)
		}
	}
	switch {
	case unreadable:
		return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("some files could not be read (see report)")}
	case anyErrors:
		return cli.DataErrors
	}
	return nil
}

func validateFile(ctx context.Context, name string, o *validateOptions) *FileReport {
	rep := &FileReport{File: name, Findings: []dflow.Finding{}}
	f, err := os.Open(name)
	if err != nil {
		rep.ReadFailed = err.Error()
		return rep
	}
	defer f.Close()
	// A signal stops a file that never ends: reads fail once ctx is done,
	// and closing the file ends a read blocked on a pipe.
	defer context.AfterFunc(ctx, func() { f.Close() })()
	br := bufio.NewReaderSize(store.ContextReader(ctx, f), 64<<10)
	if o.isEES(name, br) {
		validateEES(rep, o, br)
		return rep
	}
	enc, _ := dflow.ParseEncoding(o.encoding)
	opt := dflow.Options{MaxInstanceBytes: o.instance.mib << 20, Encoding: enc}
	if o.showValues {
		opt.Reveal = func(string) bool { return true }
	}
	r := dflow.NewReader(br, name, opt)
	add := rep.adder(o.maxFindings)
	mpans := map[uint64]struct{}{}
	for {
		in, err := r.Next()
		if err == io.EOF {
			break
		}
		var be *dflow.BrokenError
		if errors.As(err, &be) { // what breaks the file comes first, then what else was found
			rep.Broken = true
			if o.maxFindings > 0 {
				rep.Findings = append([]dflow.Finding{be.Finding}, rep.Findings...)
				if len(rep.Findings) > o.maxFindings {
					rep.Findings = rep.Findings[:o.maxFindings]
					rep.Unlisted++
				}
			} else {
				rep.Unlisted++
			}
			break
		}
		if err != nil {
			rep.ReadFailed = err.Error()
			break
		}
		add(in.Findings...)
		rep.Unlisted += in.Errors + in.Warnings - len(in.Findings)
		if n, err := strconv.ParseUint(string(in.MPAN), 10, 64); err == nil {
			mpans[n] = struct{}{}
		}
	}
	if h, err := r.Header(); err == nil {
		rep.Flow, rep.Version, rep.FromRole, rep.FromMPID, rep.ToRole, rep.ToMPID, rep.TestFlag =
			h.Flow, h.Version, h.FromRole, h.FromMPID, h.ToRole, h.ToMPID, h.TestFlag
		rep.FlowName = r.Flow().Name
	}
	add(r.FileFindings()...)
	if r.TextEncoding() == dflow.EncodingWindows1252 {
		rep.Encoding = string(dflow.EncodingWindows1252)
	}
	st := r.Stats()
	rep.Groups, rep.FlowCount, rep.Instances, rep.Rejected = st.Records, st.Instances, st.Instances, st.Rejected
	if t := r.Trailer(); t != nil {
		rep.FlowCount = t.FlowCount
	}
	rep.Errors, rep.Warnings, rep.MPANs = st.Errors, st.Warnings, len(mpans)
	if rep.Broken {
		rep.Errors++
	}
	return rep
}

// adder lists findings up to max, counting the rest.
func (rep *FileReport) adder(max int) func(...dflow.Finding) {
	return func(fs ...dflow.Finding) {
		for _, fd := range fs {
			if len(rep.Findings) < max {
				rep.Findings = append(rep.Findings, fd)
			} else {
				rep.Unlisted++
			}
		}
	}
}

// isEES says whether to read the file as an EES export: --format, else
// a .csv name, else a first line with a comma and no '|' (a D-flow's
// fields are separated by '|').
func (o *validateOptions) isEES(name string, br *bufio.Reader) bool {
	switch o.format {
	case "ees":
		return true
	case "dflow":
		return false
	}
	if strings.EqualFold(filepath.Ext(name), ".csv") {
		return true
	}
	head, _ := br.Peek(4096)
	if i := bytes.IndexAny(head, "\r\n"); i >= 0 {
		head = head[:i]
	}
	return bytes.IndexByte(head, ',') >= 0 && bytes.IndexByte(head, '|') < 0
}

// validateEES reads an EES export as a run would.
func validateEES(rep *FileReport, o *validateOptions, src io.Reader) {
	rep.Flow, rep.FlowName = "EES", "EES portfolio export"
	if o.eesCols == nil {
		cols, err := ees.LoadColumnsFS(o.definitions(), pipeline.SharedColumns, dflow.DefaultCatalog())
		if err != nil {
			rep.ReadFailed = err.Error()
			return
		}
		o.eesCols = cols
	}
	cat := dflow.DefaultCatalog()
	r := ees.NewReader(src, rep.File, o.eesCols, func(ref string) *dflow.Item {
		if it := cat.Item(ref); it != nil {
			return it
		}
		return o.eesCols.Extra[ref]
	})
	add := rep.adder(o.maxFindings)
	mpans := map[uint64]struct{}{}
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		var be *dflow.BrokenError
		if errors.As(err, &be) {
			rep.Broken = true
			add(be.Finding)
			break
		}
		if err != nil {
			rep.ReadFailed = err.Error()
			break
		}
		add(row.Findings...)
		rep.Unlisted += row.Errors - len(row.Findings)
		if n, err := strconv.ParseUint(string(row.MPAN), 10, 64); err == nil {
			mpans[n] = struct{}{}
		}
	}
	ff := r.FileFindings()
	add(ff...)
	st := r.Stats()
	rep.Groups, rep.FlowCount, rep.Instances, rep.Rejected = st.Records, st.Instances, st.Instances, st.Rejected
	rep.Errors, rep.MPANs, rep.Warnings = st.Errors, len(mpans), len(ff)
	if rep.Broken {
		rep.Errors++
	}
}

func printReport(w io.Writer, r *FileReport) {
	status := "OK"
	switch {
	case r.ReadFailed != "":
		status = "UNREADABLE"
	case r.Broken:
		status = "BROKEN"
	case r.Errors > 0:
		status = "ERRORS"
	}
	fmt.Fprintf(w, "%s: %s\n", r.File, status)
	if r.ReadFailed != "" {
		fmt.Fprintf(w, "  %s\n", r.ReadFailed)
		return
	}
	if r.Flow == "EES" {
		fmt.Fprintf(w, "  %s: %d rows (%d rejected), %d MPANs, %d errors, %d warnings\n", r.FlowName, r.Instances, r.Rejected, r.MPANs, r.Errors, r.Warnings)
		for _, f := range r.Findings {
			fmt.Fprintf(w, "  %s\n", f)
		}
		if r.Unlisted > 0 {
			fmt.Fprintf(w, "  … %d more findings not listed (see --max-findings)\n", r.Unlisted)
		}
		return
	}
	if r.Flow != "" {
		fmt.Fprintf(w, "  flow %s v%s %s, from %s/%s to %s/%s, test flag %s\n",
			r.Flow, r.Version, r.FlowName, r.FromRole, r.FromMPID, r.ToRole, r.ToMPID, r.TestFlag)
	}
	fmt.Fprintf(w, "  %d group records, %d instances (%d rejected), %d MPANs, %d errors, %d warnings\n",
		r.Groups, r.FlowCount, r.Rejected, r.MPANs, r.Errors, r.Warnings)
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %s\n", f)
	}
	if r.Unlisted > 0 {
		fmt.Fprintf(w, "  … %d more findings not listed (see --max-findings)\n", r.Unlisted)
	}
}
