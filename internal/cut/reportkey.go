package cut

import "strings"

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

// QuarantineDir holds what a submission left in quarantine: files/ (broken
// files) and rejected/ (rejected instances).
func QuarantineDir(cutType, mpid, submission string) string {
	return quarantineDir(cutType, mpid, submission)
}
