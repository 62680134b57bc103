// Command allocate is the SI allocator: it assigns MPAN sets from published
// cuts to SIT/UIT test environments and builds each participant's load pack.
// It is not built yet: this placeholder only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "allocate: not available yet: the allocator is planned work (see the project's issues); use datacut for cuts")
	os.Exit(3)
}
