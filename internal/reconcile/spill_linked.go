package reconcile

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// A linked rule in passes: its check needs, for a row of MPAN A listing B,
// B's rows, which may be in another partition. In the first sweep each
// pass writes a request for each of its rows listing a partner (ask), to
// the file of the partner's partition, in the order the one-pass check
// meets them (partitions are core ranges, in order); the second sweep
// answers each partition's requests against its rows, as the one-pass
// check would, in the same order: findings are the same.
const askRec = 8 + 8 + 4 + 2 + 1 + 8 // B, A, A's row's read position and source, A's supplier (known, value)

// linkedAsks writes the requests of the pass's rows.
func (e *engine) linkedAsks(ctx context.Context, r *Rule, ri int) error {
	prim, sec, sup, err := e.linkedColumns(ctx, r)
	if err != nil {
		return err
	}
	w := e.sp.asks[ri]
	if w == nil {
		name := e.sp.name("r")
		if w, err = createParts(name, e.sp.n()); err != nil {
			return err
		}
		e.sp.asks[ri], e.sp.askNames[ri] = w, name
	}
	var supAt *finder
	if sup != nil {
		supAt = sup.finder()
	}
	rec := make([]byte, 0, askRec)
	for i := 0; i < prim.Len(); i++ {
		b, ok := linkPartner(prim, sec, i)
		if !ok {
			continue
		}
		a := prim.cores[i]
		var known byte
		var sv uint64
		if sup != nil {
			if la, ha := supAt.rows(a); la < ha {
				known, sv = 1, sup.val[la]
			}
		}
		rec = binary.LittleEndian.AppendUint64(rec[:0], b)
		rec = binary.LittleEndian.AppendUint64(rec, a)
		rec = binary.LittleEndian.AppendUint32(rec, uint32(prim.at.raw(i)))
		rec = binary.LittleEndian.AppendUint16(rec, prim.src[i])
		rec = append(rec, known)
		rec = binary.LittleEndian.AppendUint64(rec, sv)
		if err := w.write(e.sp.part(b), rec); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// linkedAnswers answers the requests about the pass's partition's MPANs.
func (e *engine) linkedAnswers(ctx context.Context, r *Rule, ri int) error {
	name, ok := e.sp.askNames[ri]
	if !ok {
		return nil
	}
	prim, sec, sup, err := e.linkedColumns(ctx, r)
	if err != nil {
		return err
	}
	path := fmt.Sprintf("%s.%d", name, e.cur)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	in := bufio.NewReaderSize(f, 1<<20)
	var rec [askRec]byte
	for n := 0; ; n++ {
		if n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if _, err := io.ReadFull(in, rec[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		b, a := binary.LittleEndian.Uint64(rec[:]), binary.LittleEndian.Uint64(rec[8:])
		pos, src := int(binary.LittleEndian.Uint32(rec[16:])), int(binary.LittleEndian.Uint16(rec[20:]))
		known, sv := rec[22] == 1, binary.LittleEndian.Uint64(rec[23:])
		if src >= len(e.sources) {
			return fmt.Errorf("%s: source %d of %d", path, src, len(e.sources))
		}
		lo, hi, back := linksBack(prim, sec, b, a)
		if !back {
			var f Finding
			if lo < hi {
				f = e.finding(r, b, int(prim.src[lo]), prim, lo)
			} else {
				f = e.finding(r, b, src, nil, 0)
				f.ref = &rowRef{at: prim.at, raw: pos}
			}
			e.other(&f, src)
			e.out = append(e.out, f)
			continue
		}
		if sup == nil || a > b {
			continue
		}
		lb, hb := sup.rows(b)
		if !known || lb == hb || sv == 0 || sup.val[lb] == 0 || sv == sup.val[lb] {
			continue
		}
		f := e.finding(r, b, int(sup.src[lb]), sup, lb)
		f.OtherRole, f.OtherMPID = "X", e.value(sv)
		if e.clear(r.Supplier.Item) || r.Supplier.Item == ItemRecipient {
			f.Value, f.OtherValue = e.value(sup.val[lb]), e.value(sv)
		} else {
			f.Value = Differs
		}
		e.out = append(e.out, f)
	}
}
