package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"os"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/store"
)

// rejectFile holds one input's rejected instances as they came, in the
// input's own format (a D-flow with its header and a trailer counting
// just them, or CSV rows under the header), for the participant to
// correct and send again as an amendment.
type rejectFile struct {
	path    string
	f       *os.File
	buf     *bufio.Writer
	dw      *dflow.Writer
	cw      *csv.Writer
	written []int // line of the context record written last, per level
}

// contexts are the context records (ancestors of units, instances of their
// own) a D-flow file has open, by level: a rejected unit is kept under
// them, or its file would not be a D-flow.
type contexts []dflow.Record

// see keeps a context instance's record (its fields copied: the reader
// reuses its buffers).
func (cs *contexts) see(inst *dflow.Instance) {
	rec := inst.Records[0]
	if rec.Group == nil || !rec.Group.Context() {
		return
	}
	fields := make([][]byte, len(rec.Fields))
	for i, f := range rec.Fields {
		fields[i] = bytes.Clone(f)
	}
	rec.Fields = fields
	*cs = append((*cs)[:min(len(*cs), rec.Group.Level-1)], rec)
}

// rejectedInstance keeps a rejected D-flow instance of input in, under
// the context records it belongs to.
func (c *cutBuild) rejectedInstance(in store.Info, h *dflow.Header, inst *dflow.Instance, open contexts) error {
	rf, err := c.rejectFile(in)
	if err != nil {
		return err
	}
	if rf.dw == nil {
		if rf.dw, err = dflow.NewWriter(rf.buf, *h, dflow.WriterOptions{}); err != nil {
			return err
		}
	}
	level := inst.Records[0].Group.Level
	for _, ctx := range open {
		l := ctx.Group.Level
		if l >= level {
			break
		}
		if len(rf.written) >= l && rf.written[l-1] == ctx.Line {
			continue
		}
		if err := rf.dw.WriteRecord(ctx); err != nil {
			return err
		}
		rf.written = append(rf.written[:l-1], ctx.Line)
	}
	for _, rec := range inst.Records {
		if err := rf.dw.WriteRecord(rec); err != nil {
			return err
		}
	}
	if inst.Records[0].Group.Context() {
		rf.written = append(rf.written[:min(len(rf.written), level-1)], inst.Records[0].Line)
	}
	return nil
}

// rejectedRow keeps a rejected CSV row of input in.
func (c *cutBuild) rejectedRow(in store.Info, header, row []string) error {
	rf, err := c.rejectFile(in)
	if err != nil {
		return err
	}
	if rf.cw == nil {
		rf.cw = csv.NewWriter(rf.buf)
		rf.cw.Write(header)
	}
	return rf.cw.Write(row)
}

func (c *cutBuild) rejectFile(in store.Info) (*rejectFile, error) {
	if rf := c.rejects[in.Key]; rf != nil {
		return rf, nil
	}
	f, err := os.CreateTemp(c.tw.dir, "rejected-*")
	if err != nil {
		return nil, err
	}
	rf := &rejectFile{path: f.Name(), f: f, buf: bufio.NewWriterSize(f, 64<<10)}
	c.rejects[in.Key] = rf
	return rf, nil
}

// publishRejects closes the inputs' rejected-instance files and stores
// each at its place in the submission's quarantine, naming it on its input.
func (c *cutBuild) publishRejects(ctx context.Context, st store.Store, p *cut.Pending) error {
	for i, in := range c.m.Inputs {
		rf := c.rejects[in.Key]
		if rf == nil || in.Submission != p.ID {
			continue
		}
		if err := rf.close(); err != nil {
			return err
		}
		key := cut.RejectedKey(p.Cut, p.MPID, p.ID, in.Name())
		if err := store.PutFile(ctx, st, key, rf.path); err != nil {
			return err
		}
		c.m.Inputs[i].RejectedKey = key
	}
	return nil
}

func (rf *rejectFile) close() error {
	if rf.f == nil {
		return nil
	}
	var err error
	if rf.dw != nil {
		err = rf.dw.Close("", "")
	}
	if rf.cw != nil {
		rf.cw.Flush()
		err = rf.cw.Error()
	}
	if err == nil {
		err = rf.buf.Flush()
	}
	if cerr := rf.f.Close(); err == nil {
		err = cerr
	}
	rf.f = nil
	return err
}

// discardRejects removes the rejected-instance spool files.
func (c *cutBuild) discardRejects() {
	for _, rf := range c.rejects {
		rf.close()
		os.Remove(rf.path)
	}
}
