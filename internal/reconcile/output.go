package reconcile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Store layout of a reconciliation run: reconciliation/<run id>/ holds
// findings.parquet, worklists/<MPID>.csv, summary.html and, written last
// so a folder with it is complete, manifest.json. Then
// reconciliation/latest.json names the run, the latest written.
const (
	Root           = "reconciliation/"
	FindingsFile   = "findings.parquet"
	WorklistDir    = "worklists/"
	SummaryHTML    = "summary.html"
	ManifestFile   = "manifest.json"
	ManifestSchema = "datacut.reconciliation/v1"
	LatestKey      = Root + "latest.json"
	LatestSchema   = "datacut.reconciliation.latest/v1"
)

// Prefix is the folder of run id.
func Prefix(id string) string { return Root + id + "/" }

// WorklistKey is the store key of participant mpid's worklist of run id.
func WorklistKey(id, mpid string) string { return Prefix(id) + WorklistDir + mpid + ".csv" }

// Latest is reconciliation/latest.json: the run written last, and when.
// It says nothing of findings, so every participant may read it (each
// reads its own worklist of the run, and no other).
type Latest struct {
	Schema  string    `json:"schema"`
	ID      string    `json:"id"`
	Written time.Time `json:"written"`
}

// Manifest is a run's manifest.json: what it read, the totals and its files.
type Manifest struct {
	Schema         string      `json:"schema"`
	ID             string      `json:"id"`
	Rules          RulesRef    `json:"rules"`
	KeyFingerprint string      `json:"keyFingerprint"`
	Sources        []SourceRef `json:"sources"`
	Totals         Totals      `json:"totals"`
	Files          []File      `json:"files"`

	// CutTypes are the cut types the rules read: the run read the latest
	// version of every MPID's cut of each (Sources), so a cut of one of
	// them published since makes the run stale (allocate's
	// policy.exclude_findings refuses it).
	CutTypes []string `json:"cutTypes,omitempty"`
}

// RulesRef names the rules a run checked.
type RulesRef struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	Hash    string `json:"hash"`
}

// SourceRef is one cut version a run read.
type SourceRef struct {
	Cut     string `json:"cut"`
	MPID    string `json:"mpid"`
	CutID   string `json:"cutId"`
	Version int    `json:"version"`
	AsAt    string `json:"asAt"`
}

// File is one file of a run.
type File struct {
	Name   string `json:"name"`
	Rows   int    `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Totals count findings per rule and per participant.
type Totals struct {
	Findings int         `json:"findings"`
	Errors   int         `json:"errors"`
	Warnings int         `json:"warnings"`
	ByRule   []RuleTotal `json:"byRule"`
	ByMPID   []MPIDTotal `json:"byParticipant"`
}

// RuleTotal is one rule's count (every rule, in the rules' order).
type RuleTotal struct {
	Rule      string `json:"rule"`
	Kind      string `json:"kind"`
	Attribute string `json:"attribute"`
	Severity  string `json:"severity"`
	Findings  int    `json:"findings"`
}

// MPIDTotal is one participant's findings, by rule.
type MPIDTotal struct {
	MPID     string         `json:"mpid"`
	Findings int            `json:"findings"`
	ByRule   map[string]int `json:"byRule"`
}

// Totals counts the result's findings.
func (r *Result) Totals() Totals {
	t := Totals{Findings: len(r.Findings)}
	byRule := map[string]int{}
	byMPID := map[string]*MPIDTotal{}
	for _, f := range r.Findings {
		byRule[f.Rule]++
		if f.Severity == SevError {
			t.Errors++
		} else {
			t.Warnings++
		}
		m := byMPID[f.MPID]
		if m == nil {
			m = &MPIDTotal{MPID: f.MPID, ByRule: map[string]int{}}
			byMPID[f.MPID] = m
		}
		m.Findings++
		m.ByRule[f.Rule]++
	}
	for _, x := range r.Rules.Rules {
		t.ByRule = append(t.ByRule, RuleTotal{Rule: x.Name, Kind: x.Kind, Attribute: x.Attribute, Severity: x.Severity, Findings: byRule[x.Name]})
	}
	for _, m := range byMPID {
		t.ByMPID = append(t.ByMPID, *m)
	}
	sort.Slice(t.ByMPID, func(i, j int) bool { return t.ByMPID[i].MPID < t.ByMPID[j].MPID })
	return t
}

// Write stores the run: findings.parquet, a worklist per participant with
// findings, summary.html, then manifest.json; the same result gives the
// same bytes. Last, latest.json names it the latest run (datacut status
// shows each participant its findings of that run).
func Write(ctx context.Context, st store.Store, r *Result, tool string) (*Manifest, error) {
	prefix := Prefix(r.ID)
	m := &Manifest{Schema: ManifestSchema, ID: r.ID, KeyFingerprint: r.KeyFingerprint, Totals: r.Totals(),
		Rules: RulesRef{Path: r.Rules.Path, Version: r.Rules.Version, Hash: r.Rules.Hash}, CutTypes: r.Rules.CutTypes()}
	for _, s := range r.Sources {
		m.Sources = append(m.Sources, SourceRef{Cut: s.Cut, MPID: s.MPID, CutID: s.CutID, Version: s.Version, AsAt: s.AsAt})
	}
	put := func(name string, b []byte, rows int) error {
		sum := sha256.Sum256(b)
		m.Files = append(m.Files, File{Name: name, Rows: rows, Bytes: int64(len(b)), SHA256: hex.EncodeToString(sum[:])})
		return st.Put(ctx, prefix+name, bytes.NewReader(b), int64(len(b)))
	}
	pq, err := findingsParquet(st, r.Findings, tool)
	if err != nil {
		return nil, err
	}
	if err := put(FindingsFile, pq, len(r.Findings)); err != nil {
		return nil, err
	}
	for _, mt := range m.Totals.ByMPID {
		b, rows := Worklist(r.Findings, mt.MPID)
		if err := put(strings.TrimPrefix(WorklistKey(r.ID, mt.MPID), prefix), b, rows); err != nil {
			return nil, err
		}
	}
	page, err := summaryHTML(r, m)
	if err != nil {
		return nil, err
	}
	if err := put(SummaryHTML, page, 0); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	b = append(b, '\n')
	if err := st.Put(ctx, prefix+ManifestFile, bytes.NewReader(b), int64(len(b))); err != nil {
		return nil, err
	}
	b, _ = json.MarshalIndent(Latest{Schema: LatestSchema, ID: r.ID, Written: now().UTC().Truncate(time.Second)}, "", "  ")
	b = append(b, '\n')
	if err := st.Put(ctx, LatestKey, bytes.NewReader(b), int64(len(b))); err != nil {
		return nil, err
	}
	return m, nil
}

// now is the clock latest.json is written with.
var now = time.Now

// ReadLatest reads reconciliation/latest.json: nil without error when no
// run has been written.
func ReadLatest(ctx context.Context, st store.Store) (*Latest, error) {
	b, err := store.ReadAll(ctx, st, LatestKey)
	if store.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	l := &Latest{}
	if err := json.Unmarshal(b, l); err != nil {
		return nil, fmt.Errorf("%s: %w", LatestKey, err)
	}
	if l.Schema != LatestSchema || l.ID == "" {
		return nil, fmt.Errorf("%s: schema %q, this datacut reads %s", LatestKey, l.Schema, LatestSchema)
	}
	return l, nil
}

// Count is a worklist's findings of one cut type by severity.
type Count struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
}

// CountWorklist counts participant mpid's findings of run id by the cut
// type they are about, from its worklist alone (a participant may read no
// other): none when it has no worklist (no findings).
func CountWorklist(ctx context.Context, st store.Store, id, mpid string) (map[string]Count, error) {
	key := WorklistKey(id, mpid)
	rc, err := st.Get(ctx, key)
	if store.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	r := csv.NewReader(bufio.NewReaderSize(rc, 1<<16))
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	sev, ct := slices.Index(head, "severity"), slices.Index(head, "cut")
	if sev < 0 || ct < 0 {
		return nil, fmt.Errorf("%s: no severity or cut column: not a worklist", key)
	}
	out := map[string]Count{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err) // csv's errors give a line, never a value
		}
		c := out[rec[ct]]
		if rec[sev] == SevError {
			c.Errors++
		} else {
			c.Warnings++
		}
		out[rec[ct]] = c
	}
}

// WorklistHeader is a worklist's header row.
var WorklistHeader = []string{"mpan", "rule", "severity", "attribute", "cut", "version", "file_id", "line",
	"other_role", "other_mpid", "your_value", "other_value"}

// Worklist is participant mpid's findings as CSV: each with its own cut
// version, file id and line, so it can find the record in the raw extract
// it kept. It carries what findings carry: masked MPANs, rule names, codes
// and MPIDs where the DPIA keeps them in clear, "differs" otherwise.
func Worklist(fs []Finding, mpid string) ([]byte, int) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(WorklistHeader)
	rows := 0
	for _, f := range fs {
		if f.MPID != mpid {
			continue
		}
		line := ""
		if f.Line > 0 {
			line = strconv.Itoa(f.Line)
		}
		w.Write([]string{f.MPAN, f.Rule, f.Severity, f.Attribute, f.Cut, strconv.Itoa(f.Version), f.FileID, line,
			f.OtherRole, f.OtherMPID, f.Value, f.OtherValue})
		rows++
	}
	w.Flush()
	return buf.Bytes(), rows
}

// findingsColumns are findings.parquet's columns.
var findingsColumns = []string{"mpan", "rule", "kind", "attribute", "severity", "mpid", "role", "cut", "version",
	"source_file_id", "record_line", "other_role", "other_mpid", "value", "other_value"}

func findingsParquet(st store.Store, fs []Finding, tool string) ([]byte, error) {
	fields := make([]arrow.Field, len(findingsColumns))
	for i, n := range findingsColumns {
		t := arrow.DataType(arrow.BinaryTypes.String)
		if n == "version" || n == "record_line" {
			t = arrow.PrimitiveTypes.Int64
		}
		fields[i] = arrow.Field{Name: n, Type: t, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, f := range fs {
		for i, v := range []any{f.MPAN, f.Rule, f.Kind, f.Attribute, f.Severity, f.MPID, f.Role, f.Cut, f.Version,
			f.FileID, f.Line, f.OtherRole, f.OtherMPID, f.Value, f.OtherValue} {
			switch x := v.(type) {
			case string:
				b.Field(i).(*array.StringBuilder).Append(x)
			case int:
				b.Field(i).(*array.Int64Builder).Append(int64(x))
			}
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	tf, err := cut.CreateTableFile(store.TempDir(st), "findings", schema, nil, tool)
	if err != nil {
		return nil, err
	}
	defer tf.Discard()
	if err := tf.Write(rec); err != nil {
		return nil, err
	}
	if err := tf.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(tf.Path)
}

// ReadManifest reads run id's manifest.json.
func ReadManifest(ctx context.Context, st store.Store, id string) (*Manifest, error) {
	b, err := store.ReadAll(ctx, st, Prefix(id)+ManifestFile)
	if err != nil {
		return nil, err
	}
	m := &Manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s%s: %w", Prefix(id), ManifestFile, err)
	}
	return m, nil
}
