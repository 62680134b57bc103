package mask

type blankMethod struct{}

func (blankMethod) mask([]byte, int) ([]byte, error) { return nil, nil }
