package dflow

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Writer renders a D-flow: the ZHV header, group records, and a ZPT
// trailer whose counts it computes itself.
type Writer struct {
	w      *bufio.Writer
	fileID string
	eol    string
	groups int
	flows  int
	err    error
}

// WriterOptions tune rendering; canonical output is LF.
type WriterOptions struct {
	CRLF bool
}

// NewWriter writes the header and returns a writer for the body.
func NewWriter(w io.Writer, h Header, opt WriterOptions) (*Writer, error) {
	wr := &Writer{w: bufio.NewWriterSize(w, 64<<10), fileID: h.FileID, eol: "\n"}
	if opt.CRLF {
		wr.eol = "\r\n"
	}
	if len(h.Flow) != 5 || len(h.Version) != 3 {
		return nil, fmt.Errorf("writing ZHV: flow %q version %q must be like D0150 and 002", h.Flow, h.Version)
	}
	wr.line("ZHV", []string{h.FileID, h.Flow + h.Version, h.FromRole, h.FromMPID, h.ToRole, h.ToMPID,
		h.Created, h.SendingApp, h.ReceivingApp, h.Broadcast, h.TestFlag})
	return wr, wr.err
}

func (w *Writer) line(code string, fields []string) {
	if w.err != nil {
		return
	}
	w.w.WriteString(code)
	for _, f := range fields {
		w.w.WriteByte('|')
		w.w.WriteString(f)
	}
	_, w.err = w.w.WriteString("|" + w.eol)
}

// Write renders one group record; the flow count counts the groups the DTC's
// flow count does (Group.FlowCounted).
func (w *Writer) Write(g *Group, fields [][]byte) error {
	if w.err != nil {
		return w.err
	}
	w.w.WriteString(g.Code)
	for _, f := range fields {
		w.w.WriteByte('|')
		w.w.Write(f)
	}
	_, w.err = w.w.WriteString("|" + w.eol)
	w.groups++
	if g.FlowCounted() {
		w.flows++
	}
	return w.err
}

// WriteRecord renders a record as it was read, its code and every field,
// even one the catalogue does not know: for keeping rejected instances as
// they came. It counts as a flow as Write does.
func (w *Writer) WriteRecord(rec Record) error {
	code := rec.Code
	if rec.Group != nil {
		code = rec.Group.Code
	}
	if w.err != nil {
		return w.err
	}
	w.w.WriteString(code)
	for _, f := range rec.Fields {
		w.w.WriteByte('|')
		w.w.Write(f)
	}
	_, w.err = w.w.WriteString("|" + w.eol)
	w.groups++
	if rec.Group != nil && rec.Group.FlowCounted() {
		w.flows++
	}
	return w.err
}

// WriteInstance renders every record of an instance.
func (w *Writer) WriteInstance(in *Instance) error {
	for _, rec := range in.Records {
		if rec.Group == nil {
			return fmt.Errorf("writing instance %d: group %s is not in the catalogue", in.Ordinal, rec.Code)
		}
		if err := w.Write(rec.Group, rec.Fields); err != nil {
			return err
		}
	}
	return nil
}

// Counts are the group records and flow instances written so far.
func (w *Writer) Counts() (groups, flows int) { return w.groups, w.flows }

// Close writes the ZPT trailer with the counted groups and flows, and the
// given checksum and completion time, then flushes.
func (w *Writer) Close(checksum, completed string) error {
	return w.CloseCounts(w.groups, w.flows, checksum, completed)
}

// CloseCounts is Close with the trailer's counts given: only for making
// deliberately broken test files.
func (w *Writer) CloseCounts(groups, flows int, checksum, completed string) error {
	w.line("ZPT", []string{w.fileID, strconv.Itoa(groups), checksum, strconv.Itoa(flows), completed})
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}
