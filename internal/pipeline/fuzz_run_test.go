package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/pipelines"
)

// Canaries planted in the fuzzed files' sensitive fields: valid MPAN cores
// no synthetic market uses (14 99), a name and an address.
const (
	canaryMPAN  = "1499009999902" // in the D0150's first 288 record
	canaryMPAN2 = "1499009999911"
	canaryName  = "Zed Canarybird"
	canaryAddr  = "7 Canaryhollow Lane"
)

var canaryEES = "mpan-core,address-line-1,address-line-2,post-code,registration-from,Domestic Premises Indicator,msn\n" +
	canaryMPAN2 + "," + canaryName + "," + canaryAddr + ",AB1 2CD,01/04/2023,true,S12A34567\n" +
	canaryMPAN + ",\"" + canaryName + ", Jr\",\"" + canaryAddr + "\",AB1 2CD,01/04/2023,false,S12A34568\n"

// mutate applies one of a few edits to a good file: what a careless or
// hostile sender's tools do to it.
func mutate(file []byte, op uint8, at uint16, data []byte) []byte {
	n := len(file)
	i := int(at) % (n + 1)
	out := make([]byte, 0, n+len(data))
	switch op % 7 {
	case 1: // insert
		out = append(append(append(out, file[:i]...), data...), file[i:]...)
	case 2: // overwrite
		out = append(out, file...)
		copy(out[i:], data)
	case 3: // truncate
		out = append(out, file[:i]...)
	case 4: // other line ends
		out = bytes.ReplaceAll(file, []byte("\n"), append([]byte("\r"), data...))
	case 5: // delete
		out = append(append(out, file[:i]...), file[min(n, i+len(data)+1):]...)
	case 6: // replace every delimiter
		out = bytes.ReplaceAll(bytes.ReplaceAll(file, []byte("|"), data), []byte(","), data)
	default:
		out = append(out, file...)
	}
	return out
}

// FuzzRun runs a whole datacut run over an inbox holding one mutated file
// (a D0150 or an EES export with sensitive values planted): it must not
// panic or hang, and no text it writes (manifest, reports, receipt, audit
// record, status, its summary, error and log) may hold a planted value.
// Only the raw file's own copies (the inbox, quarantine) may.
func FuzzRun(f *testing.F) {
	d0150, err := os.ReadFile("testdata/d0150-canary.dat")
	if err != nil {
		f.Fatal(err)
	}
	set, err := Load(pipelines.FS)
	if err != nil {
		f.Fatal(err)
	}
	key, _ := mask.ParseKey(testKey)
	for _, s := range []struct {
		op   uint8
		at   uint16
		data string
	}{
		{0, 0, ""}, {1, 40, "|"}, {1, 200, ","}, {1, 60, "\"x"}, {2, 0, "ZHV|X"}, {2, 150, "\x00\x01"}, {2, 90, "\xeb\xe9"},
		{3, 0, ""}, {3, 100, ""}, {3, 900, ""}, {4, 0, ""}, {4, 0, "\n"}, {5, 10, "1234"}, {5, 130, "12345678"},
		{6, 0, ""}, {6, 0, ";"}, {1, 0, "\xef\xbb\xbf"}, {1, 500, strings.Repeat("9", 300)},
	} {
		f.Add(false, s.op, s.at, []byte(s.data))
		f.Add(true, s.op, s.at, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, ees bool, op uint8, at uint16, data []byte) {
		mpid, cutType, name, file := "MTRA", "mop-mtd", "D0150_0001.dat", d0150
		if ees {
			mpid, cutType, name, file = "BRGT", "ees", "EES_0001.csv", []byte(canaryEES)
		}
		st, err := local.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		submitFiles(t, st, cut.Submission{MPID: mpid, Cut: cutType}, "s1", map[string][]byte{name: mutate(file, op, at, data)})
		var logs bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sum, err := Run(ctx, Options{Store: st, Pipelines: set, Key: key, Log: zerolog.New(zerolog.SyncWriter(&logs)), Tool: "fuzz"})
		if ctx.Err() != nil {
			t.Fatal("the run did not end within a minute")
		}
		if op%7 == 0 && (err != nil || sum.Count(StatusPublished) != 1 || sum.Cuts[0].Quarantined > 0) {
			t.Fatalf("the good file (ees %v) is not published whole: %v %+v", ees, err, sum)
		}
		texts := map[string]string{"the log": logs.String()}
		if err != nil {
			texts["the error"] = err.Error()
		}
		if b, err := json.Marshal(sum); err == nil {
			texts["the summary"] = string(b)
		}
		for _, k := range listKeys(t, st, "") {
			if strings.HasPrefix(k, cut.InboxRoot) || strings.HasPrefix(k, cut.QuarantineRoot) || strings.HasSuffix(k, ".parquet") {
				continue // the raw file's copies, and masked tables
			}
			b, err := store.ReadAll(context.Background(), st, k)
			if err != nil {
				t.Fatal(err)
			}
			texts[k] = string(b)
		}
		for where, text := range texts {
			for _, v := range []string{canaryMPAN, canaryMPAN2, "Canarybird", "Canaryhollow"} {
				if strings.Contains(text, v) {
					t.Fatalf("%s holds the planted %q:\n%s", where, v, text)
				}
			}
		}
	})
}
