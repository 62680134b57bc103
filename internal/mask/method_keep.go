package mask

type keepMethod struct{}

func (keepMethod) mask(v []byte, _ int) ([]byte, error) { return v, nil }
