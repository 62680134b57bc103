package pipeline

import (
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/store"
)

// Options configure a run.
type Options struct {
	Store         store.Store
	Pipelines     *Set
	Key           mask.Key
	MPID, Cut     string // only these, when set
	Shard, Shards int    // this process takes the cuts with hash % Shards == Shard
	Workers       int    // cuts processed at once (default 2)
	KeepRaw       bool   // keep inbox files after their cut is published
	Log           zerolog.Logger
	Progress      func(done, total int64) // input bytes
	Tool          string
	Mem           memory.Allocator
	// LeftoverGrace is how old what crashed runs left behind must be before
	// this run removes it (default DefaultLeftoverGrace).
	LeftoverGrace time.Duration
	// MaxInstanceBytes bounds the memory one D-flow instance may take
	// (default dflow.DefaultMaxInstanceBytes); a file with a larger one is
	// quarantined as instance.too-large.
	MaxInstanceBytes int
}

func (opt *Options) defaults() {
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	if opt.Shards <= 0 {
		opt.Shards = 1
	}
	if opt.Mem == nil {
		opt.Mem = memory.NewGoAllocator()
	}
	if opt.Tool == "" {
		opt.Tool = "datacut"
	}
	if opt.LeftoverGrace <= 0 {
		opt.LeftoverGrace = DefaultLeftoverGrace
	}
}

// Cut statuses.
const (
	StatusPublished        = cut.ReceiptPublished
	StatusAlreadyPublished = "already published"
	StatusNothingLeft      = cut.ReceiptNothingPublished // every file it sent was quarantined
	StatusWaiting          = "waiting"
	StatusNoPipeline       = "no pipeline"
	StatusFailed           = "failed"
)

// CutResult is what happened to one submission (or one folder of loose
// files, which always waits).
type CutResult struct {
	Cut        string `json:"cut"`
	MPID       string `json:"mpid"`
	Submission string `json:"submission,omitempty"`
	Status     string `json:"status"`
	// Waiting says why the submission was left in the inbox, and Since is
	// its newest upload.
	Waiting     string    `json:"waiting,omitempty"`
	Since       time.Time `json:"since,omitempty"`
	CutID       string    `json:"cutId,omitempty"`
	Version     int       `json:"version,omitempty"`
	Amends      int       `json:"amends,omitempty"`
	AsAt        string    `json:"asAt,omitempty"`
	Latest      bool      `json:"latest,omitempty"` // the version is the cut's latest
	Prefix      string    `json:"prefix,omitempty"`
	Inputs      int       `json:"inputs"`
	Tables      int       `json:"tables"`
	Rows        int64     `json:"rows"`
	Rejected    int       `json:"rejected"`
	Quarantined int       `json:"quarantined"`
	// DuplicateUnits counts MPAN units found twice in one flow: a warning.
	DuplicateUnits int `json:"duplicateUnits,omitempty"`
	// FileErrors counts findings of severity error about a published file
	// as a whole (one without instances, say): its warnings name them.
	FileErrors int      `json:"fileErrors,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// Summary is a run's outcome.
type Summary struct {
	Cuts       []CutResult   `json:"cuts"`
	InputBytes int64         `json:"inputBytes"`
	Seconds    float64       `json:"seconds"`
	Ignored    []cut.Ignored `json:"ignored,omitempty"`   // inbox objects left alone
	Leftovers  []string      `json:"leftovers,omitempty"` // what crashed runs left, removed
}

// Count returns how many cuts have the status.
func (s *Summary) Count(status string) int {
	n := 0
	for _, c := range s.Cuts {
		if c.Status == status {
			n++
		}
	}
	return n
}

// FileErrors adds up the cuts' FileErrors.
func (s *Summary) FileErrors() int {
	n := 0
	for _, c := range s.Cuts {
		n += c.FileErrors
	}
	return n
}

// Totals adds up rejections and quarantines.
func (s *Summary) Totals() (rejected, quarantined int) {
	for _, c := range s.Cuts {
		rejected += c.Rejected
		quarantined += c.Quarantined
	}
	return
}
