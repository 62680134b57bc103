package cut

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mhhs-sit/datacut/internal/store"
)

// Manifest describes a version of a published cut. It is written last: a
// version without a manifest does not exist for readers.
type Manifest struct {
	Cut   string `json:"cut"`
	MPID  string `json:"mpid"`
	CutID string `json:"cutId"`
	// Version numbers the MPID's versions of the cut from 1, in the order
	// they were published; AsAt is when their data was extracted.
	Version    int           `json:"version"`
	AsAt       string        `json:"asAt"`
	Submission SubmissionRef `json:"submission"`
	// Amends is the version this one amends (0: a full submission). Its
	// tables hold that version's rows but those of the files the
	// submission replaced or withdrew, then the submission's own.
	Amends         int          `json:"amends,omitempty"`
	Tool           string       `json:"tool"`
	MaskScheme     string       `json:"maskScheme"`
	Rules          RulesRef     `json:"rules"`
	KeyFingerprint string       `json:"keyFingerprint"`
	Inputs         []Input      `json:"inputs"`
	Tables         []Table      `json:"tables"`
	Rejected       Rejections   `json:"rejected"`
	Quarantined    []Quarantine `json:"quarantined,omitempty"`
	// Warnings are what a participant should look at, though nothing was
	// refused (a full submission much smaller than the version before it,
	// a file's own findings: no instances, a flow version not in the
	// catalogue; Counts["fileErrors"] counts the errors among those).
	Warnings []string `json:"warnings,omitempty"`
	// Duplicates are MPAN units found twice in one flow: a warning.
	Duplicates *Duplicates    `json:"duplicateUnits,omitempty"`
	Timings    Timings        `json:"timings"`
	Counts     map[string]int `json:"counts"` // instances read, published, rejected
}

// RulesRef names the DPIA rule set a cut was masked with.
type RulesRef struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	Hash    string `json:"hash"`
}

// SubmissionRef names the submission a version was made from.
type SubmissionRef struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"` // of its submission.json
}

// Input is one file (part) of the version, in the order of the tables'
// rows: each part's rows are contiguous in every table, Rows of them.
type Input struct {
	Key        string         `json:"key"`
	Submission string         `json:"submission"` // the one that sent it
	SHA256     string         `json:"sha256"`
	Size       int64          `json:"size"`
	Flow       string         `json:"flow,omitempty"`
	Instances  int            `json:"instances"`
	Rejected   int            `json:"rejected"`
	ByRule     map[string]int `json:"rejectedByRule,omitempty"`
	// FileID is the file's own id (a D-flow's ZHV file identifier, or the
	// name), as the tables' source_file_id column holds it.
	FileID string `json:"fileId,omitempty"`
	// ToRole and ToMPID are a D-flow's recipient, as its ZHV names it: a
	// registration service's D0204 is one file per supplier, the supplier
	// being its recipient (reconciliation compares it with the EES).
	ToRole string `json:"toRole,omitempty"`
	ToMPID string `json:"toMpid,omitempty"`
	// Encoding is windows-1252 when the file's text was read as Windows-1252
	// (declared, or found where a line was not UTF-8); the tables hold UTF-8.
	Encoding string `json:"encoding,omitempty"`
	// RejectedKey holds the rejected instances, as they came (quarantine/
	// <cut>/mpid=<M>/<submission>/rejected/<file>).
	RejectedKey string           `json:"rejectedKey,omitempty"`
	Rows        map[string]int64 `json:"rows"` // per table
}

// Name is the part's file name.
func (in Input) Name() string { return BaseName(in.Key) }

// Table is one published Parquet table.
type Table struct {
	Name  string `json:"name"`
	Key   string `json:"key"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

// Rejections lists instances left out for failing validation.
type Rejections struct {
	Count     int            `json:"count"`
	ByRule    map[string]int `json:"byRule"`
	Instances []Rejected     `json:"instances"` // the first MaxListedRejections
}

// MaxListedRejections caps the instances listed in a manifest.
const MaxListedRejections = 10000

// Rejected is one rejected instance: where, and by which rules. Never values.
type Rejected struct {
	Input    string   `json:"input"`
	Instance int      `json:"instance"`
	Line     int      `json:"line"`
	Rules    []string `json:"rules"`
}

// Duplicates counts and lists (the first MaxListedDuplicates) MPAN units
// found twice in one flow of a version, by where: never the MPAN.
type Duplicates struct {
	Count  int             `json:"count"`
	Listed []DuplicateUnit `json:"listed"`
}

// MaxListedDuplicates caps the duplicates listed in a manifest.
const MaxListedDuplicates = 1000

// DuplicateUnit is one MPAN unit found again, in a unit table.
type DuplicateUnit struct {
	Table string   `json:"table"`
	First Location `json:"first"`
	Again Location `json:"again"`
}

// Location is a line of a part.
type Location struct {
	Input string `json:"input"`
	Line  int    `json:"line"`
}

// Quarantine is a broken input moved out of the inbox with its report.
type Quarantine struct {
	Input  string `json:"input"`
	SHA256 string `json:"sha256"`
	Key    string `json:"key"`
	Report string `json:"report"`
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// Timings of the run that published the cut.
type Timings struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Seconds  float64   `json:"seconds"`
}

// ReadManifest loads the manifest of the cut at prefix.
func ReadManifest(ctx context.Context, st store.Store, prefix string) (*Manifest, error) {
	b, err := store.ReadAll(ctx, st, ManifestKey(prefix))
	if err != nil {
		return nil, fmt.Errorf("reading the cut's manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decoding the manifest: %w", err)
	}
	return &m, nil
}

// WriteManifest writes m as the manifest of the cut at prefix: the last
// object of a cut, after which it exists for readers.
func WriteManifest(ctx context.Context, st store.Store, prefix string, m *Manifest) error {
	return putJSON(ctx, st, ManifestKey(prefix), m)
}

// Rows counts the version's rows, in all tables.
func (m *Manifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

// Brief is the manifest without the lists that grow with the cut's files
// and findings (its inputs, rejected instances, quarantined files,
// warnings and duplicate units): what a reader of its tables needs, for a
// run that holds every cut's manifest to its end.
func (m *Manifest) Brief() *Manifest {
	b := *m
	b.Inputs, b.Rejected.Instances, b.Quarantined, b.Warnings, b.Duplicates = nil, nil, nil, nil, nil
	return &b
}

// TableKey is the store key of the cut's table, or "" if it has none.
func (m *Manifest) TableKey(name string) string {
	for _, t := range m.Tables {
		if t.Name == name {
			return t.Key
		}
	}
	return ""
}
