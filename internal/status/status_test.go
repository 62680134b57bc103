package status

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/pipelines"
)

func builtInRegister(t *testing.T) *programme.Register {
	t.Helper()
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := programme.Load(pipelines.FS, programme.File, types)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func publish(t *testing.T, st store.Store, cutType, mpid, id string, at time.Time) {
	t.Helper()
	m := &cut.Manifest{Cut: cutType, MPID: mpid, CutID: id, Timings: cut.Timings{Finished: at},
		Inputs: []cut.Input{{Key: cut.InboxDir(mpid, cutType) + id + ".csv"}},
		Tables: []cut.Table{{Name: "t", Rows: 7}}, Rejected: cut.Rejections{Count: 2}}
	if err := cut.WriteManifest(context.Background(), st, cut.Prefix(cutType, mpid, id), m); err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, st store.Store, key string) {
	t.Helper()
	if err := st.Put(context.Background(), key, strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
}

// Every state a row can be in, from the register's expectations against
// what the store holds.
func TestStates(t *testing.T) {
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	publish(t, st, "ees", "BRGT", "old", now.Add(-300*time.Hour))
	publish(t, st, "ees", "BRGT", "new", now.Add(-time.Hour)) // the latest wins
	publish(t, st, "ees", "CRWN", "c1", now.Add(-200*time.Hour))
	publish(t, st, "ees", "MTRA", "m1", now)
	put(t, st, "inbox/BRGT/ees/EES_0002.csv")
	put(t, st, "inbox/BRGT/ees/new.csv")        // kept raw: published, not waiting
	put(t, st, "inbox/mpid=X/ees/EES_0002.csv") // not an inbox file
	put(t, st, "quarantine/mop-mtd/mpid=MTRA/0123456789abcdef/D0150_0001.dat")
	reg := builtInRegister(t)

	rows, err := Build(context.Background(), st, reg, now)
	if err != nil {
		t.Fatal(err)
	}
	get := func(mpid, c string) Row {
		for _, r := range rows {
			if r.MPID == mpid && r.Cut == c {
				return r
			}
		}
		t.Fatalf("no row for %s %s", mpid, c)
		return Row{}
	}
	if r := get("BRGT", "ees"); r.State != Received || r.Latest.CutID != "new" || r.Waiting != 1 || r.Latest.Rows != 7 || r.Latest.Rejected != 2 || r.Organisation == "" || r.Refresh != "7d" {
		t.Errorf("BRGT ees: %+v %+v", r, r.Latest)
	}
	if r := get("CRWN", "ees"); r.State != Stale {
		t.Errorf("CRWN ees published 200 h ago with a 168 h refresh: %s", r.State)
	}
	if r := get("DLTA", "ees"); r.State != Overdue || r.Latest != nil {
		t.Errorf("DLTA ees never sent: %s", r.State)
	}
	if r := get("MTRA", "mop-mtd"); r.State != Awaited || r.Quarantined != 1 || r.Due != "2027-01-29" {
		t.Errorf("MTRA mop-mtd not yet due, one file quarantined: %+v", r)
	}
	if r := get("MTRA", "ees"); r.State != Unexpected {
		t.Errorf("a MOp's EES cut: %s", r.State)
	}
	later, err := Build(context.Background(), st, reg, time.Date(2027, 1, 30, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range later {
		if r.MPID == "MTRA" && r.Cut == "mop-mtd" && r.State != Overdue {
			t.Errorf("after the due date: %s", r.State)
		}
	}
	for _, r := range rows {
		if r.MPID == "mpid=X" {
			t.Errorf("a folder that is not an MPID has a row: %+v", r)
		}
	}
}
