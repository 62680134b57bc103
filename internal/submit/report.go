package submit

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/mhhs-sit/datacut/internal/cut"
)

// Result is what datacut submit did, as its --json prints it.
type Result struct {
	Store string `json:"store"`
	// ID is the submission's id and Folder its inbox folder, once uploaded.
	ID       string `json:"id,omitempty"`
	Folder   string `json:"folder,omitempty"`
	Uploaded bool   `json:"uploaded"`
	// Refused says nothing was uploaded because files were broken.
	Refused    bool            `json:"refused"`
	Submission *cut.Submission `json:"submission,omitempty"`
	Files      []*FileReport   `json:"files"`
	// ReceiptKey is where the worker writes the receipt; Receipt is the
	// receipt, when waited for.
	ReceiptKey string       `json:"receiptKey,omitempty"`
	Receipt    *cut.Receipt `json:"receipt,omitempty"`
}

// DataErrors says whether the data had errors (exit code 1): files the
// worker quarantines or would, rejected instances, or a receipt saying
// nothing was published. An amendment's receipt counts the rejected
// instances of the parts it carries over too: only its own files' count
// (they are in its rejectedInstances).
func (r *Result) DataErrors() bool {
	for _, f := range r.Files {
		if f.Broken || f.Rejected > 0 || f.Errors > 0 {
			return true
		}
	}
	if rc := r.Receipt; rc != nil {
		return rc.Status != cut.ReceiptPublished || len(rc.Quarantined) > 0 || len(rc.RejectedIn) > 0 || (rc.Amends == 0 && rc.Rejected > 0)
	}
	return false
}

// WriteFiles prints what checking found in each file, with values.
func WriteFiles(w io.Writer, files []*FileReport) {
	for _, f := range files {
		status := "OK"
		switch {
		case f.Broken:
			status = fmt.Sprintf("BROKEN [%s]: a run would quarantine the whole file", f.Rule)
		case f.Rejected > 0:
			status = fmt.Sprintf("%d of %d instances REJECTED: the run keeps them aside and publishes the rest", f.Rejected, f.Instances)
			if f.Flow == "EES" {
				status = fmt.Sprintf("%d of %d rows REJECTED: the run keeps them aside and publishes the rest", f.Rejected, f.Instances)
			}
		case f.Errors > 0:
			status = "ERRORS of the file as a whole: the run publishes it and lists them among the version's warnings"
		}
		fmt.Fprintf(w, "%s: %s\n", f.Path, status)
		what := f.Flow
		if f.Sender != "" && f.Flow != "EES" {
			what += " from " + f.Sender
		}
		if what != "" {
			what += ", "
		}
		unit := "instances"
		if f.Flow == "EES" {
			unit = "rows"
		}
		fmt.Fprintf(w, "  %s%d %s, %d errors, %d warnings, %s\n", what, f.Instances, unit, f.Errors, f.Warnings, byteSize(f.Size))
		for _, fd := range f.Findings {
			fmt.Fprintf(w, "  %s\n", fd)
		}
		if f.Unlisted > 0 {
			fmt.Fprintf(w, "  … %d more findings not listed (see --max-findings)\n", f.Unlisted)
		}
	}
}

// WriteRefusal says why nothing was uploaded.
func WriteRefusal(w io.Writer, p *Plan) {
	var names []string
	for _, f := range p.Broken() {
		names = append(names, f.Name)
	}
	fmt.Fprintf(w, "\nnot submitted: %d of %d files would be quarantined (%s). Correct them and submit again, or leave them out;\n--allow-broken sends them anyway (each is quarantined with a report, the rest is published).\n",
		len(names), len(p.Files), strings.Join(names, ", "))
}

// WriteSubmitted says where the submission went.
func WriteSubmitted(w io.Writer, r *Result) {
	s := r.Submission
	var size int64
	for _, f := range s.Files {
		size += f.Size
	}
	fmt.Fprintf(w, "\nsubmitted %s: %s, %s, to %s/%s (%s last)\n", r.ID, plural(len(s.Files), "file"), byteSize(size), r.Store, r.Folder, cut.SubmissionFile)
	switch s.Kind {
	case cut.KindAmend:
		fmt.Fprintf(w, "  an amendment of version %d", s.Amends)
		if len(s.Replaces) > 0 {
			fmt.Fprintf(w, ", replacing %s", strings.Join(s.Replaces, ", "))
		}
		if len(s.Withdraws) > 0 {
			fmt.Fprintf(w, ", withdrawing %s", strings.Join(s.Withdraws, ", "))
		}
		fmt.Fprintf(w, ", as at %s\n", s.AsAt)
	default:
		fmt.Fprintf(w, "  a full %s cut of %s, as at %s\n", s.Cut, s.MPID, s.AsAt)
	}
	rejected, broken := 0, 0
	for _, f := range r.Files {
		if f.Broken {
			broken++
		} else {
			rejected += f.Rejected
		}
	}
	if rejected > 0 {
		fmt.Fprintf(w, "  %s with errors (listed above) will be left out: correct them and send them in an amendment\n", plural(rejected, "instance"))
	}
	if broken > 0 {
		fmt.Fprintf(w, "  %s sent with --allow-broken will be quarantined\n", plural(broken, "broken file"))
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// WriteReceipt prints a submission's receipt.
func WriteReceipt(w io.Writer, key string, rc *cut.Receipt) {
	fmt.Fprintf(w, "\nreceipt of %s (%s), %s:\n", rc.Submission.ID, key, rc.Finished.UTC().Format("2006-01-02 15:04:05Z"))
	if rc.Status == cut.ReceiptPublished {
		latest := "the latest version"
		if !rc.Latest {
			latest = "not the latest version: another has a later as-at date"
		}
		amends := ""
		if rc.Amends > 0 {
			amends = fmt.Sprintf(", amending version %d", rc.Amends)
		}
		fmt.Fprintf(w, "  published version %d of %s's %s%s, as at %s: %s\n", rc.Version, rc.MPID, rc.Cut, amends, rc.AsAt, latest)
		if rc.Prefix != "" {
			fmt.Fprintf(w, "  tables at %s\n", rc.Prefix)
		}
	} else {
		fmt.Fprintf(w, "  %s: no version of %s's %s was made from it\n", strings.ToUpper(rc.Status), rc.MPID, rc.Cut)
	}
	if len(rc.Rows) > 0 {
		var rows []string
		for _, t := range slices.Sorted(maps.Keys(rc.Rows)) {
			rows = append(rows, fmt.Sprintf("%s %d", t, rc.Rows[t]))
		}
		fmt.Fprintf(w, "  rows: %s\n", strings.Join(rows, ", "))
	}
	if rc.Rejected > 0 {
		var rules []string
		for _, r := range slices.Sorted(maps.Keys(rc.ByRule)) {
			rules = append(rules, fmt.Sprintf("%s %d", r, rc.ByRule[r]))
		}
		carried := ""
		if rc.Amends > 0 {
			carried = fmt.Sprintf(", counting those of the parts carried over from version %d", rc.Amends)
		}
		fmt.Fprintf(w, "  rejected: %s (%s), left out%s\n", plural(rc.Rejected, "instance"), strings.Join(rules, ", "), carried)
		for _, k := range rc.RejectedIn {
			fmt.Fprintf(w, "    kept for you to correct and amend: %s\n", k)
		}
	}
	for _, q := range rc.Quarantined {
		fmt.Fprintf(w, "  quarantined %s [%s]: %s\n    file %s, report %s\n", cut.BaseName(q.Input), q.Rule, q.Reason, q.Key, q.Report)
	}
}

// byteSize renders a size for people.
func byteSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}
