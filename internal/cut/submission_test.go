package cut

import (
	"strings"
	"testing"
)

const hash64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseSubmission(t *testing.T) {
	ok := `{"schema":"datacut.submission/v1","mpid":"BRGT","cut":"ees","asAt":"2026-11-30","kind":"full",
	 "files":[{"name":"EES_1.csv","size":10,"sha256":"` + hash64 + `"}]}`
	s, err := ParseSubmission([]byte(ok), "BRGT", "ees")
	if err != nil || s.Kind != KindFull || len(s.Files) != 1 {
		t.Fatalf("%+v %v", s, err)
	}
	amend := `{"schema":"datacut.submission/v1","mpid":"BRGT","cut":"ees","asAt":"2026-11-30T06:00:00Z","kind":"amend","amends":2,
	 "replaces":["EES_1.csv"],"files":[{"name":"EES_1.csv","size":10,"sha256":"` + hash64 + `"}]}`
	if s, err := ParseSubmission([]byte(amend), "BRGT", "ees"); err != nil || !s.Drops("EES_1.csv") || s.Drops("EES_2.csv") {
		t.Fatalf("%+v %v", s, err)
	}
	for name, c := range map[string]struct{ json, want string }{
		"other mpid":      {strings.Replace(ok, `"BRGT"`, `"EVIL"`, 1), `mpid is "EVIL" but the submission is in BRGT's folder`},
		"other cut":       {strings.Replace(ok, `"ees"`, `"registration"`, 1), `cut is "registration"`},
		"bad date":        {strings.Replace(ok, `2026-11-30`, `30/11/2026`, 1), `neither a date`},
		"unknown field":   {strings.Replace(ok, `"kind"`, `"knd"`, 1), `unknown field "knd"`},
		"bad kind":        {strings.Replace(ok, `"full"`, `"partial"`, 1), `kind is "partial", want full or amend`},
		"no files":        {strings.Replace(ok, `{"name":"EES_1.csv","size":10,"sha256":"`+hash64+`"}`, ``, 1), `at least one file`},
		"bad hash":        {strings.Replace(ok, hash64, "abc", 1), `files[0].sha256 is not 64`},
		"path name":       {strings.Replace(ok, `EES_1.csv`, `../x.csv`, 1), `files[0].name "../x.csv" is not a file name`},
		"full amends":     {strings.Replace(ok, `"kind":"full"`, `"kind":"full","amends":1`, 1), `a full submission has no amends`},
		"amend no target": {strings.Replace(amend, `"amends":2,`, ``, 1), `names the version it amends`},
		"withdraw + send": {strings.Replace(amend, `"replaces"`, `"withdraws"`, 1), `both withdrawn and sent`},
		"replaces a path": {strings.Replace(amend, `"replaces":["EES_1.csv"]`, `"replaces":["../EES_1.csv"]`, 1), `replaces[0] "../EES_1.csv" is not a file name`},
		"withdraws submission.json": {strings.Replace(amend, `"replaces":["EES_1.csv"]`, `"replaces":["EES_1.csv"],"withdraws":["EES_2.csv","submission.json"]`, 1),
			`withdraws[1] "submission.json" is not a file name`},
		"withdraws a hidden file": {strings.Replace(amend, `"replaces":["EES_1.csv"]`, `"replaces":["EES_1.csv"],"withdraws":[".x"]`, 1), `withdraws[0] ".x" is not a file name`},
		"replaces nothing":        {strings.Replace(amend, `"replaces":["EES_1.csv"]`, `"replaces":[""]`, 1), `replaces[0] "" is not a file name`},
		"two values":              {ok + ok, `more than one JSON value`},
		"schema":                  {strings.Replace(ok, `/v1`, `/v9`, 1), `schema is "datacut.submission/v9"`},
	} {
		if _, err := ParseSubmission([]byte(c.json), "BRGT", "ees"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}

func FuzzParseSubmission(f *testing.F) {
	f.Add([]byte(`{"schema":"datacut.submission/v1","mpid":"BRGT","cut":"ees","asAt":"2026-11-30","kind":"full","files":[{"name":"a","size":1,"sha256":"` + hash64 + `"}]}`))
	f.Add([]byte(`{"kind":"amend","amends":1,"withdraws":["a","a"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSubmission(b, "BRGT", "ees")
		if err == nil && (s.MPID != "BRGT" || s.Cut != "ees" || (s.Kind != KindFull && s.Kind != KindAmend)) {
			t.Fatalf("accepted %+v", s)
		}
	})
}

func TestLatestOfPrefersAsAtThenVersion(t *testing.T) {
	vs := []*Manifest{
		{Version: 1, AsAt: "2026-11-30"},
		{Version: 2, AsAt: "2026-11-01"}, // an older extract sent later
		{Version: 3, AsAt: "2026-11-30T00:00:00Z"},
	}
	if got := LatestOf(vs); got.Version != 3 {
		t.Fatalf("latest is version %d, want 3", got.Version)
	}
	if got := LatestOf(vs[:2]); got.Version != 1 {
		t.Fatalf("latest is version %d, want 1 (as-at beats publishing order)", got.Version)
	}
	if LatestOf(nil) != nil {
		t.Fatal("a latest of nothing")
	}
}
