package mask

// MethodBlank empties values.
const MethodBlank = "blank"

var blankSpec = &methodSpec{
	name:      MethodBlank,
	summary:   "empty",
	usedFor:   "items a test environment must not hold at all",
	details:   "Every value becomes empty (a null in tables), whatever the item's type.",
	mpanItems: true,
	build:     func(*Domain, []byte) (method, error) { return blankMethod{}, nil },
}

type blankMethod struct{}

func (blankMethod) mask([]byte, int) ([]byte, error) { return nil, nil }
