package allocation

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/store"
	"github.com/mhhs-sit/datacut/internal/universe"
)

// A kept MPAN whose rows changed since the run before (its participant
// sent a corrected cut) is listed in delta.json as changed, and its rows
// go in the add-pack. To tell, every pack records, per MPAN, a digest of
// the rows the pack holds of it: the data columns (not the lineage: a
// re-sent file with the same values is no change) of each row of a table
// that is not a context record, as the pack writes them (re-appointment
// included), summed over the rows so their order does not count. The
// digests live beside the packs, not in them (a participant has no use
// for them): allocations/<plan>/<run>/digests/<env>/<role>-<MPID>.csv.

// DigestsDir holds a run's per-pack digests.
const DigestsDir = "digests/"

// digestKey is the digests file of a participant's pack of a run.
func digestKey(runPrefix, env, role, mpid string) string {
	return runPrefix + DigestsDir + env + "/" + role + "-" + mpid + ".csv"
}

// rowDigests sums row digests per MPAN of a pack: 16 bytes per MPAN of the
// pack being written (its cores sorted, for a binary search), dropped once
// stored.
type rowDigests struct {
	cores, sums []uint64
}

func newRowDigests(pr *packRun, given []int) *rowDigests {
	d := &rowDigests{cores: make([]uint64, 0, len(given))}
	for _, i := range given {
		if c, ok := universe.ParseCore(pr.rows[i].MPAN); ok {
			d.cores = append(d.cores, c)
		}
	}
	slices.Sort(d.cores)
	d.cores = slices.Compact(d.cores)
	d.sums = make([]uint64, len(d.cores))
	return d
}

// of is the digest of an MPAN's rows (0 for none, or an MPAN not given).
func (d *rowDigests) of(mpan string) uint64 {
	c, _ := universe.ParseCore(mpan)
	if at, ok := slices.BinarySearch(d.cores, c); ok {
		return d.sums[at]
	}
	return 0
}

// add adds the digests of rec's rows (a table of the pack, named table) to
// their MPANs (instance_mpan_core); rows without one are left out.
func (d *rowDigests) add(table string, rec arrow.Record) {
	if rec.NumCols() <= dflow.LineageColumns || rec.Schema().Field(4).Name != dflow.ColInstanceMPAN {
		return
	}
	mpans, ok := rec.Column(4).(*array.String)
	if !ok {
		return
	}
	n := int(rec.NumRows())
	seed := fnv(fnvOffset, []byte(table))
	h := make([]uint64, n)
	for i := range h {
		h[i] = seed
	}
	var buf []byte
	for j := dflow.LineageColumns; j < int(rec.NumCols()); j++ {
		col := rec.Column(j)
		for i := 0; i < n; i++ {
			buf = binary.LittleEndian.AppendUint32(buf[:0], uint32(j))
			if col.IsNull(i) {
				h[i] = fnv(h[i], append(buf, 0))
				continue
			}
			buf = append(buf, 1)
			switch c := col.(type) {
			case *array.String:
				buf = append(buf, c.Value(i)...)
			case *array.Int64:
				buf = binary.LittleEndian.AppendUint64(buf, uint64(c.Value(i)))
			case *array.Int32:
				buf = binary.LittleEndian.AppendUint32(buf, uint32(c.Value(i)))
			case *array.Date32:
				buf = binary.LittleEndian.AppendUint32(buf, uint32(c.Value(i)))
			case *array.Float64:
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(c.Value(i)))
			case *array.Boolean:
				buf = strconv.AppendBool(buf, c.Value(i))
			default:
				buf = append(buf, c.ValueStr(i)...)
			}
			h[i] = fnv(h[i], buf)
		}
	}
	for i := 0; i < n; i++ {
		if mpans.IsNull(i) {
			continue
		}
		c, _ := universe.ParseCore(mpans.Value(i))
		if at, ok := slices.BinarySearch(d.cores, c); ok {
			d.sums[at] += mix64(h[i])
		}
	}
}

// digesting passes src on, adding its records' rows to d.
func (d *rowDigests) digesting(table string, src func() (arrow.Record, error)) func() (arrow.Record, error) {
	return func() (arrow.Record, error) {
		rec, err := src()
		if rec != nil {
			d.add(table, rec)
		}
		return rec, err
	}
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnv is FNV-1a over b from h: fixed across processes and builds.
func fnv(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// mix64 spreads a row's digest before it is summed (splitmix64's finaliser).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// writeDigests stores the pack's digests: one line per MPAN given to the
// participant, in mpans.csv's order (an MPAN whose pack holds no rows has
// digest 0).
func (pk *pack) writeDigests(ctx context.Context, pr *packRun, d *rowDigests) error {
	path := filepath.Join(pk.dir, "digests.csv")
	err := writeCSV(path, func(w *csv.Writer) {
		_ = w.Write([]string{"mpan_core", "rows_digest"})
		for _, i := range pk.given {
			_ = w.Write([]string{pr.rows[i].MPAN, digestText(d.of(pr.rows[i].MPAN))})
		}
	})
	if err != nil {
		return err
	}
	return store.PutFile(ctx, pr.st, digestKey(cut.RunPrefix(pr.plan.Name, pr.runID), pk.info.Env, pk.info.Role, pk.info.MPID), path)
}

func digestText(v uint64) string { return fmt.Sprintf("%016x", v) }

// readDigests reads the digests of the same participant's pack of the run
// before: nil if that run recorded none (it had no such pack, or came
// before digests were recorded).
func (pk *pack) readDigests(ctx context.Context, pr *packRun) (map[string]string, error) {
	key := digestKey(cut.RunPrefix(pr.plan.Name, pr.previous), pk.info.Env, pk.info.Role, pk.info.MPID)
	b, err := store.ReadAll(ctx, pr.st, key)
	if store.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	out := make(map[string]string, len(recs))
	for _, r := range recs[min(1, len(recs)):] { // after the header
		if len(r) == 2 {
			out[r[0]] = r[1]
		}
	}
	return out, nil
}
