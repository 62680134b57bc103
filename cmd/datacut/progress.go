package main

import (
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a bar on a terminal and nothing otherwise (logs carry the
// story there). Safe for concurrent use.
type progress struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

func newProgress(total int64, what string) *progress {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionThrottle(200_000_000),
		progressbar.OptionClearOnFinish())}
}

// setTotal sets the bar's maximum once known.
func (p *progress) setTotal(n int64) {
	if p.bar == nil || p.bar.GetMax64() == n {
		return
	}
	p.mu.Lock()
	p.bar.ChangeMax64(n)
	p.mu.Unlock()
}

// set moves the bar to n.
func (p *progress) set(n int64) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	p.bar.Set64(n)
	p.mu.Unlock()
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
