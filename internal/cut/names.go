package cut

import (
	"strings"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// TableName names a D-flow group's table: d0150_288. A flow version other
// than the catalogue's newest gets its version: d0150v001_288.
func TableName(g *dflow.Group) string {
	vs := dflow.DefaultCatalog().Versions(g.Flow.ID)
	name := strings.ToLower(g.Flow.ID)
	if len(vs) > 1 && vs[len(vs)-1] != g.Flow {
		name += "v" + g.Flow.Version
	}
	return name + "_" + strings.ToLower(g.Code)
}
