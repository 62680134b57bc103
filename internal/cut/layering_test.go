package cut

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/mhhs-sit/datacut/"

// The allocator side stands on this package, beside the batch worker, not
// above it: neither it nor the contract itself may link the worker or the
// masking code (a participant's raw data and the programme key never reach
// the allocator's binary).
func TestLayering(t *testing.T) {
	allocatorSide := []string{"internal/cut", "internal/universe", "internal/reconcile", "internal/solver", "internal/allocation", "internal/plan", "cmd/allocate"}
	forbidden := []string{"internal/pipeline", "internal/mask"}
	for _, pkg := range allocatorSide {
		for _, dep := range deps(t, pkg) {
			for _, f := range forbidden {
				if dep == module+f || strings.HasPrefix(dep, module+f+"/") {
					t.Errorf("%s depends on %s: read published cuts through internal/cut instead", pkg, strings.TrimPrefix(dep, module))
				}
			}
		}
	}
}

// The rule is checked on a real import graph: without the forbidden
// packages in the graph of the batch worker's command, the test above
// would prove nothing.
func TestLayeringSeesTheWorker(t *testing.T) {
	var saw bool
	for _, dep := range deps(t, "cmd/datacut") {
		saw = saw || dep == module+"internal/mask"
	}
	if !saw {
		t.Fatal("go list -deps ./cmd/datacut does not list internal/mask: the layering test is not looking at the import graph")
	}
}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../"+pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}
