package main

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/pflag"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/pipelines"
)

// defsFlags is the --pipelines flag of every command that reads the
// definitions (pipelines, DPIA rules, EES columns, programme register).
type defsFlags struct {
	defsDir string
}

func (f *defsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.defsDir, "pipelines", "", "directory with cuts/, dpia.yaml, ees-columns.yaml and programme.yaml (default: the definitions built into datacut)")
}

// maskFlags are the flags of every command that masks or reads rules.
type maskFlags struct {
	defsFlags
	keyFile string
}

func (f *maskFlags) register(fs *pflag.FlagSet) {
	f.defsFlags.register(fs)
	fs.StringVar(&f.keyFile, "key-file", "", "file holding the programme mask key, 64 hex characters (default: $"+mask.KeyEnv+")")
}

// definitions returns the pipelines directory as a file system.
func (f *defsFlags) definitions() fs.FS {
	if f.defsDir == "" {
		return pipelines.FS
	}
	return os.DirFS(f.defsDir)
}

// pipelines loads every definition once, the one way: pipelines, the rule
// sets they name and the EES columns; mistakes in them are configuration
// errors (exit 2).
func (f *defsFlags) pipelines() (*pipeline.Set, error) {
	set, err := pipeline.Load(f.definitions())
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	return set, nil
}

// masker loads the definitions and the key; single files are masked with
// the DPIA rules every built-in pipeline names.
func (f *maskFlags) masker() (*mask.Masker, error) {
	set, err := f.pipelines()
	if err != nil {
		return nil, err
	}
	rules := set.Rules(pipeline.DefaultRules)
	if rules == nil {
		return nil, cli.Usage("no pipeline in %s uses %s, the rules datacut mask and verify --raw apply", f.where(), pipeline.DefaultRules)
	}
	key, err := mask.LoadKey(f.keyFile)
	if err != nil {
		return nil, cli.Usage("%v", err)
	}
	m, err := mask.New(rules, key, set.Resolver())
	if err != nil {
		return nil, fmt.Errorf("preparing masking: %w", err)
	}
	return m, nil
}

func (f *defsFlags) where() string {
	if f.defsDir == "" {
		return "the built-in definitions"
	}
	return f.defsDir
}

// builtInCutTypes names the cut types built into the binary, for help
// texts (the definitions are tested to load).
func builtInCutTypes() []string {
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		return []string{"see datacut lint"}
	}
	return types.Names()
}
