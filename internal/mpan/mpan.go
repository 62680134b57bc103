// Package mpan knows MPAN cores: the check digit, the distributor id and the
// distributor's GSP group. Distributors are data (distributors.csv), not code,
// because MDD adds new ids over time.
package mpan

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
)

// weights of digits 1..12 in the check digit sum.
var weights = [12]int{3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43}

// CheckDigit returns the check digit of the first 12 digits of core, which
// must be ASCII digits (only core[:12] is read).
func CheckDigit[T ~string | ~[]byte](core T) byte {
	sum := 0
	for i := 0; i < 12; i++ {
		sum += int(core[i]-'0') * weights[i]
	}
	return byte('0' + sum%11%10)
}

// Problem says why a value is not a valid MPAN core; "" when it is.
func Problem[T ~string | ~[]byte](core T) string {
	if len(core) != 13 {
		return "MPAN core must be 13 digits"
	}
	for i := 0; i < 13; i++ {
		if core[i] < '0' || core[i] > '9' {
			return "MPAN core must be 13 digits"
		}
	}
	if CheckDigit(core) != core[12] {
		return "MPAN core check digit is wrong"
	}
	return ""
}

// Valid reports whether core is 13 digits with a correct check digit.
func Valid[T ~string | ~[]byte](core T) bool { return Problem(core) == "" }

// Complete appends the check digit to a 12-digit prefix.
func Complete(prefix string) (string, error) {
	if len(prefix) != 12 || strings.Trim(prefix, "0123456789") != "" {
		return "", fmt.Errorf("MPAN prefix must be 12 digits")
	}
	return prefix + string(CheckDigit(prefix)), nil
}

// Distributor is a distribution business identified by the first two digits.
type Distributor struct {
	ID       string // two digits
	MPID     string
	IDNO     bool   // independent: may operate in any GSP group
	GSPGroup string // the DNO's GSP group; "" for IDNOs
}

//go:embed distributors.csv
var distributorsCSV string

var distributors = parseDistributors(distributorsCSV)

func parseDistributors(s string) map[string]Distributor {
	m := map[string]Distributor{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 4 {
			panic("mpan: bad distributors.csv line: " + line)
		}
		m[f[0]] = Distributor{ID: f[0], MPID: f[1], IDNO: f[2] == "IDNO", GSPGroup: f[3]}
	}
	return m
}

// DistributorOf returns the distributor of an MPAN core (or any string
// starting with its 2-digit id).
func DistributorOf(core string) (Distributor, bool) {
	if len(core) < 2 {
		return Distributor{}, false
	}
	d, ok := distributors[core[:2]]
	return d, ok
}

// Distributors lists the known distributors ordered by id.
func Distributors() []Distributor {
	out := make([]Distributor, 0, len(distributors))
	for _, d := range distributors {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// GSPGroups are the 14 GSP groups (J0066).
var GSPGroups = []string{"_A", "_B", "_C", "_D", "_E", "_F", "_G", "_H", "_J", "_K", "_L", "_M", "_N", "_P"}

// IsGSPGroup reports whether g is one of the 14 GSP group ids.
func IsGSPGroup(g string) bool {
	for _, x := range GSPGroups {
		if x == g {
			return true
		}
	}
	return false
}

// Format builds a core from a distributor id (0..99) and a 10-digit unique
// number, computing the check digit.
func Format(distributor int, unique uint64) string {
	p := fmt.Sprintf("%02d%010d", distributor, unique%10_000_000_000)
	return p + string(CheckDigit(p))
}
