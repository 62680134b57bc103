// Package programme is the programme register: who takes part, with which
// MPIDs in which roles, and which cuts each role must supply. It is decoded
// from pipelines/programme.yaml through internal/defs (strict, every problem
// at file:line:col) and answers two questions: may this sender send this cut
// for this inbox folder (MaySend), and what is an MPID expected to send
// (Expected).
package programme

import (
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/defs"
)

// File is the register's name in a definitions directory.
const File = "programme.yaml"

// Roles a register may give an MPID. The registration service is MPAS;
// ees is the enquiry service, a central system onboarded to load packs
// (pipelines/roles.yaml): its MPIDs may read their ees-<MPID> packs.
var Roles = []string{"supplier", "mop", "dc", "da", "distributor", "registration", "ees"}

// DateLayout is how a supply's due date is written.
const DateLayout = "2006-01-02"

// Register is the programme register, pipelines/programme.yaml: the
// organisations taking part, their MPIDs and roles, and the cuts each role
// must supply.
type Register struct {
	// Version names this edition of the register, for reports ("2026.12-1").
	Version string `yaml:"version"`
	// Organisations are the participants: each with its MPIDs, whether it
	// takes part in SIT and its cohort.
	Organisations []Organisation `yaml:"organisations"`
	// Supplies says, for each role (supplier, mop, dc, da, distributor,
	// registration), the cut types it must supply, by cut type name.
	Supplies map[string]map[string]Supply `yaml:"supplies"`

	types  cut.Types
	byMPID map[string]*Organisation
}

// Organisation is one participant organisation of the register.
type Organisation struct {
	// Name is the organisation's name, unique in the register.
	Name string `yaml:"name"`
	// SIT is true when the organisation takes part in SIT, false for a
	// non-SIT participant; it must be written either way.
	SIT bool `yaml:"sit"`
	// Cohort is the organisation's cohort (free text, optional).
	Cohort string `yaml:"cohort"`
	// MPIDs are the organisation's market participant ids and the roles
	// each holds; an MPID belongs to one organisation only.
	MPIDs []MPID `yaml:"mpids"`
}

// MPID is one market participant id of an organisation and its roles.
type MPID struct {
	// MPID is the market participant id: 4 characters, A-Z and 0-9.
	MPID string `yaml:"mpid"`
	// Roles are the roles the MPID holds: supplier, mop, dc, da,
	// distributor, registration (the registration service, MPAS), ees (the
	// enquiry service, a central system: it may read its ees-<MPID> packs).
	Roles []string `yaml:"roles"`
}

// Supply is what a role must supply of one cut type: exactly one of due and
// refresh.
type Supply struct {
	// Due is the date the cut is due by, YYYY-MM-DD (a cut sent once).
	Due string `yaml:"due"`
	// Refresh is for a refreshed cut (EES): a new cut at least this often,
	// as a Go duration ("168h").
	Refresh string `yaml:"refresh"`

	due     time.Time
	refresh time.Duration
}

// DueDate is the parsed due date (zero for a refreshed cut).
func (s Supply) DueDate() time.Time { return s.due }

// Interval is the parsed refresh interval (zero for a cut due once).
func (s Supply) Interval() time.Duration { return s.refresh }

// Load reads the register from fsys. Cut types named under supplies must be
// among types. The error is a *defs.Error listing every problem, or a read
// error.
func Load(fsys fs.FS, file string, types cut.Types) (*Register, error) {
	r := &Register{types: types}
	if _, err := defs.Load(fsys, file, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Decode is Load on a file's bytes (file names it in messages).
func Decode(file string, b []byte, types cut.Types) (*Register, error) {
	r := &Register{types: types}
	if _, err := defs.LoadBytes(file, b, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Defaults fills in nothing: every key is written or deliberately empty.
func (r *Register) Defaults() {}

// Validate checks the register, each problem at its key.
func (r *Register) Validate(doc *defs.Doc) {
	if strings.TrimSpace(r.Version) == "" {
		doc.Fail(defs.Path("version"), "version is empty: name this edition of the register")
	}
	if len(r.Organisations) == 0 {
		doc.Fail(defs.Path("organisations"), "no organisations")
	}
	orgsNode, _ := defs.Child(doc.Root(), "organisations")
	names := map[string]bool{}
	owner := map[string]int{} // MPID -> index of its organisation
	r.byMPID = map[string]*Organisation{}
	for i := range r.Organisations {
		o := &r.Organisations[i]
		on := item(orgsNode, i)
		nameNode := at(on, "name")
		switch {
		case strings.TrimSpace(o.Name) == "":
			doc.FailAt(nameNode, "organisation %d has no name", i+1)
		case names[o.Name]:
			doc.FailAt(nameNode, "organisation %q is named twice", o.Name)
		}
		names[o.Name] = true
		if v, _ := defs.Child(on, "sit"); v == nil && on != nil {
			doc.FailAt(on, "organisation %q: say sit: true (takes part in SIT) or sit: false (non-SIT participant)", o.Name)
		}
		if len(o.MPIDs) == 0 {
			doc.FailAt(at(on, "mpids"), "organisation %q has no MPIDs", o.Name)
		}
		mpidsNode, _ := defs.Child(on, "mpids")
		for j, m := range o.MPIDs {
			mn := item(mpidsNode, j)
			idNode := at(mn, "mpid")
			first, seen := owner[m.MPID]
			switch {
			case !cut.IsMPID(m.MPID):
				doc.FailAt(idNode, "MPID %q must be 4 characters, A-Z and 0-9", m.MPID)
			case seen && first == i:
				doc.FailAt(idNode, "MPID %s is listed twice in organisation %q", m.MPID, o.Name)
			case seen:
				doc.FailAt(idNode, "MPID %s is already an MPID of organisation %q: an MPID belongs to one organisation", m.MPID, r.Organisations[first].Name)
			default:
				owner[m.MPID] = i
				r.byMPID[m.MPID] = o
			}
			rolesNode, rolesKey := defs.Child(mn, "roles")
			if len(m.Roles) == 0 {
				doc.FailAt(firstOf(rolesKey, mn), "MPID %s has no roles (%s)", m.MPID, strings.Join(Roles, ", "))
			}
			for k, role := range m.Roles {
				rn := firstOf(item(rolesNode, k), rolesKey)
				if !slices.Contains(Roles, role) {
					doc.FailAt(rn, "unknown role %q (one of %s)", role, strings.Join(Roles, ", "))
				} else if slices.Index(m.Roles, role) < k {
					doc.FailAt(rn, "role %s is listed twice", role)
				}
			}
		}
	}
	r.validateSupplies(doc)
}

// validateSupplies checks supplies in file order.
func (r *Register) validateSupplies(doc *defs.Doc) {
	sn, _ := defs.Child(doc.Root(), "supplies")
	if sn == nil || sn.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(sn.Content); i += 2 {
		roleKey, cutsNode := sn.Content[i], sn.Content[i+1]
		role := roleKey.Value
		if !slices.Contains(Roles, role) {
			doc.FailAt(roleKey, "unknown role %q (one of %s)", role, strings.Join(Roles, ", "))
		}
		if cutsNode.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(cutsNode.Content); j += 2 {
			typeKey := cutsNode.Content[j]
			name := typeKey.Value
			if r.types.Named(name) == nil {
				doc.FailAt(typeKey, "unknown cut type %q (defined: %s)", name, strings.Join(r.types.Names(), ", "))
			}
			s := r.Supplies[role][name]
			sv := cutsNode.Content[j+1]
			switch {
			case s.Due == "" && s.Refresh == "":
				doc.FailAt(typeKey, "%s supplies %s: give due (a date, YYYY-MM-DD) or refresh (a duration, e.g. 168h)", role, name)
			case s.Due != "" && s.Refresh != "":
				doc.FailAt(typeKey, "%s supplies %s: give due or refresh, not both", role, name)
			case s.Due != "":
				d, err := time.Parse(DateLayout, s.Due)
				if err != nil {
					doc.FailAt(firstOf(at(sv, "due"), typeKey), "due %q is not a date YYYY-MM-DD", s.Due)
				}
				s.due = d
			default:
				d, err := time.ParseDuration(s.Refresh)
				if err != nil || d <= 0 {
					doc.FailAt(firstOf(at(sv, "refresh"), typeKey), "refresh %q is not a positive duration (e.g. 168h, 24h)", s.Refresh)
				}
				s.refresh = d
			}
			r.Supplies[role][name] = s
		}
	}
}

// item is the i-th element of sequence n, or nil.
func item(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return nil
	}
	return n.Content[i]
}

// at is the key node of key in mapping n, or n itself when absent.
func at(n *yaml.Node, key string) *yaml.Node {
	if _, k := defs.Child(n, key); k != nil {
		return k
	}
	return n
}

func firstOf(ns ...*yaml.Node) *yaml.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

// Org is the organisation holding mpid, or nil.
func (r *Register) Org(mpid string) *Organisation {
	return r.byMPID[mpid]
}

// MPIDCount is the number of MPIDs in the register.
func (r *Register) MPIDCount() int { return len(r.byMPID) }

// MPIDs are the register's MPIDs, sorted.
func (r *Register) MPIDs() []string {
	out := make([]string, 0, len(r.byMPID))
	for m := range r.byMPID {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// RolesOf are the roles mpid holds (nil if it is not in the register).
func (r *Register) RolesOf(mpid string) []string {
	o := r.Org(mpid)
	if o == nil {
		return nil
	}
	for _, m := range o.MPIDs {
		if m.MPID == mpid {
			return m.Roles
		}
	}
	return nil
}

// Suppliers are the roles that must supply cutType, in the order of Roles.
func (r *Register) Suppliers(cutType string) []string {
	var out []string
	for _, role := range Roles {
		if _, ok := r.Supplies[role][cutType]; ok {
			out = append(out, role)
		}
	}
	return out
}

// RuleSender is the rule a SenderError breaks (a file's ZHV sender).
const RuleSender = "header.sender"

// SenderError says why a sender may not send a cut for an inbox folder. It
// names MPIDs, organisations and roles, never data values.
type SenderError struct {
	Rule    string // RuleSender
	Folder  string // the inbox folder's MPID
	Sender  string // the file's sender MPID
	CutType string
	Msg     string
}

func (e *SenderError) Error() string { return e.Msg }

// MaySend is nil when senderMPID may send a cut of cutType uploaded to the
// inbox folder of folderMPID: the folder MPID is in the register, the sender
// is the folder MPID or another MPID of its organisation, and one of the two
// holds a role that supplies the cut type. Otherwise it is a *SenderError.
func (r *Register) MaySend(folderMPID, senderMPID, cutType string) error {
	fail := func(format string, a ...any) error {
		return &SenderError{Rule: RuleSender, Folder: folderMPID, Sender: senderMPID, CutType: cutType, Msg: fmt.Sprintf(format, a...)}
	}
	o := r.Org(folderMPID)
	if o == nil {
		return fail("inbox folder %s is not an MPID of the programme register", folderMPID)
	}
	if !cut.IsMPID(senderMPID) {
		// A header field, not a known MPID: never repeated in a message.
		err := fail("the sender in the file's header is not an MPID (4 characters A-Z, 0-9), so it cannot be %s or another MPID of %q", folderMPID, o.Name)
		err.(*SenderError).Sender = ""
		return err
	}
	if r.Org(senderMPID) != o {
		other := "not in the programme register"
		if so := r.Org(senderMPID); so != nil {
			other = fmt.Sprintf("an MPID of %q", so.Name)
		}
		return fail("sender %s may not send for %s: it is %s, not %s nor another MPID of %q (%s)",
			senderMPID, folderMPID, other, folderMPID, o.Name, strings.Join(o.mpids(), ", "))
	}
	need := r.Suppliers(cutType)
	for _, m := range []string{folderMPID, senderMPID} {
		for _, role := range r.RolesOf(m) {
			if slices.Contains(need, role) {
				return nil
			}
		}
	}
	if len(need) == 0 {
		return fail("no role supplies cut type %s in the programme register (%s of %q may not send it)", cutType, senderMPID, o.Name)
	}
	held := fmt.Sprintf("%s has roles %s", folderMPID, strings.Join(r.RolesOf(folderMPID), ", "))
	if senderMPID != folderMPID {
		held += fmt.Sprintf(", %s has roles %s", senderMPID, strings.Join(r.RolesOf(senderMPID), ", "))
	}
	return fail("%s of %q may not send cut type %s: it needs the role %s (%s)", senderMPID, o.Name, cutType, strings.Join(need, " or "), held)
}

func (o *Organisation) mpids() []string {
	out := make([]string, len(o.MPIDs))
	for i, m := range o.MPIDs {
		out[i] = m.MPID
	}
	return out
}

// Expectation is a cut an MPID is expected to supply, through one of its
// roles.
type Expectation struct {
	CutType string
	Role    string
	// Due is the date it is due by; zero for a refreshed cut.
	Due time.Time
	// Refresh is how often a new cut is due; zero for a cut due once.
	Refresh time.Duration
}

// Expected lists what mpid must supply: for each of its roles, in the order
// of Roles, the cut types of the role by name. Nil for an unknown MPID.
func (r *Register) Expected(mpid string) []Expectation {
	var out []Expectation
	held := r.RolesOf(mpid)
	for _, role := range Roles {
		if !slices.Contains(held, role) {
			continue
		}
		names := make([]string, 0, len(r.Supplies[role]))
		for n := range r.Supplies[role] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			s := r.Supplies[role][n]
			out = append(out, Expectation{CutType: n, Role: role, Due: s.due, Refresh: s.refresh})
		}
	}
	return out
}
