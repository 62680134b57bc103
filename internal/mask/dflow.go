package mask

import (
	"errors"
	"fmt"
	"io"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// FileSummary says what masking one D-flow file did.
type FileSummary struct {
	Flow      string
	Instances int // masked and written
	Rejected  int // left out: they failed validation
	Records   int
}

// MaskDFlow validates a D-flow and writes its masked form: good instances
// masked, rejected ones left out (their findings say why), the header kept
// but marked as test data when it said OPER. A broken file writes nothing
// useful and returns its *dflow.BrokenError. The flow's items must all be
// covered by the rules before anything is written.
func (mk *Masker) MaskDFlow(r io.Reader, name string, w io.Writer) (FileSummary, error) {
	var sum FileSummary
	rd := dflow.NewReader(r, name, dflow.Options{Reveal: func(ref string) bool { return !mk.rules.Sensitive(ref) }})
	h, err := rd.Header()
	if err != nil {
		return sum, err
	}
	sum.Flow = rd.Flow().Key()
	if err := mk.rules.RequireCoverage(name+" ("+rd.Flow().Key()+")", FlowRefs(dflow.DefaultCatalog(), rd.Flow().Key()), mk.resolve); err != nil {
		return sum, err
	}
	out := *h
	if out.TestFlag == "OPER" {
		out.TestFlag = "TR01"
	}
	wr, err := dflow.NewWriter(w, out, dflow.WriterOptions{})
	if err != nil {
		return sum, err
	}
	s := mk.Session()
	for {
		in, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, err
		}
		if in.Rejected() {
			sum.Rejected++
			continue
		}
		for _, rec := range in.Records {
			fields, err := s.Fields(rec.Group, rec.Fields)
			if err != nil {
				return sum, fmt.Errorf("%s line %d: %w", name, rec.Line, err)
			}
			if err := wr.Write(rec.Group, fields); err != nil {
				return sum, err
			}
			sum.Records++
		}
		sum.Instances++
	}
	t := rd.Trailer()
	return sum, wr.Close(t.Checksum, t.Completed)
}

// LeakReport counts raw sensitive values found unchanged in masked output.
type LeakReport struct {
	Records int            `json:"records"`
	Checked int            `json:"sensitiveValuesChecked"`
	Leaks   int            `json:"leaks"`
	ByItem  map[string]int `json:"leaksByItem,omitempty"` // J-ref -> count; never values
}

// VerifyDFlow compares a raw D-flow with its masked form record by record
// (the masked file holds the raw file's good instances in order) and counts
// every non-empty sensitive value that came through unchanged. Constants
// that happen to equal the raw value are not leaks.
func (mk *Masker) VerifyDFlow(raw io.Reader, rawName string, masked io.Reader, maskedName string) (LeakReport, error) {
	rep := LeakReport{ByItem: map[string]int{}}
	rr := dflow.NewReader(raw, rawName, dflow.Options{})
	mr := dflow.NewReader(masked, maskedName, dflow.Options{})
	for {
		ri, rerr := nextGood(rr)
		mi, merr := mr.Next()
		if rerr == io.EOF && merr == io.EOF {
			return rep, nil
		}
		if rerr != nil && rerr != io.EOF {
			return rep, rerr
		}
		if merr != nil && merr != io.EOF {
			return rep, merr
		}
		if rerr == io.EOF || merr == io.EOF || len(ri.Records) != len(mi.Records) {
			return rep, errors.New("the masked file does not hold the raw file's good instances in order: is it the masked form of this raw file?")
		}
		for k := range ri.Records {
			rrec, mrec := ri.Records[k], mi.Records[k]
			if rrec.Code != mrec.Code || len(rrec.Fields) != len(mrec.Fields) {
				return rep, fmt.Errorf("raw line %d and masked line %d are different groups: not the masked form of this file", rrec.Line, mrec.Line)
			}
			rep.Records++
			for i, v := range rrec.Fields {
				ref := rrec.Group.Fields[i].Ref
				if len(v) == 0 || !mk.rules.Sensitive(ref) {
					continue
				}
				rep.Checked++
				if string(mrec.Fields[i]) != string(v) {
					continue
				}
				if im := mk.items[ref]; im != nil && im.domain.Method == MethodConstant {
					continue // the constant happens to equal the raw value
				}
				rep.Leaks++
				rep.ByItem[ref]++
			}
		}
	}
}

func nextGood(r *dflow.Reader) (*dflow.Instance, error) {
	for {
		in, err := r.Next()
		if err != nil || !in.Rejected() {
			return in, err
		}
	}
}
