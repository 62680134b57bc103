package cut

import (
	"fmt"
	"regexp"
	"strings"
)

// The store's key layout. Every key the tools read or write is made here.
//
//	inbox/<MPID>/<cut type>/<submission>/<file>      what participants upload, then
//	inbox/<MPID>/<cut type>/<submission>/submission.json   written last: the submission
//	cuts/<cut type>/mpid=<MPID>/cut=<id>/            a version of the cut: tables, manifest.json last
//	cuts/<cut type>/mpid=<MPID>/latest.json          the latest version (by as-at, then version)
//	quarantine/<cut type>/mpid=<MPID>/<submission>/files/<file>     a broken input
//	quarantine/<cut type>/mpid=<MPID>/<submission>/rejected/<file>  its rejected instances
//	reports/<cut type>/mpid=<MPID>/<submission>/<file>.report.json  what is wrong with a file
//	reports/<cut type>/mpid=<MPID>/<submission>/receipt.json        what became of the submission
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
	SubmissionFile = "submission.json"
	LatestFile     = "latest.json"
	ReceiptFile    = "receipt.json"
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
	// Submission is the submission folder's id; "" for a loose file, put
	// straight into the cut type's folder, which is never published.
	Submission string
}

var submissionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$`)

// IsSubmissionID says whether s may name a submission folder: up to 80
// letters, digits, '.', '_' and '-', starting with a letter or digit.
func IsSubmissionID(s string) bool { return submissionRE.MatchString(s) }

var mpidRE = regexp.MustCompile(`^[A-Z0-9]{4}$`)

// IsMPID says whether s is a market participant id: 4 characters A–Z, 0–9.
func IsMPID(s string) bool { return mpidRE.MatchString(s) }

// ParseInboxKey splits inbox/<MPID>/<cut type>/<submission>/<file> (or a
// loose inbox/<MPID>/<cut type>/<file>); any other key is an error saying
// what is wrong with it (never a file's contents).
func ParseInboxKey(key string) (InboxFile, error) {
	parts := strings.Split(key, "/")
	if (len(parts) != 4 && len(parts) != 5) || parts[0]+"/" != InboxRoot {
		return InboxFile{}, fmt.Errorf("not of the form %s<MPID>/<cut type>/<submission>/<file>", InboxRoot)
	}
	f := InboxFile{Key: key, MPID: parts[1], Type: parts[2], Name: parts[len(parts)-1]}
	if len(parts) == 5 {
		f.Submission = parts[3]
	}
	switch {
	case !IsMPID(f.MPID):
		return f, fmt.Errorf("folder %q is not an MPID (4 characters A-Z, 0-9): upload to %s<your MPID>/%s/", f.MPID, InboxRoot, f.Type)
	case !typeNameRE.MatchString(f.Type):
		return f, fmt.Errorf("folder %q is not a cut type name (lower-case letters, digits, '-')", f.Type)
	case len(parts) == 5 && !IsSubmissionID(f.Submission):
		return f, fmt.Errorf("folder %q is not a submission id (up to 80 letters, digits, '.', '_', '-', starting with a letter or digit)", f.Submission)
	case strings.HasPrefix(f.Name, "."):
		return f, fmt.Errorf("hidden file %q", f.Name)
	}
	return f, nil
}

// InboxDir is where an MPID uploads its cut of a type.
func InboxDir(mpid, cutType string) string { return InboxRoot + mpid + "/" + cutType + "/" }

// SubmissionDir is the folder of one submission.
func SubmissionDir(mpid, cutType, id string) string { return InboxDir(mpid, cutType) + id + "/" }

// SubmissionKey is a submission's submission.json.
func SubmissionKey(mpid, cutType, id string) string {
	return SubmissionDir(mpid, cutType, id) + SubmissionFile
}

// TypeRoot holds every published cut of a type.
func TypeRoot(cutType string) string { return CutsRoot + cutType + "/" }

// Prefix is where a published cut's tables and manifest live.
func Prefix(cutType, mpid, id string) string {
	return fmt.Sprintf("%smpid=%s/cut=%s/", TypeRoot(cutType), mpid, id)
}

// ManifestKey is the manifest of the cut at prefix.
func ManifestKey(prefix string) string { return strings.TrimSuffix(prefix, "/") + "/" + ManifestFile }

// TableKey is the key of a table of the cut at prefix.
func TableKey(prefix, table string) string { return prefix + table + ".parquet" }

// MPIDRoot holds every version of one MPID's cut of a type.
func MPIDRoot(cutType, mpid string) string { return fmt.Sprintf("%smpid=%s/", TypeRoot(cutType), mpid) }

// LatestKey names the latest version of one MPID's cut of a type.
func LatestKey(cutType, mpid string) string { return MPIDRoot(cutType, mpid) + LatestFile }

// QuarantineKeys are where a broken file of a submission and its report
// are kept. A submission id is used once (a run refuses one whose receipt
// exists), so nothing kept is ever overwritten; reports live apart from
// anything a participant uploads.
func QuarantineKeys(cutType, mpid, submission, file string) (key, report string) {
	return QuarantineDir(cutType, mpid, submission) + "files/" + file, ReportDir(cutType, mpid, submission) + file + ".report.json"
}

// RejectedKey holds a file's rejected instances (a D-flow of just those
// instances, or CSV rows), for the participant to correct and amend.
func RejectedKey(cutType, mpid, submission, file string) string {
	return QuarantineDir(cutType, mpid, submission) + "rejected/" + file
}

// ReportDir holds a submission's reports.
func ReportDir(cutType, mpid, submission string) string {
	return fmt.Sprintf("%s%s/mpid=%s/%s/", ReportsRoot, cutType, mpid, submission)
}

// StatusKey and StatusPageKey hold the whole store's status as the last
// run saw it, for those who may read reports but not list the store (test
// leads); a participant reads neither (its own status it builds itself).
const (
	StatusKey     = ReportsRoot + "status.json"
	StatusPageKey = ReportsRoot + "status.html"
)

// ReceiptKey says what became of a submission: written by the run that
// took it, the last thing before its raw files are removed.
func ReceiptKey(cutType, mpid, submission string) string {
	return ReportDir(cutType, mpid, submission) + ReceiptFile
}

// QuarantineDir holds what a submission left in quarantine: files/ (broken
// files) and rejected/ (rejected instances).
func QuarantineDir(cutType, mpid, submission string) string {
	return fmt.Sprintf("%s%s/mpid=%s/%s/", QuarantineRoot, cutType, mpid, submission)
}

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

// CutKey is a key under cuts/ taken apart: an object of a version's
// folder (ID set), or an MPID's latest.json (Latest set).
type CutKey struct {
	Type, MPID string
	ID         string // the cut id of cuts/<type>/mpid=<M>/cut=<id>/<Name>
	Prefix     string // that cut's folder, cuts/<type>/mpid=<M>/cut=<id>/
	Latest     bool   // cuts/<type>/mpid=<M>/latest.json
	Name       string
}

// ParseCutKey splits a key under cuts/; ok is false for any other shape.
func ParseCutKey(key string) (k CutKey, ok bool) {
	parts := strings.SplitN(key, "/", 5) // cuts, type, mpid=M, cut=id | latest.json, name
	if len(parts) < 4 || parts[0]+"/" != CutsRoot || !strings.HasPrefix(parts[2], "mpid=") {
		return k, false
	}
	k = CutKey{Type: parts[1], MPID: strings.TrimPrefix(parts[2], "mpid="), Name: parts[len(parts)-1]}
	switch {
	case len(parts) == 4 && parts[3] == LatestFile:
		k.Latest = true
	case len(parts) == 5 && strings.HasPrefix(parts[3], "cut="):
		k.ID = strings.TrimPrefix(parts[3], "cut=")
		k.Prefix = Prefix(k.Type, k.MPID, k.ID)
	default:
		return k, false
	}
	return k, true
}

// QuarantineKey is a key under quarantine/ taken apart.
type QuarantineKey struct {
	Type, MPID, Submission string
	Rejected               bool // rejected instances, not a broken file
	Name                   string
}

// ParseQuarantineKey splits quarantine/<type>/mpid=<M>/<submission>/{files,rejected}/<file>.
func ParseQuarantineKey(key string) (q QuarantineKey, ok bool) {
	parts := strings.Split(strings.TrimPrefix(key, QuarantineRoot), "/")
	if !strings.HasPrefix(key, QuarantineRoot) || len(parts) != 5 || !strings.HasPrefix(parts[1], "mpid=") ||
		(parts[3] != "files" && parts[3] != "rejected") {
		return q, false
	}
	return QuarantineKey{Type: parts[0], MPID: strings.TrimPrefix(parts[1], "mpid="), Submission: parts[2], Rejected: parts[3] == "rejected", Name: parts[4]}, true
}

// ReportKey is a key under reports/ taken apart:
// reports/<type>/mpid=<M>/<submission>/<name>.
type ReportKey struct {
	Type, MPID, Submission string
	Name                   string // <file>.report.json or receipt.json
}

// ParseReportKey splits a key under reports/; ok is false for any other shape.
func ParseReportKey(key string) (r ReportKey, ok bool) {
	parts := strings.Split(strings.TrimPrefix(key, ReportsRoot), "/")
	if !strings.HasPrefix(key, ReportsRoot) || len(parts) != 4 || !strings.HasPrefix(parts[1], "mpid=") || parts[2] == "" || parts[3] == "" {
		return r, false
	}
	return ReportKey{Type: parts[0], MPID: strings.TrimPrefix(parts[1], "mpid="), Submission: parts[2], Name: parts[3]}, true
}
