package mask

import "flag"

var update = flag.Bool("update", false, "rewrite golden vectors after a deliberate scheme change")
