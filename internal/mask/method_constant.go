package mask

type constantMethod struct{ value []byte }

func (c constantMethod) mask([]byte, int) ([]byte, error) { return c.value, nil }
