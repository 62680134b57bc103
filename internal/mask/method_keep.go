package mask

// MethodKeep leaves values unchanged: business data.
const MethodKeep = "keep"

var keepSpec = &methodSpec{
	name:      MethodKeep,
	summary:   "unchanged",
	usedFor:   "business data (MPIDs, codes, dates, settlement classes) is kept",
	details:   "A kept domain is the only one not sensitive by default: its values may appear in reports and logs. A domain cannot both keep values and say `sensitive: true`.",
	mpanItems: true,
	checkDomain: func(d *Domain) (string, string) {
		if d.Sensitive != nil && *d.Sensitive {
			return "sensitive", "a sensitive domain cannot keep values"
		}
		return "", ""
	},
	build: func(*Domain, []byte) (method, error) { return keepMethod{}, nil },
}

type keepMethod struct{}

func (keepMethod) mask(v []byte, _ int) ([]byte, error) { return v, nil }
