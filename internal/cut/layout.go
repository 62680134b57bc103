package cut

import (
	"fmt"
	"regexp"
	"strings"
)

// The store's key layout. Every key the tools read or write is made here.
//
//	inbox/<MPID>/<cut type>/<file>                  what participants upload
//	cuts/<cut type>/mpid=<MPID>/cut=<id>/           a published cut: tables, manifest.json last
//	cuts/<cut type>/mpid=<MPID>/published/<l>.json  marker: this inbox listing is published
//	quarantine/<cut type>/mpid=<MPID>/<sha>/<file>  a broken input, by its content's SHA-256
//	reports/<cut type>/mpid=<MPID>/<sha>/<file>.report.json   what is wrong with it
//	allocations/<plan>/<run id>/                    an allocation run: allocation.parquet,
//	                                                packs/<environment>/<role>-<MPID>/, reports
//	allocations/<plan>/latest.json                  the plan's ledger pointer
const (
	InboxRoot       = "inbox/"
	CutsRoot        = "cuts/"
	QuarantineRoot  = "quarantine/"
	ReportsRoot     = "reports/"
	AllocationsRoot = "allocations/"

	ManifestFile   = "manifest.json"
	AllocationFile = "allocation.parquet"
	// A run's report in three forms; ReportJSON is written last, and a run
	// without it does not exist.
	ReportJSON     = "report.json"
	ReportMarkdown = "report.md"
	ReportHTML     = "report.html"
	PacksDir       = "packs/"
)

// InboxFile is an upload's place in the inbox, parsed from its key.
type InboxFile struct {
	Key, MPID, Type, Name string
}

var mpidRE = regexp.MustCompile(`^[A-Z0-9]{4}$`)

// IsMPID says whether s is a market participant id: 4 characters A–Z, 0–9.
func IsMPID(s string) bool { return mpidRE.MatchString(s) }

// ParseInboxKey splits inbox/<MPID>/<cut type>/<file>; any other key is an
// error saying what is wrong with it (never a file's contents).
func ParseInboxKey(key string) (InboxFile, error) {
	parts := strings.Split(key, "/")
	if len(parts) != 4 || parts[0]+"/" != InboxRoot {
		return InboxFile{}, fmt.Errorf("not of the form %s<MPID>/<cut type>/<file>", InboxRoot)
	}
	f := InboxFile{Key: key, MPID: parts[1], Type: parts[2], Name: parts[3]}
	switch {
	case !IsMPID(f.MPID):
		return f, fmt.Errorf("folder %q is not an MPID (4 characters A-Z, 0-9): upload to %s<your MPID>/%s/", f.MPID, InboxRoot, f.Type)
	case !typeNameRE.MatchString(f.Type):
		return f, fmt.Errorf("folder %q is not a cut type name (lower-case letters, digits, '-')", f.Type)
	case strings.HasPrefix(f.Name, "."):
		return f, fmt.Errorf("hidden file %q", f.Name)
	}
	return f, nil
}

// InboxDir is where an MPID uploads its cut of a type.
func InboxDir(mpid, cutType string) string { return InboxRoot + mpid + "/" + cutType + "/" }

// TypeRoot holds every published cut of a type.
func TypeRoot(cutType string) string { return CutsRoot + cutType + "/" }

// Prefix is where a published cut's tables and manifest live.
func Prefix(cutType, mpid, id string) string {
	return fmt.Sprintf("%smpid=%s/cut=%s/", TypeRoot(cutType), mpid, id)
}

// ManifestKey is the manifest of the cut at prefix.
func ManifestKey(prefix string) string { return strings.TrimSuffix(prefix, "/") + "/" + ManifestFile }

// IsManifest says whether key is a cut's manifest, and gives the cut's prefix.
func IsManifest(key string) (prefix string, ok bool) {
	if !strings.HasSuffix(key, "/"+ManifestFile) {
		return "", false
	}
	return strings.TrimSuffix(key, ManifestFile), true
}

// TableKey is the key of a table of the cut at prefix.
func TableKey(prefix, table string) string { return prefix + table + ".parquet" }

// MarkerKey is the marker saying an inbox listing (see pipeline) of a cut
// was published.
func MarkerKey(cutType, mpid, listing string) string {
	return fmt.Sprintf("%smpid=%s/published/%s.json", TypeRoot(cutType), mpid, listing)
}

// QuarantineKeys are where a broken input and its report are kept: under
// the SHA-256 of its content, so a corrected file uploaded again under the
// same name never overwrites what was kept, and reports apart from
// anything a participant uploads.
func QuarantineKeys(cutType, mpid, file, sha256 string) (key, report string) {
	dir := fmt.Sprintf("%s/mpid=%s/%s/", cutType, mpid, shortHash(sha256))
	return QuarantineRoot + dir + file, ReportsRoot + dir + file + ".report.json"
}

// shortHash is enough of a SHA-256 to tell files apart in a folder.
func shortHash(sha256 string) string { return sha256[:min(len(sha256), 16)] }

// PlanRoot holds every run of a plan.
func PlanRoot(plan string) string { return AllocationsRoot + plan + "/" }

// LedgerKey points at a plan's latest complete run.
func LedgerKey(plan string) string { return PlanRoot(plan) + "latest.json" }

// RunPrefix is where one allocation run's outputs live.
func RunPrefix(plan, runID string) string { return PlanRoot(plan) + runID + "/" }

// PackPrefix is where a participant's load pack of a run lives.
func PackPrefix(runPrefix, environment, role, mpid string) string {
	return runPrefix + PacksDir + environment + "/" + role + "-" + mpid + "/"
}

// BaseName is the last segment of a key.
func BaseName(key string) string { return key[strings.LastIndexByte(key, '/')+1:] }

// CutKey is a key under cuts/ taken apart: an object of a published cut's
// folder (ID set), or a listing marker (Marker set).
type CutKey struct {
	Type, MPID string
	ID         string // the cut id of cuts/<type>/mpid=<M>/cut=<id>/<Name>
	Prefix     string // that cut's folder, cuts/<type>/mpid=<M>/cut=<id>/
	Marker     bool   // cuts/<type>/mpid=<M>/published/<Name>
	Name       string
}

// ParseCutKey splits a key under cuts/; ok is false for any other shape.
func ParseCutKey(key string) (k CutKey, ok bool) {
	parts := strings.SplitN(key, "/", 5) // cuts, type, mpid=M, cut=id | published, name
	if len(parts) != 5 || parts[0]+"/" != CutsRoot || !strings.HasPrefix(parts[2], "mpid=") {
		return k, false
	}
	k = CutKey{Type: parts[1], MPID: strings.TrimPrefix(parts[2], "mpid="), Name: parts[4]}
	switch {
	case parts[3] == "published":
		k.Marker = true
	case strings.HasPrefix(parts[3], "cut="):
		k.ID = strings.TrimPrefix(parts[3], "cut=")
		k.Prefix = Prefix(k.Type, k.MPID, k.ID)
	default:
		return k, false
	}
	return k, true
}

// ParseQuarantineKey splits quarantine/<type>/mpid=<M>/<sha>/<file>.
func ParseQuarantineKey(key string) (cutType, mpid string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(key, QuarantineRoot), "/")
	if !strings.HasPrefix(key, QuarantineRoot) || len(parts) != 4 || !strings.HasPrefix(parts[1], "mpid=") {
		return "", "", false
	}
	return parts[0], strings.TrimPrefix(parts[1], "mpid="), true
}

// Marker is what a listing marker holds: the cut its inbox listing was
// published as. Fields in this order, so its JSON is what it always was.
type Marker struct {
	CutID  string
	Prefix string
}
