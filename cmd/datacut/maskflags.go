package main

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/pflag"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/pipelines"
)

// maskFlags are the flags of every command that masks or reads rules.
type maskFlags struct {
	pipelines string
	keyFile   string
}

func (f *maskFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.pipelines, "pipelines", "", "directory with dpia.yaml and ees-columns.yaml (default: the definitions built into datacut)")
	fs.StringVar(&f.keyFile, "key-file", "", "file holding the programme mask key, 64 hex characters (default: $"+mask.KeyEnv+")")
}

// definitions returns the pipelines directory as a file system.
func (f *maskFlags) definitions() fs.FS {
	if f.pipelines == "" {
		return pipelines.FS
	}
	return os.DirFS(f.pipelines)
}

func (f *maskFlags) where(name string) string {
	if f.pipelines == "" {
		return "built-in " + name
	}
	return f.pipelines + "/" + name
}

// rules loads the DPIA rules and the resolver for their items; mistakes in
// them are configuration errors (exit 2).
func (f *maskFlags) rules() (*mask.Rules, mask.Resolver, *ees.Columns, error) {
	defs := f.definitions()
	cat := dflow.DefaultCatalog()
	cb, err := fs.ReadFile(defs, "ees-columns.yaml")
	if err != nil {
		return nil, nil, nil, cli.Usage("reading %s: %v", f.where("ees-columns.yaml"), err)
	}
	cols, err := ees.ParseColumns(f.where("ees-columns.yaml"), cb, cat)
	if err != nil {
		return nil, nil, nil, cli.Usage("%v", err)
	}
	res := mask.CatalogResolver(cat, cols.Extra)
	rb, err := fs.ReadFile(defs, "dpia.yaml")
	if err != nil {
		return nil, nil, nil, cli.Usage("reading %s: %v", f.where("dpia.yaml"), err)
	}
	rules, err := mask.ParseRules(f.where("dpia.yaml"), rb, res)
	if err != nil {
		return nil, nil, nil, cli.Usage("%v", err)
	}
	return rules, res, cols, nil
}

// masker loads rules and the key.
func (f *maskFlags) masker() (*mask.Masker, error) {
	rules, res, _, err := f.rules()
	if err != nil {
		return nil, err
	}
	key, err := mask.LoadKey(f.keyFile)
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	m, err := mask.New(rules, key, res)
	if err != nil {
		return nil, fmt.Errorf("preparing masking: %w", err)
	}
	return m, nil
}
