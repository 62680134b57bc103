package ees_test

import (
	"strings"
	"testing"

	"github.com/mhhs-sit/datacut/internal/ees"
)

// csvCases are inputs on which the CSV reader must read as encoding/csv
// (over the old CR and length filter) did: every record, line and error.
var csvCases = []string{
	"", "\n", "\r\n", "\r", "a", "a\n", "a\r", "a\r\n", "a,b\nc,d", "a,b\n\nc,d\n", "\n\na,b\r\n\r\nc\r",
	"a,,b,\n,\n", " a , b \n", `"a","b"` + "\n", `"a""b",c` + "\n", `"a,b",c` + "\n", `"a` + "\n" + `b",c` + "\n",
	`"a` + "\r\n" + `b",c` + "\r\n", `"a` + "\r" + `b",c` + "\r", `""` + "\n", `"",""`, `""""`, `"a"`, `"a`, `"a` + "\n", `"a` + "\n\n",
	`a"b`, `a,b"`, `"a"b`, `"a" ,b`, `"a"` + "\r", "x\n\"a\"\"\n", "x,y\n1,\"2\n3\n4\"\n5,6\n", "a,\"b\nc\"d\n",
	"\ufeffa,b\n1,2\n", "a\x00b,\xff\n", "a,b\r\r\nc", "a\r\r", "\"\r\n\"", "\"a\r\"\r\n",
	"a," + strings.Repeat("x", 70000) + "\n" + strings.Repeat("y", 65535) + "\r\n" + strings.Repeat("z", 65535) + "\r" + "\"q\r\nq\"",
	strings.Repeat("a,", 40000) + "\"" + strings.Repeat("b\r\n", 30000) + "\",c\n",
	"h\n" + strings.Repeat("x", ees.MaxLine) + "\n" + strings.Repeat("x", ees.MaxLine-1) + "\r\nx\n",
	"h\n" + strings.Repeat("x", ees.MaxLine) + "\r\n",
	"h\n" + strings.Repeat("x", ees.MaxLine+1) + "\n",
	"h\n" + strings.Repeat("x", ees.MaxLine+1),
	"h\n\"" + strings.Repeat("x\n", ees.MaxLine/2),
	"h\n\"" + strings.Repeat("x\n", ees.MaxLine),
}

func TestCSVReadsAsEncodingCSV(t *testing.T) {
	for i, c := range csvCases {
		got, want := ees.CSVRecords(c), ees.ReferenceCSVRecords(c)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("case %d (%.40q...):\n got %.300q\nwant %.300q", i, c, got, want)
		}
	}
}

// FuzzCSV: on any input the CSV reader reads what encoding/csv read.
func FuzzCSV(f *testing.F) {
	for _, c := range csvCases {
		if len(c) < 1000 {
			f.Add([]byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, want := ees.CSVRecords(string(data)), ees.ReferenceCSVRecords(string(data))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%q:\n got %q\nwant %q", data, got, want)
		}
	})
}
