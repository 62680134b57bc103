package cut

import (
	"fmt"
	"slices"
	"strings"
)

// Amended finds the version an amendment amends among an MPID's versions
// of its cut, and checks it can be made from it, as a run does: that
// version is published; what the amendment withdraws it holds; what it
// replaces it holds or a version quarantined; a file it sends under the
// name of one it holds is listed under replaces. The error says all that
// is wrong, by file name.
func Amended(s *Submission, versions []*Manifest) (*Manifest, error) {
	var base *Manifest
	for _, m := range versions {
		if m.Version == s.Amends {
			base = m
		}
	}
	if base == nil {
		have := "none is published yet"
		switch n := len(versions); {
		case n == 1:
			have = fmt.Sprintf("only version %d is", versions[0].Version)
		case n > 1:
			have = fmt.Sprintf("versions %d to %d are", versions[0].Version, versions[n-1].Version)
		}
		return nil, fmt.Errorf("amends version %d of %s's %s, which is not published (%s)", s.Amends, s.MPID, s.Cut, have)
	}
	var parts, quarantined []string
	for _, in := range base.Inputs {
		parts = append(parts, in.Name())
	}
	for _, m := range versions {
		for _, q := range m.Quarantined {
			if n := BaseName(q.Input); !slices.Contains(quarantined, n) {
				quarantined = append(quarantined, n)
			}
		}
	}
	slices.Sort(parts)
	slices.Sort(quarantined)
	var problems []string
	for _, n := range s.Withdraws {
		if !slices.Contains(parts, n) {
			problems = append(problems, fmt.Sprintf("withdraws %s, which version %d does not hold", n, base.Version))
		}
	}
	for _, n := range s.Replaces {
		if !slices.Contains(parts, n) && !slices.Contains(quarantined, n) {
			problems = append(problems, fmt.Sprintf("replaces %s, which version %d does not hold and no version quarantined", n, base.Version))
		}
	}
	for _, f := range s.Files {
		if slices.Contains(parts, f.Name) && !s.Drops(f.Name) {
			problems = append(problems, fmt.Sprintf("sends %s, which version %d holds: replace it (replaces, or --replace %s), or give the new file another name", f.Name, base.Version, f.Name))
		}
	}
	if len(problems) == 0 {
		return base, nil
	}
	holds := "nothing"
	if len(parts) > 0 {
		holds = strings.Join(parts, ", ")
	}
	if len(quarantined) > 0 {
		holds += "; quarantined: " + strings.Join(quarantined, ", ")
	}
	return nil, fmt.Errorf("%s (version %d holds %s)", strings.Join(problems, "; "), base.Version, holds)
}
