package dflow

import "fmt"

// Severity of a finding.
type Severity string

const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
)

// Finding is one deviation from the catalogue. It never carries the raw
// value of a data item unless the reader's Reveal predicate allows it,
// because reports are stored beside masked data.
type Finding struct {
	Line     int      `json:"line"`
	Group    string   `json:"group"`          // group code, ZHV or ZPT
	Item     string   `json:"item,omitempty"` // J-ref of the data item
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

func (f Finding) String() string {
	item := ""
	if f.Item != "" {
		item = " " + f.Item
	}
	return fmt.Sprintf("line %d group %s%s [%s] %s: %s", f.Line, f.Group, item, f.Rule, f.Severity, f.Message)
}

// BrokenError is structural breakage that makes a whole file unusable: no
// header or trailer, an unknown flow, a trailer mismatch, garbage. Instances
// already returned by the reader must be discarded.
type BrokenError struct {
	File    string
	Finding Finding
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("%s: broken file: %s", e.File, e.Finding)
}

// Rule ids. Stable: reports, manifests and tests refer to them.
const (
	RuleHeaderMissing    = "header.missing"
	RuleHeaderMalformed  = "header.malformed"
	RuleUnknownFlow      = "header.unknown-flow"
	RuleUnknownVersion   = "header.unknown-version"
	RuleTrailerMissing   = "trailer.missing"
	RuleTrailerMalformed = "trailer.malformed"
	RuleTrailerFileID    = "trailer.file-id"
	RuleTrailerGroups    = "trailer.group-count"
	RuleTrailerFlows     = "trailer.flow-count"
	// RuleTrailerFlowsLevel1 is a warning: the flow count counts every
	// level-1 group, once-per-file ones included.
	RuleTrailerFlowsLevel1 = "trailer.flow-count-level1"
	RuleAfterTrailer       = "trailer.data-after"
	RuleGarbage            = "record.garbage"
	RuleTooLong            = "record.too-long"
	RuleNoTrailingPipe     = "record.trailing-pipe"
	RuleFieldCount         = "record.field-count"
	RuleBlankLine          = "record.blank"
	RuleUnknownGroup       = "group.unknown"
	RuleOutOfPlace         = "group.out-of-place"
	RuleCardMin            = "group.cardinality-min"
	RuleCardMax            = "group.cardinality-max"
	RuleCondUndecided      = "group.conditional-undecided"
	RuleInstanceTooLarge   = "instance.too-large"
	RuleParentRejected     = "group.parent-rejected"
	RuleMandatory          = "item.mandatory"
	RuleWidth              = "item.width"
	RuleEncoding           = "item.encoding"
	RuleControlChar        = "item.control-char"
	RuleWindows1252        = "file.windows-1252"
	RuleCRLineEnds         = "file.cr-line-ends"
	RuleDate               = "item.date"
	RuleDateTime           = "item.datetime"
	RuleTime               = "item.time"
	RuleBoolean            = "item.boolean"
	RuleNumber             = "item.number"
	RuleInteger            = "item.integer"
	RuleValidSet           = "item.valid-set"
	RuleMPANCheck          = "item.mpan-check"
	RuleUnresolvedFormat   = "item.format-unresolved"
)
