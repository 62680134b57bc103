package status

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/store"
)

// SnapshotSchema is the schema of the status a run publishes.
const SnapshotSchema = "datacut.status/v1"

// Snapshot is the whole store's status as a run saw it, published at
// cut.StatusKey (and as a page at cut.StatusPageKey) for readers whose
// credentials may not list the store.
type Snapshot struct {
	Schema   string    `json:"schema"`
	Built    time.Time `json:"built"`
	Register string    `json:"register,omitempty"` // the programme register's version
	Rows     []Row     `json:"rows"`
}

// Publish builds the whole store's status at now and writes it, the page
// first, so status.json, which readers take, is never older than it.
func Publish(ctx context.Context, st store.Store, reg *programme.Register, now time.Time) error {
	rows, err := Build(ctx, st, reg, now, Scope{})
	if err != nil {
		return err
	}
	s := Snapshot{Schema: SnapshotSchema, Built: now.UTC(), Rows: rows}
	if reg != nil {
		s.Register = reg.Version
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, rows, s.Register, now); err != nil {
		return err
	}
	if err := st.Put(ctx, cut.StatusPageKey, bytes.NewReader(page.Bytes()), int64(page.Len())); err != nil {
		return fmt.Errorf("publishing the status page: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := st.Put(ctx, cut.StatusKey, bytes.NewReader(b), int64(len(b))); err != nil {
		return fmt.Errorf("publishing the status: %w", err)
	}
	return nil
}

// ReadSnapshot reads the status the last run published.
func ReadSnapshot(ctx context.Context, st store.Store) (*Snapshot, error) {
	b, err := store.ReadAll(ctx, st, cut.StatusKey)
	if err != nil {
		return nil, err
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", cut.StatusKey, err)
	}
	if s.Schema != SnapshotSchema {
		return nil, fmt.Errorf("%s: schema %q, this datacut reads %s", cut.StatusKey, s.Schema, SnapshotSchema)
	}
	return &s, nil
}
