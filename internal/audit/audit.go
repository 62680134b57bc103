// Package audit is the store's audit trail: every command that changes the
// store writes one record per action as a new object under audit/ (never
// rewritten), saying who, what, which keys (with SHA-256 and sizes where
// known) and when. Records hold names, keys and counts from our own
// layout, never a data value or a secret.
package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mhhs-sit/datacut/internal/store"
)

// Root holds the records: audit/<date>/<time>-<action>[-<MPID>]-<random>.json.
// The MPID in the name lets a participant's identity be allowed to add its
// own submit records and nothing else (see SubmitPattern).
const Root = "audit/"

// Schema is the schema value of the records this version writes.
const Schema = "datacut.audit/v1"

// Actions.
const (
	ActionSubmit      = "submit"       // a participant sent a submission
	ActionTake        = "take"         // a run took a submission: version, quarantine, receipt, raw files removed
	ActionPrune       = "prune"        // versions, quarantine and reports removed
	ActionAllocate    = "allocate"     // an allocation run written
	ActionRelease     = "release"      // a plan's units released (its ledger names no run)
	ActionRollback    = "rollback"     // a plan's ledger moved back to an earlier run
	ActionAccessApply = "access-apply" // identities and policies applied to MinIO
)

// Record is one action that changed the store.
type Record struct {
	Schema     string    `json:"schema"`
	Time       time.Time `json:"time"`
	Who        string    `json:"who"` // store.Who: the S3 access key id, or the local user
	Tool       string    `json:"tool"`
	Action     string    `json:"action"`
	MPID       string    `json:"mpid,omitempty"`
	Cut        string    `json:"cut,omitempty"`
	Submission string    `json:"submission,omitempty"`
	// Detail says what came of it in our own words ("version 2",
	// "3 identities created"), never a value.
	Detail  string   `json:"detail,omitempty"`
	Objects []Object `json:"objects,omitempty"`
	// Suspect is set by List, never written: the record's key does not
	// name its action and MPID, so datacut did not write it as it is.
	Suspect string `json:"suspect,omitempty"`
}

// Object is a key the action wrote, removed or read.
type Object struct {
	Op     string `json:"op"` // put, delete, read
	Key    string `json:"key"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// Object operations.
const (
	OpPut    = "put"
	OpDelete = "delete"
	OpRead   = "read"
)

// Write stores r as a new object (its key has a random part, so no record
// is ever overwritten), filling in schema, time and who when empty.
func Write(ctx context.Context, st store.Store, r Record) error {
	r.Schema = Schema
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	r.Time = r.Time.UTC()
	if r.Who == "" {
		r.Who = store.Who(st)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	name := r.Action
	if r.MPID != "" {
		name += "-" + r.MPID
	}
	key := fmt.Sprintf("%s%s/%s-%s-%s.json", Root, r.Time.Format(time.DateOnly), r.Time.Format(keyTime), name, hex.EncodeToString(rnd[:]))
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := st.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		return fmt.Errorf("writing the audit record: %w", err)
	}
	return nil
}

// SubmitPattern matches, as an S3 policy resource pattern under the
// store's prefix, the keys of the submit records of mpid: what a
// participant's identity may add to the trail.
func SubmitPattern(mpid string) string {
	return Root + "*-" + ActionSubmit + "-" + mpid + "-*"
}

const keyTime = "20060102T150405.000000000Z"

// Filter selects records.
type Filter struct {
	Since time.Time // records at or after
	MPID  string    // records of this MPID, or naming a key of it
}

func (f Filter) keep(r *Record) bool {
	if r.Time.Before(f.Since) {
		return false
	}
	if f.MPID == "" || r.MPID == f.MPID {
		return true
	}
	for _, o := range r.Objects {
		if strings.Contains(o.Key, "/"+f.MPID+"/") || strings.Contains(o.Key, "mpid="+f.MPID+"/") || strings.Contains(o.Key, "-"+f.MPID+"/") {
			return true
		}
	}
	return false
}

// named says whether key is <time>-<action>[-<MPID>]-<random>.json for r.
func named(key string, r *Record) bool {
	name := r.Action
	if r.MPID != "" {
		name += "-" + r.MPID
	}
	base := key[strings.LastIndexByte(key, '/')+1:]
	t, rest, ok := strings.Cut(strings.TrimSuffix(base, ".json"), "-")
	if !ok || t != r.Time.UTC().Format(keyTime) {
		return false
	}
	i := strings.LastIndexByte(rest, '-')
	return i > 0 && rest[:i] == name
}

// List reads the records f selects, oldest first.
func List(ctx context.Context, st store.Store, f Filter) ([]Record, error) {
	var keys []string
	err := st.List(ctx, Root, func(i store.Info) error {
		day, _, _ := strings.Cut(strings.TrimPrefix(i.Key, Root), "/")
		if d, err := time.Parse(time.DateOnly, day); err == nil && d.Add(24*time.Hour).Before(f.Since) {
			return nil // a day before the window
		}
		keys = append(keys, i.Key)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", Root, err)
	}
	var out []Record
	for _, k := range keys {
		b, err := store.ReadAll(ctx, st, k)
		if err != nil {
			return nil, err
		}
		var r Record
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		r.Suspect = ""
		if !named(k, &r) {
			r.Suspect = "its key does not name its action and MPID: not written by datacut as it stands"
		}
		if f.keep(&r) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}
