package ees_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/ees"
)

// benchExport is an export of n rows with every column of the mapping in
// the synthetic market's order.
func benchExport(n int) []byte {
	var b bytes.Buffer
	b.WriteString("mpan-core,address-line-1,address-line-2,address-line-3,post-code,supplier,supplier-dip,registration-from,mtc,mtc-date,llfc,pc,ssc,energisation-status,Domestic Premises Indicator,msn,meter-install-date\n")
	for i := 0; i < n; i++ {
		b.WriteString("1012345678903,1 High Street,Flat 2,Townsville,AB1 2CD,BRGT,DIPBRGT001,01/04/2023,845,01/04/2023,A01,01,0393,E,true,S12A34567,01/04/2023\n")
	}
	return b.Bytes()
}

// BenchmarkReader: rows read and validated per second (the hot path of an
// EES cut).
func BenchmarkReader(b *testing.B) {
	cols, res := columns(b)
	data := benchExport(20000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := ees.NewReader(bytes.NewReader(data), "b.csv", cols, res)
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if row.Rejected() {
				b.Fatal(strings.Join([]string{row.Findings[0].Rule, row.Findings[0].Message}, ": "))
			}
		}
	}
}
