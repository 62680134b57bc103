package allocation

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/plan"
	"github.com/mhhs-sit/datacut/internal/solver"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// Report is what a test lead reads: coverage per environment and demand,
// fill rates per participant, counts by segment and GSP group.
type Report struct {
	Plan  string `json:"plan"`
	RunID string `json:"runId"`
	// InputsID names what the run was made from (plan, key, cuts, other
	// plans' holdings): its RunID unless a run of the same inputs was made
	// before it (see chooseRun).
	InputsID       string         `json:"inputsId,omitempty"`
	PreviousRun    string         `json:"previousRun,omitempty"` // the ledger this run kept assignments from
	Tool           string         `json:"tool"`
	Seed           uint64         `json:"seed"`
	KeyFingerprint string         `json:"keyFingerprint"`
	Sources        []SourceRef    `json:"sources"`
	Universe       universe.Stats `json:"universe"`
	Unplaced       int            `json:"unitsEligibleForNoDemand"`
	Asked, Filled  int            `json:"-"`
	Environments   []EnvReport    `json:"environments"`
	Timings        Timings        `json:"timings"`

	// Excluded is what the plan's policy.exclude_findings kept out (nil
	// when it lists no rule).
	Excluded *Exclusion `json:"excludedForFindings,omitempty"`
}

// SourceRef names a version of a cut the universe read (the fields
// retention reads, cut.SourceRef), its as-at date, and whether the plan
// pinned it rather than taking the latest.
type SourceRef struct {
	cut.SourceRef
	AsAt   string `json:"asAt,omitempty"`
	Pinned bool   `json:"pinned,omitempty"`
	// Synthetic: the run's own records of its synthetic units
	// (policy.top_up), published in its spool, not a cut of the store.
	Synthetic bool `json:"synthetic,omitempty"`
}

// EnvReport is one environment's coverage.
type EnvReport struct {
	Name         string              `json:"name"`
	Asked        int                 `json:"askedUnits"`
	Filled       int                 `json:"filledUnits"`
	MPANs        int                 `json:"mpans"`
	Reappointed  int                 `json:"reappointedMpans"`
	Demands      []DemandReport      `json:"demands"`
	Participants []ParticipantReport `json:"participants"`
	BySegment    map[string]int      `json:"mpansBySegment"`
	ByGSP        map[string]int      `json:"mpansByGspGroup"`
	// WithoutData counts, per role with a pack, the MPANs given whose
	// role's pack holds none of their data: 0 unless the plan's
	// policy.allow_missing_data lets it happen.
	WithoutData map[string]int `json:"mpansWithoutData"`
	// NoPack lists the roles onboarded in the environment that the plan
	// gives no pack (no source cut carries a flow routed to them).
	NoPack []string `json:"rolesWithoutPack,omitempty"`
}

// DemandReport is one ask's outcome.
type DemandReport struct {
	Key    string            `json:"key"`
	Demand string            `json:"demand"`
	Per    map[string]string `json:"per,omitempty"`
	Filter string            `json:"filter"`
	Asked  int               `json:"asked"`
	Filled int               `json:"filled"`
	Kept   int               `json:"keptFromLedger"`
	// Synthetic counts the synthetic units (policy.top_up) among Filled.
	Synthetic int             `json:"synthetic"`
	Shortfall int             `json:"shortfall"`
	Reason    string          `json:"reason,omitempty"`
	Stats     solver.AskStats `json:"stats"`
}

// ParticipantReport is one onboarded participant's share.
type ParticipantReport struct {
	Role   string  `json:"role"`
	MPID   string  `json:"mpid"`
	Asked  int     `json:"askedUnits"`  // by demands per this role
	Filled int     `json:"filledUnits"` // of those
	Rate   float64 `json:"fillRate"`    // filled ÷ asked (1 when nothing asked)
	MPANs  int     `json:"mpans"`       // MPANs it loads in the environment
	// WithoutData are those of its MPANs its pack holds no data of.
	WithoutData int    `json:"mpansWithoutData"`
	Pack        string `json:"pack,omitempty"`
	// Added and Removed are the MPANs its pack's delta.json lists: what
	// changed since the plan's run before.
	Added   int `json:"addedSincePreviousRun"`
	Removed int `json:"removedSincePreviousRun"`
	Changed int `json:"changedSincePreviousRun"` // kept, with rows changed
}

// Timings of the run.
type Timings struct {
	Started         time.Time `json:"started"`
	Seconds         float64   `json:"seconds"`
	UniverseSeconds float64   `json:"universeSeconds"`
	AllocateSeconds float64   `json:"allocateSeconds"`
	PacksSeconds    float64   `json:"packsSeconds"`
	// TopUpSeconds: creating synthetic units (policy.top_up), after the
	// allocation and before the packs.
	TopUpSeconds float64 `json:"topUpSeconds,omitempty"`
}

func buildReport(res *solver.Result, rows []Row, sources []universe.Source, id, previous string) *Report {
	p := res.Plan
	r := &Report{Plan: p.Name, RunID: id, PreviousRun: previous, Seed: p.Seed, KeyFingerprint: res.Universe.KeyFingerprint,
		Universe: res.Universe.Stats, Unplaced: res.Unplaced}
	for _, s := range sources {
		r.Sources = append(r.Sources, SourceRef{SourceRef: cut.SourceRef{Cut: s.Cut, MPID: s.MPID, CutID: s.CutID, Version: s.Version}, AsAt: s.AsAt, Pinned: s.Pinned})
	}
	roleData := RoleData(p, res.Universe)
	for _, e := range p.Environments {
		er := EnvReport{Name: e.Name, BySegment: map[string]int{}, ByGSP: map[string]int{}, WithoutData: map[string]int{}}
		for _, role := range plan.AllRoles {
			if _, on := e.Participants[role]; !on {
				continue
			}
			if roleData[role] == 0 {
				er.NoPack = append(er.NoPack, role)
			} else {
				er.WithoutData[role] = 0
			}
		}
		parts := map[string]*ParticipantReport{}
		var order []string
		for _, role := range plan.AllRoles {
			for _, m := range e.Participants[role] {
				k := role + "/" + m
				parts[k] = &ParticipantReport{Role: role, MPID: m}
				order = append(order, k)
			}
		}
		for _, a := range res.Asks {
			if a.Env != e {
				continue
			}
			dr := DemandReport{Key: a.Key, Demand: a.Demand.Name, Per: a.Per, Filter: a.FilterText(), Asked: a.Count,
				Filled: a.Got(), Kept: a.Pinned, Synthetic: a.Synthetic, Shortfall: a.Count - a.Got(), Reason: a.Why, Stats: a.Stats}
			er.Demands = append(er.Demands, dr)
			er.Asked += a.Count
			er.Filled += a.Got()
			for role, m := range a.Target {
				if pr := parts[role+"/"+m]; pr != nil {
					pr.Asked += a.Count
					pr.Filled += a.Got()
				}
			}
		}
		for _, row := range rows {
			if row.Env != e.Name {
				continue
			}
			er.MPANs++
			if row.Reappointed {
				er.Reappointed++
			}
			er.BySegment[row.Profile[universe.Segment]]++
			er.ByGSP[row.Profile[universe.GSP]]++
			loads := func(role, mpid string) {
				if pr := parts[role+"/"+mpid]; pr != nil {
					pr.MPANs++
					if m := roleData[role]; m != 0 && row.Data&m == 0 {
						pr.WithoutData++
						if !slices.Contains(plan.CentralRoles, role) || e.Participants[role][0] == mpid { // once per MPAN, however many load it
							er.WithoutData[role]++
						}
					}
				}
			}
			for _, role := range plan.Roles {
				loads(role, row.Appointee(role))
			}
			centralLoaders(e, loads) // every MPAN of the environment
		}
		for _, k := range order {
			pr := parts[k]
			pr.Rate = 1
			if pr.Asked > 0 {
				pr.Rate = float64(pr.Filled) / float64(pr.Asked)
			}
			er.Participants = append(er.Participants, *pr)
		}
		r.Environments = append(r.Environments, er)
	}
	return r
}

// inputs is InputsID, or for a run from before it, the run id.
func (r *Report) inputs() string {
	if r.InputsID != "" {
		return r.InputsID
	}
	return r.RunID
}

// addPacks names each participant's pack and what its delta holds.
func (r *Report) addPacks(packs []PackInfo) {
	packOf := map[string]PackInfo{}
	for _, pk := range packs {
		packOf[pk.Env+"/"+pk.Role+"/"+pk.MPID] = pk
	}
	for i := range r.Environments {
		e := &r.Environments[i]
		for j := range e.Participants {
			p := &e.Participants[j]
			pk := packOf[e.Name+"/"+p.Role+"/"+p.MPID]
			p.Pack, p.Added, p.Removed, p.Changed = pk.Prefix, pk.Added, pk.Removed, pk.Changed
		}
	}
}

// RoleData are, per role, the universe's data sets its load packs carry
// (0: the plan gives the role no pack).
func RoleData(p *plan.Plan, u *universe.Universe) map[string]uint16 {
	out := map[string]uint16{}
	for _, role := range plan.AllRoles {
		out[role] = u.DataMask(func(d universe.DataSet) bool { return p.Receives(role, plan.DataSet{Cut: d.Cut, Flow: d.Flow}) })
	}
	return out
}

// WithoutDataText says, per role with a pack, how many MPANs were given
// without data its pack holds, and which roles get no pack.
func (e EnvReport) WithoutDataText() string {
	var parts []string
	for _, role := range sortedKeys(e.WithoutData) {
		parts = append(parts, fmt.Sprintf("%s %d", role, e.WithoutData[role]))
	}
	s := "MPANs given without data in the role's pack: " + strings.Join(parts, ", ")
	if len(parts) == 0 {
		s = "No onboarded role has a pack"
	}
	if len(e.NoPack) > 0 {
		s += "; no pack (no source carries a flow routed to them): " + strings.Join(e.NoPack, ", ")
	}
	return s + "."
}

// Totals are the units asked and filled over every environment.
func (r *Report) Totals() (asked, filled int) {
	for _, e := range r.Environments {
		asked, filled = asked+e.Asked, filled+e.Filled
	}
	return asked, filled
}

func sortedKeys(m map[string]int) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

func renderMarkdown(r *Report) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Allocation %s — run %s\n\n", r.Plan, r.RunID)
	fmt.Fprintf(&b, "Universe: %d MPANs in %d units (%d linked) from %s, key %s. Seed %d.", r.Universe.MPANs, r.Universe.Units, r.Universe.LinkedUnits, r.SourcesText(), r.KeyFingerprint, r.Seed)
	if r.PreviousRun != "" {
		fmt.Fprintf(&b, " Assignments still valid were kept from run %s.", r.PreviousRun)
	}
	if r.Excluded != nil {
		b.WriteString(" " + r.Excluded.Text())
	}
	b.WriteString("\n")
	for _, e := range r.Environments {
		fmt.Fprintf(&b, "\n## %s: %d of %d units (%s), %d MPANs, %d re-appointed\n\n", e.Name, e.Filled, e.Asked, pct(e.Filled, e.Asked), e.MPANs, e.Reappointed)
		b.WriteString("| demand | filter | asked | filled | shortfall | why |\n|---|---|---:|---:|---:|---|\n")
		for _, d := range e.Demands {
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %d | %s |\n", d.Key, d.Filter, d.Asked, d.FilledText(), d.Shortfall, strings.ReplaceAll(d.Reason, "|", "/"))
		}
		b.WriteString("\n| role | participant | asked | filled | fill rate | MPANs to load | without data |\n|---|---|---:|---:|---:|---:|---:|\n")
		for _, p := range e.Participants {
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %.0f%% | %d | %d |\n", p.Role, p.MPID, p.Asked, p.Filled, 100*p.Rate, p.MPANs, p.WithoutData)
		}
		b.WriteString("\n" + e.WithoutDataText() + "\n")
		b.WriteString("\nMPANs by segment: " + counts(e.BySegment) + "  \nMPANs by GSP group: " + counts(e.ByGSP) + "\n")
	}
	b.WriteString("\n## Sources\n\nThe version of each MPID's cut the universe read: its latest, or the one the plan pins.\n\n")
	b.WriteString("| cut | MPID | version | as at | cut id |\n|---|---|---:|---|---|\n")
	for _, s := range r.Sources {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", s.Cut, s.MPID, s.VersionText(), dash(s.AsAt), s.CutID)
	}
	return b.Bytes(), nil
}

// SourcesText says how many cut versions the universe read, and how many
// of them the plan pinned.
func (r *Report) SourcesText() string {
	pinned := 0
	for _, s := range r.Sources {
		if s.Pinned {
			pinned++
		}
	}
	if pinned == 0 {
		return fmt.Sprintf("%d cuts", len(r.Sources))
	}
	return fmt.Sprintf("%d cuts (%d pinned by the plan)", len(r.Sources), pinned)
}

// VersionText is the source's version, marked when the plan pinned it
// ("-" in a report of a run before cuts had versions).
func (s SourceRef) VersionText() string {
	v := dash("")
	if s.Version > 0 {
		v = fmt.Sprint(s.Version)
	}
	if s.Pinned {
		v += " (pinned)"
	}
	return v
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func pct(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(a)/float64(b))
}

func counts(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

//go:embed report.html.tmpl
var htmlTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": pct, "rate": func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }, "counts": counts, "dash": dash,
	"rel": relPack,
}).Parse(htmlTemplate))

// relPack is a pack's folder relative to the run's report beside it.
func relPack(prefix string) string {
	if i := strings.Index(prefix, cut.PacksDir); i >= 0 {
		return prefix[i:]
	}
	return prefix
}

// chart is the coverage chart, drawn as inline SVG: one bar per demand,
// so it shows without script.
type chart struct {
	Width, Height, TrackX, TrackW, ValueX int
	Bars                                  []chartBar
}

type chartBar struct {
	Env, Key, Label string
	Asked, Filled   int
	Y               int
	W               string // the filled share of the track, in pixels
	Short           bool
}

func newChart(r *Report) chart {
	c := chart{TrackX: 360, TrackW: 300, ValueX: 670, Width: 760}
	for _, e := range r.Environments {
		for _, d := range e.Demands {
			label := []rune(d.Key) // the key names its environment
			if len(label) > 58 {
				label = append(label[:57], '…')
			}
			w := 0.0
			if d.Asked > 0 {
				w = float64(c.TrackW) * float64(d.Filled) / float64(d.Asked)
			}
			c.Bars = append(c.Bars, chartBar{Env: e.Name, Key: d.Key, Label: string(label), Asked: d.Asked, Filled: d.Filled,
				Y: 18 * len(c.Bars), W: fmt.Sprintf("%.1f", w), Short: d.Filled < d.Asked})
		}
	}
	c.Height = 18*len(c.Bars) + 4
	return c
}

// renderHTML renders a self-contained page that needs no script: contents,
// who loads what with links to the packs beside it, the chart as SVG, each
// environment's demands and participants, the sources.
func renderHTML(r *Report) ([]byte, error) {
	var b bytes.Buffer
	asked, filled := r.Totals()
	err := reportTmpl.Execute(&b, struct {
		R             *Report
		Chart         chart
		Date          string
		Asked, Filled int
	}{r, newChart(r), r.Timings.Started.UTC().Format("2006-01-02 15:04 UTC"), asked, filled})
	return b.Bytes(), err
}
