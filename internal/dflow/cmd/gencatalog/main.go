// Command gencatalog regenerates internal/dflow/catalog.json from the shared
// DTC extraction. Run through `go generate ./internal/dflow`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mhhs-sit/datacut/internal/dflow/dtcgen"
)

func main() {
	src := flag.String("src", "../../../shared/dtc/15.4", "DTC extraction directory")
	out := flag.String("out", "catalog.json", "output file")
	flag.Parse()
	b, err := dtcgen.Build(*src)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencatalog:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gencatalog:", err)
		os.Exit(1)
	}
}
