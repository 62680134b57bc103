package dflow_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/mhhs-sit/datacut/internal/dflow"
)

// FuzzReader: on any bytes the reader ends (EOF or a broken-file error),
// never panics, keeps its findings bounded and its instances consistent,
// and good instances convert to Arrow.
func FuzzReader(f *testing.F) {
	for _, key := range []string{"D0150002", "D0268002", "D0149001", "D0204002"} {
		cat := dflow.DefaultCatalog()
		if cat.Flow(key[:5], key[5:]) == nil {
			continue
		}
		f.Add([]byte(genFile(f, key, 2)))
	}
	f.Add([]byte("ZHV|F1|D0150002|M|MOPA|X|SUPA|20240101120000||||TR01|\r\n288|1012345678903|20230401||E|\r\nZPT|F1|1||1||\r\n"))
	f.Add([]byte("\xef\xbb\xbfZHV|F1|D0150002|M|MOPA|X|SUPA|20240101120000||||OPER|\n290|x|\nZPT|F1|1||0||\n"))
	f.Add([]byte("ZHV|"))
	// Conditional groups: D0155 to a MOP (317 only), to an unknown role;
	// D0204 whose Related MPAN Indicator decides 48M.
	f.Add([]byte("ZHV|F1|D0155001|X|SUPA|M|MOPA|20240101120000||||TR01|\n315|1012345678903|20230401|A||||||||||C1|N|_A|\n317|20230401|\n318|S1|L1|\nZPT|F1|3||1||\n"))
	f.Add([]byte("ZHV|F1|D0155001|X|SUPA|Q|MOPA|20240101120000||||TR01|\n315|1012345678903|20230401|A||||||||||C1|N|_A|\n318|S1|L1|\nZPT|F1|2||1||\n"))
	f.Add([]byte(strings.Replace(genFile(f, "D0204002", 1), "47M|N|", "47M|F|", 1)))
	// Line ends, encodings and control characters of real systems' files.
	f.Add([]byte("ZHV|F1|D0150002|M|MOPA|X|SUPA|20240101120000||||TR01|\r288|1012345678903|20230401||E|\r289|0393|20230401|||\rZPT|F1|2||1||\r"))
	f.Add([]byte("ZHV|F1|D0150002|M|MOPA|X|SUPA|20240101120000||||TR01|\r\r\n288|1012345678903|20230401||E|\r\nZPT|F1|1||1||\r"))
	f.Add([]byte("ZHV|F1|D0302002|M|MOPA|X|SUPA|20240101120000||||TR01|\n68C|1012345678903|20230401|\n69C|Zo\xeb M\xfcller \x80\x81|||||1|\nZPT|F1|2||1||\n"))
	f.Add([]byte("ZHV|F1|D0302002|M|MOPA|X|SUPA|20240101120000||||TR\x0001|\n68C|1012345678903|20230401|\n69C|Zo\x00e\x7f\xc2\x85\t|||||1|\nZPT|F1|2||1||\n"))
	f.Add([]byte("ZHV|F1|D0150002|M|MOPA|X|SUPA|||||TOOLONG|\n288|1012345678903|20230231||E|\nZPT|F2|1||1||\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := dflow.NewReader(bytes.NewReader(data), "fuzz", dflow.Options{MaxLine: 4096, MaxInstanceBytes: 1 << 20,
			Encoding: dflow.Encodings[len(data)%len(dflow.Encodings)]}) // each encoding, by the input
		var b *dflow.ArrowBuilder
		for steps := 0; ; steps++ {
			if steps > len(data)+2 {
				t.Fatal("reader made no progress")
			}
			in, err := r.Next()
			if err == io.EOF {
				if r.Trailer() == nil {
					t.Fatal("EOF without a trailer")
				}
				break
			}
			if err != nil {
				var be *dflow.BrokenError
				if !errors.As(err, &be) || be.Finding.Rule == "" {
					t.Fatalf("error is not a BrokenError with a rule: %v", err)
				}
				break
			}
			if len(in.Findings) > dflow.MaxInstanceFindings {
				t.Fatalf("%d findings kept", len(in.Findings))
			}
			for _, fd := range in.Findings {
				if fd.Rule == "" || fd.Line < 1 || strings.ContainsAny(fd.Message, "\n\r\x00") {
					t.Fatalf("bad finding %+v", fd)
				}
			}
			if !in.Rejected() {
				if b == nil {
					b = dflow.NewArrowBuilder(r.Flow())
				}
				if err := b.Append("fuzz", in); err != nil {
					t.Fatalf("valid instance does not convert: %v", err)
				}
			}
		}
		if b != nil {
			_ = b.Flush(0, func(_ *dflow.Group, rec arrow.Record) error { rec.Release(); return nil })
			b.Release()
		}
	})
}
