package mask

import "flag"

var update = flag.Bool("update", false, "rewrite golden vectors after a deliberate scheme change, and the methods reference (docs/reference/dpia-methods.md)")
