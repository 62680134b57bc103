package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/reconcile"
)

func newLintCmd() *cobra.Command {
	o := &maskFlags{}
	cmd := &cobra.Command{
		Use:   "lint [--pipelines DIR]",
		Short: "Check pipelines and DPIA rules without touching data",
		Long: `lint decodes every pipeline (cuts/*.yaml), the DPIA rules and the EES column
mapping strictly, the catalogue corrections (conditional groups, in
internal/dflow/corrections.yaml, built in) against the catalogue, and checks
that every data item each pipeline can read has a masking rule (fail-closed),
the programme register (programme.yaml), the roles (roles.yaml, against
the catalogue's route roles) and the reconciliation rules (reconcile.yaml),
if the directory has them. Errors name file:line:col.

` + cli.ExitCodesDoc,
		Example: `  datacut lint
  datacut lint --pipelines ./pipelines`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runLint(o, cmd.OutOrStdout()) },
	}
	o.register(cmd.Flags())
	return cmd
}

func runLint(o *maskFlags, out io.Writer) error {
	// First: every other check reads the catalogue, which the corrections
	// amend.
	if err := lintCorrections(out); err != nil {
		return err
	}
	set, err := o.pipelines()
	if err != nil {
		return err
	}
	for _, n := range set.Names() {
		d := set.ByName[n]
		fmt.Fprintf(out, "%s: ok (%s; rules %s version %s; %s)\n", d.Path, d.Description, d.RulesSet().Path, d.RulesSet().Version, allocatorUse(&d.Type))
	}
	if err := lintProgramme(o.definitions(), out); err != nil {
		return err
	}
	if err := lintRoles(o.definitions(), out); err != nil {
		return err
	}
	return lintReconcile(o.definitions(), out)
}

// lintRoles checks the role definitions of the directory, if any, against
// the catalogue's route roles. The binary's own are built in: it says so
// when the directory's differ.
func lintRoles(fsys fs.FS, out io.Writer) error {
	b, err := fs.ReadFile(fsys, cut.RolesFile)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(out, "%s: none (the built-in roles apply)\n", cut.RolesFile)
		return nil
	}
	if err != nil {
		return cli.Usage("%v", err)
	}
	s, err := cut.LoadRoles(cut.RolesFile, b)
	if err != nil {
		return cli.Usage("%v", err)
	}
	note := ""
	if !slices.EqualFunc(s.Roles, cut.BuiltinRoles.Roles, func(a, b cut.Role) bool {
		return a.Name == b.Name && a.Code == b.Code && slices.Equal(a.RouteRoles, b.RouteRoles) && a.Appointee == b.Appointee && a.Central == b.Central
	}) {
		note = "; they differ from the built-in roles, which this binary uses: rebuild with them"
	}
	fmt.Fprintf(out, "%s: ok (%d roles; version %s%s)\n", cut.RolesFile, len(s.Roles), s.Version, note)
	return nil
}

// lintReconcile checks the reconciliation rules of the definitions, if any.
func lintReconcile(fsys fs.FS, out io.Writer) error {
	if _, err := fs.Stat(fsys, reconcile.RulesFile); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(out, "%s: none (datacut reconcile needs --rules)\n", reconcile.RulesFile)
		return nil
	}
	types, err := reconcile.LoadTypes(fsys)
	if err != nil {
		return cli.Usage("%v", err)
	}
	r, err := reconcile.Load(fsys, reconcile.RulesFile, types)
	if err != nil {
		return cli.Usage("%v", err)
	}
	fmt.Fprintf(out, "%s: ok (%d rules; version %s)\n", reconcile.RulesFile, len(r.Rules), r.Version)
	return nil
}

// lintCorrections checks the catalogue corrections (conditional groups)
// against the generated catalogue: strict keys, only flows, groups, items
// and route roles the catalogue has, a why for each.
func lintCorrections(out io.Writer) error {
	cat, err := dflow.ParseCatalog(dflow.CatalogJSON())
	if err == nil {
		err = cat.ApplyCorrections(dflow.CorrectionsYAML())
	}
	if err != nil {
		return cli.Usage("%v", err)
	}
	fmt.Fprintf(out, "%s: ok (%d conditional groups; %d role codes mapped; DTC %s)\n",
		dflow.CorrectionsFile, cat.Corrections.Conditional, len(cat.Corrections.Roles), cat.DTCVersion)
	return nil
}

// lintProgramme checks the programme register of the definitions, if any:
// it is optional until a check needs it.
func lintProgramme(fsys fs.FS, out io.Writer) error {
	if _, err := fs.Stat(fsys, programme.File); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(out, "%s: none (optional until the sender check needs it)\n", programme.File)
		return nil
	}
	types, err := cut.LoadTypes(fsys)
	if err != nil {
		return cli.Usage("%v", err)
	}
	r, err := programme.Load(fsys, programme.File, types)
	if err != nil {
		return cli.Usage("%v", err)
	}
	fmt.Fprintf(out, "%s: ok (%d organisations, %d MPIDs; version %s)\n", programme.File, len(r.Organisations), r.MPIDCount(), r.Version)
	return nil
}

// allocatorUse says what the allocator does with a cut type.
func allocatorUse(t *cut.Type) string {
	s := "loaded by " + strings.Join(t.LoadedBy, ", ")
	if len(t.LoadedBy) == 0 {
		s = "loaded by no role unless a plan says so"
	}
	if t.Universe != "" {
		s += "; universe: " + t.Universe
	}
	return s
}
