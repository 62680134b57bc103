package main

import (
	"github.com/spf13/pflag"

	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/dflow"
)

// maxInstanceMiB bounds --max-instance-mib: two workers' instances at the
// bound must fit a worker's memory.
const maxInstanceMiB = 1024

// instanceFlag is --max-instance-mib of run and validate.
type instanceFlag struct{ mib int }

func (f *instanceFlag) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.mib, "max-instance-mib", dflow.DefaultMaxInstanceBytes>>20,
		"memory one D-flow instance (one unit's records) may take while read, in MiB (1 to 1024); a file with a larger one is broken (instance.too-large)")
}

// bytes is the bound in bytes, or a usage error.
func (f *instanceFlag) bytes() (int, error) {
	if f.mib < 1 || f.mib > maxInstanceMiB {
		return 0, cli.Usage("--max-instance-mib is %d: it must be 1 to %d", f.mib, maxInstanceMiB)
	}
	return f.mib << 20, nil
}
