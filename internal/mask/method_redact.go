package mask

import "github.com/mhhs-sit/datacut/internal/dflow"

// MethodRedact replaces free text with a marker.
const MethodRedact = "redact"

var redactSpec = &methodSpec{
	name:     MethodRedact,
	summary:  "`REDACTED`, cut to width",
	usedFor:  "free text",
	details:  "Free text may hold anything, so none of it is kept: every value becomes `REDACTED`, cut to the item's width.",
	textOnly: true,
	build:    func(*Domain, []byte) (method, error) { return redactMethod{}, nil },
}

// redactMethod replaces free text with a marker.
type redactMethod struct{}

func (redactMethod) mask(_ []byte, width int) ([]byte, error) {
	return []byte(dflow.Redacted(width)), nil
}
