package mask

// redactMethod replaces free text with a marker.
type redactMethod struct{}

func (redactMethod) mask(_ []byte, width int) ([]byte, error) {
	return []byte(fit("REDACTED", width)), nil
}
