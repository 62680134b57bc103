// Package cli holds what every command shares: exit codes and the errors
// that choose them.
package cli

import (
	"errors"
	"fmt"
)

// Exit codes, the same for every command (documented in the README and in
// each command's help).
const (
	ExitOK       = 0 // everything processed, no data errors
	ExitData     = 1 // the data had errors: findings, rejections or quarantined files
	ExitUsage    = 2 // bad flags, arguments or configuration
	ExitFailure  = 3 // the run could not complete: I/O, store or internal failure
	ExitCodesDoc = `Exit codes:
  0  success, no data errors
  1  the data had errors (findings, rejected instances, quarantined files)
  2  usage or configuration error
  3  the run could not complete (I/O, object store, internal failure), or was
     stopped by SIGINT/SIGTERM (a second signal stops at once)`
)

// ExitError carries an exit code through cobra's error return.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Usage wraps a usage error (exit 2).
func Usage(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// DataErrors is the silent exit 1 after a report that already said what
// was wrong.
var DataErrors = &ExitError{Code: ExitData}

// Code maps an error to its exit code: ExitError's own, else ExitFailure.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailure
}
