package cut

import (
	"reflect"
	"testing"
)

// Brief keeps what a reader of the cut's tables needs and drops the lists
// that grow with its files and findings, leaving the manifest it came from
// whole.
func TestManifestBrief(t *testing.T) {
	m := &Manifest{Cut: "ees", MPID: "SUPA", CutID: "c1", Version: 2, KeyFingerprint: "k",
		Rules:       RulesRef{Version: "v"},
		Inputs:      []Input{{Key: "inbox/a"}, {Key: "inbox/b"}},
		Tables:      []Table{{Name: "ees", Key: "cuts/ees/SUPA/c1/ees.parquet", Rows: 3}},
		Rejected:    Rejections{Count: 1, ByRule: map[string]int{"r": 1}, Instances: []Rejected{{Input: "inbox/a", Line: 2}}},
		Quarantined: []Quarantine{{Input: "inbox/b"}},
		Warnings:    []string{"w"},
		Duplicates:  &Duplicates{Count: 1},
		Counts:      map[string]int{"instances": 3}}
	whole := *m
	b := m.Brief()
	if b.Inputs != nil || b.Rejected.Instances != nil || b.Quarantined != nil || b.Warnings != nil || b.Duplicates != nil {
		t.Errorf("brief keeps a growing list: %+v", b)
	}
	if b.Cut != "ees" || b.MPID != "SUPA" || b.CutID != "c1" || b.Version != 2 || b.KeyFingerprint != "k" || b.Rules.Version != "v" ||
		b.Rejected.Count != 1 || b.TableKey("ees") != "cuts/ees/SUPA/c1/ees.parquet" {
		t.Errorf("brief lost the manifest's identity or tables: %+v", b)
	}
	if !reflect.DeepEqual(*m, whole) {
		t.Errorf("brief changed the manifest: %+v", m)
	}
}
