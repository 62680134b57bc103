package allocation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	stdmaps "maps"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sync/errgroup"

	"github.com/mhhs-sit/datacut/internal/columns"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/ees"
	"github.com/mhhs-sit/datacut/internal/store"
)

// syntheticKeyFingerprint stands for the masking key in the manifests of
// the synthetic units' cuts: no key made them (see publishSynthetic).
const syntheticKeyFingerprint = "synthetic"

// publishSynthetic publishes every submission in st's inbox (the
// synthetic units' files the generator wrote) as version 1 of its cut, in
// st: the tables datacut run would publish, with the same names, columns
// and manifests, written straight through internal/dflow, internal/ees and
// internal/cut. The allocator never links the batch worker or the masking
// code (internal/cut's layering test): a participant's raw data and the
// programme key never reach it, and these records need neither.
//
// The records are made up, so nothing in them is masked; they are only put
// in the form masked records have. MPAN cores are the synthetic cores;
// identifiers (meter serials) and personal data (names, addresses,
// postcodes, phones) are published as the generator made them, values
// shaped as the identifier and fake methods shape theirs. The items whose
// DPIA domain uses a method that needs no key hold what that method
// publishes, read from the cut type's rule set: constant its rule's value
// or the item's dummy (dflow.Item.Dummy), redact the marker cut to width
// (dflow.Redacted), blank nothing. A column with no rule, or a rule of a
// method not named here, stops the run (fail-closed, as the masker does).
// A record that does not pass validation is the generator's fault, and an
// error.
func publishSynthetic(ctx context.Context, st store.Store, defs fs.FS, types cut.Types, tool string) error {
	pending, ignored, err := cut.ScanInbox(ctx, st, nil)
	if err != nil {
		return err
	}
	if len(ignored) > 0 {
		return fmt.Errorf("%s: %s", ignored[0].Key, ignored[0].Reason)
	}
	rules := map[string]*keylessRules{} // by path
	for _, p := range pending {
		t := types.Named(p.Cut)
		switch {
		case p.Waiting != "" || p.Submission == nil:
			return fmt.Errorf("%s's %s cut: %s", p.MPID, p.Cut, p.Waiting)
		case t == nil:
			return fmt.Errorf("%s's %s cut: the plan reads no such cut type", p.MPID, p.Cut)
		}
		if rules[t.Rules] == nil {
			if rules[t.Rules], err = loadKeylessRules(defs, t.Rules); err != nil {
				return err
			}
		}
	}
	// The cuts are independent: published on every core.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, p := range pending {
		t := types.Named(p.Cut)
		g.Go(func() error {
			if err := publishSyntheticCut(gctx, st, defs, t, rules[t.Rules], p, tool); err != nil {
				return fmt.Errorf("%s's %s cut: %w", p.MPID, p.Cut, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// publishSyntheticCut publishes one submission: its files read into
// tables, the tables stored, then the manifest and latest.json, as
// datacut run does.
func publishSyntheticCut(ctx context.Context, st store.Store, defs fs.FS, t *cut.Type, kr *keylessRules, p *cut.Pending, tool string) error {
	started := time.Now().UTC()
	m := &cut.Manifest{Cut: p.Cut, MPID: p.MPID, Version: 1, AsAt: p.Submission.AsAt, Submission: cut.SubmissionRef{ID: p.ID, SHA256: p.SHA256},
		Tool: tool, Rules: kr.ref, KeyFingerprint: syntheticKeyFingerprint,
		Rejected: cut.Rejections{ByRule: map[string]int{}, Instances: []cut.Rejected{}}, Counts: map[string]int{}}
	meta := map[string]string{"datacut.cut": p.Cut, "datacut.mpid": p.MPID, "datacut.rules_version": kr.ref.Version, "datacut.key_fingerprint": syntheticKeyFingerprint}
	w := &syntheticTables{dir: store.TempDir(st), meta: meta, tool: tool, files: map[string]*cut.TableFile{}, rows: map[string]int64{}, kr: kr}
	defer w.discard()
	read, err := syntheticReader(defs, t, w)
	if err != nil {
		return err
	}
	for _, in := range p.Files {
		rc, err := st.Get(ctx, in.Key)
		if err != nil {
			return err
		}
		h := sha256.New()
		before := stdmaps.Clone(w.rows)
		info, err := read(in, io.TeeReader(rc, h))
		if err == nil {
			_, err = io.Copy(h, rc)
		}
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", cut.BaseName(in.Key), err)
		}
		info.Key, info.Submission, info.Size, info.SHA256 = in.Key, p.ID, in.Size, hex.EncodeToString(h.Sum(nil))
		info.Rows = map[string]int64{}
		for n, r := range w.rows {
			if d := r - before[n]; d > 0 {
				info.Rows[n] = d
			}
		}
		m.Counts["instances"] += info.Instances
		m.Counts["published"] += info.Instances
		m.Inputs = append(m.Inputs, info)
	}
	m.CutID = syntheticVersionID(m)
	prefix := cut.Prefix(p.Cut, p.MPID, m.CutID)
	for _, n := range slices.Sorted(stdmaps.Keys(w.files)) {
		f := w.files[n]
		if err := f.Close(); err != nil {
			return err
		}
		fi, err := os.Stat(f.Path)
		if err != nil {
			return err
		}
		key := cut.TableKey(prefix, n)
		if err := store.PutFile(ctx, st, key, f.Path); err != nil {
			return err
		}
		m.Tables = append(m.Tables, cut.Table{Name: n, Key: key, Rows: f.Rows, Bytes: fi.Size()})
	}
	m.Timings = cut.Timings{Started: started, Finished: time.Now().UTC()}
	m.Timings.Seconds = m.Timings.Finished.Sub(started).Seconds()
	if err := cut.WriteManifest(ctx, st, prefix, m); err != nil {
		return err
	}
	return cut.WriteLatest(ctx, st, p.Cut, p.MPID, cut.LatestRef(m))
}

// syntheticVersionID identifies a version by what made it, as datacut
// run's ids do: cut, MPID, rules, submission and its parts.
func syntheticVersionID(m *cut.Manifest) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s\n", m.Cut, m.MPID, m.Rules.Hash, m.KeyFingerprint)
	fmt.Fprintf(h, "v%d|%s|%s\n", m.Version, m.Submission.ID, m.Submission.SHA256)
	for _, in := range m.Inputs {
		fmt.Fprintf(h, "%s|%s\n", in.Name(), in.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// syntheticReader is the cut type's reader of one file into w, by its
// input format (as datacut run's formats read them).
func syntheticReader(defs fs.FS, t *cut.Type, w *syntheticTables) (func(store.Info, io.Reader) (cut.Input, error), error) {
	cat := dflow.DefaultCatalog()
	switch t.Input.Format {
	case "dflow":
		enc, err := dflow.ParseEncoding(t.Input.Encoding)
		if err != nil {
			return nil, err
		}
		w.resolve = cat.Item
		return func(in store.Info, src io.Reader) (cut.Input, error) { return w.readDflow(t, enc, in, src) }, nil
	case "ees-csv":
		cols, err := ees.LoadColumnsFS(defs, t.Input.Columns, cat)
		if err != nil {
			return nil, err
		}
		w.resolve = func(ref string) *dflow.Item {
			if it := cat.Item(ref); it != nil {
				return it
			}
			return cols.Extra[ref]
		}
		return func(in store.Info, src io.Reader) (cut.Input, error) { return w.readEES(cols, in, src) }, nil
	}
	return nil, fmt.Errorf("input format %q: the top-up cannot publish it", t.Input.Format)
}

// syntheticBuffer is the write buffer of a synthetic table: a cut has a
// table per record group, each of a few thousand rows at most.
const syntheticBuffer = 64 << 10

// syntheticTables are a cut's tables being written.
type syntheticTables struct {
	dir, tool string
	meta      map[string]string
	files     map[string]*cut.TableFile
	rows      map[string]int64
	kr        *keylessRules
	resolve   func(ref string) *dflow.Item
}

// write puts the keyless methods' values into rec (its ownership passes)
// and appends it to its table.
func (w *syntheticTables) write(name string, rec arrow.Record) error {
	out, err := w.kr.apply(rec, w.resolve)
	rec.Release()
	if err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	defer out.Release()
	f := w.files[name]
	if f == nil {
		if f, err = cut.CreateTableFileBuffer(w.dir, name, out.Schema(), w.meta, w.tool, syntheticBuffer); err != nil {
			return err
		}
		w.files[name] = f
	}
	if !f.Schema.Equal(out.Schema()) {
		return fmt.Errorf("table %s: a file's columns differ from the cut's earlier files'", name)
	}
	if err := f.Write(out); err != nil {
		return err
	}
	w.rows[name] = f.Rows
	return nil
}

func (w *syntheticTables) discard() {
	for _, f := range w.files {
		f.Discard()
	}
}

// invalid is the error of a generated file that does not validate.
func invalid(what string, fs []dflow.Finding) error {
	msg := what
	if len(fs) > 0 {
		msg += ": " + fs[0].String()
	}
	return fmt.Errorf("%s (a fault of the generator, please report it)", msg)
}

func (w *syntheticTables) readDflow(t *cut.Type, enc dflow.Encoding, in store.Info, src io.Reader) (cut.Input, error) {
	var info cut.Input
	rd := dflow.NewReader(src, in.Key, dflow.Options{Encoding: enc})
	h, err := rd.Header()
	if err != nil {
		return info, err
	}
	if !slices.Contains(t.Input.Flows, h.Flow) {
		return info, fmt.Errorf("flow %s is not one of cut %s's", h.Flow, t.Name)
	}
	info.Flow, info.FileID, info.ToRole, info.ToMPID = rd.Flow().Key(), h.FileID, h.ToRole, h.ToMPID
	b := dflow.NewArrowBuilder(rd.Flow())
	defer b.Release()
	emit := func(g *dflow.Group, rec arrow.Record) error { return w.write(cut.TableName(g), rec) }
	for {
		inst, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return info, err
		}
		if inst.Rejected() {
			return info, invalid(fmt.Sprintf("instance %d does not validate", inst.Ordinal), inst.Findings)
		}
		info.Instances++
		if err := b.Append(h.FileID, inst); err != nil {
			return info, err
		}
		if err := b.Flush(cut.RowGroupRows, emit); err != nil {
			return info, err
		}
	}
	if err := b.Flush(0, emit); err != nil {
		return info, err
	}
	for _, f := range rd.FileFindings() {
		if f.Severity == dflow.SevError && f.Rule != dflow.RuleUnresolvedFormat {
			return info, invalid("the file does not validate", []dflow.Finding{f})
		}
	}
	return info, nil
}

func (w *syntheticTables) readEES(cols *ees.Columns, in store.Info, src io.Reader) (cut.Input, error) {
	info := cut.Input{Flow: "EES", FileID: cut.BaseName(in.Key)}
	rd := ees.NewReader(src, in.Key, cols, w.resolve)
	cs, err := rd.Columns()
	if err != nil {
		return info, err
	}
	b := ees.NewArrowBuilder(cs)
	defer b.Release()
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return info, err
		}
		if row.Rejected() {
			return info, invalid(fmt.Sprintf("row %d does not validate", row.Ordinal), row.Findings)
		}
		info.Instances++
		if err := b.Append(info.FileID, row); err != nil {
			return info, err
		}
		if b.Rows() >= cut.RowGroupRows {
			if err := w.write(ees.Table, b.Record()); err != nil {
				return info, err
			}
		}
	}
	if b.Rows() > 0 {
		if err := w.write(ees.Table, b.Record()); err != nil {
			return info, err
		}
	}
	for _, f := range rd.FileFindings() {
		if f.Severity == dflow.SevError && f.Rule != dflow.RuleUnresolvedFormat {
			return info, invalid("the file does not validate", []dflow.Finding{f})
		}
	}
	return info, nil
}

// The DPIA methods (internal/mask) a synthetic record's published form
// depends on. The keyed ones (mpan, identifier, fake) and keep publish a
// made-up value as it is; the keyless ones publish what the masker does.
var (
	asGenerated = map[string]bool{"keep": true, "mpan": true, "identifier": true, "fake": true}
	keyless     = map[string]bool{"constant": true, "redact": true, "blank": true}
)

// keylessRules is what a DPIA rule set (pipelines/dpia.yaml) says of each
// item: its domain's method, and its constant value if it has one. Only
// that is read: internal/mask lints the whole file wherever it is loaded
// (datacut lint, every datacut run).
type keylessRules struct {
	ref   cut.RulesRef
	items map[string]keylessRule
}

type keylessRule struct {
	method string
	value  *string
}

func loadKeylessRules(defs fs.FS, path string) (*keylessRules, error) {
	b, err := fs.ReadFile(defs, path)
	if err != nil {
		return nil, fmt.Errorf("reading the rule set: %w", err)
	}
	var f struct {
		Version string `yaml:"version"`
		Domains map[string]struct {
			Method string `yaml:"method"`
		} `yaml:"domains"`
		Items map[string]yaml.Node `yaml:"items"` // a domain name or {domain: ..., value: ...}
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sum := sha256.Sum256(b)
	kr := &keylessRules{ref: cut.RulesRef{Path: path, Version: f.Version, Hash: "sha256:" + hex.EncodeToString(sum[:])}, items: map[string]keylessRule{}}
	for ref, n := range f.Items {
		var spec struct {
			Domain string  `yaml:"domain"`
			Value  *string `yaml:"value"`
		}
		if n.Kind == yaml.ScalarNode {
			spec.Domain = n.Value
		} else if err := n.Decode(&spec); err != nil {
			return nil, fmt.Errorf("%s: item %s: %w", path, ref, err)
		}
		d, ok := f.Domains[spec.Domain]
		if !ok {
			return nil, fmt.Errorf("%s: item %s: unknown domain %q", path, ref, spec.Domain)
		}
		kr.items[ref] = keylessRule{method: d.Method, value: spec.Value}
	}
	return kr, nil
}

// syntheticLineage are the lineage columns: kept, but for the instance's
// MPAN, which is masked as an MPAN core (J0003), as the masker does.
var syntheticLineage = map[string]string{
	dflow.ColSourceFileID: "", dflow.ColRecordLine: "", dflow.ColParentLine: "", dflow.ColInstance: "", dflow.ColInstanceMPAN: "J0003",
}

// apply is rec with every column of a keyless method's item holding what
// that method publishes; other columns are shared. The caller releases
// both records.
func (kr *keylessRules) apply(rec arrow.Record, resolve func(string) *dflow.Item) (arrow.Record, error) {
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, f := range rec.Schema().Fields() {
		col := rec.Column(i)
		ref, isLineage := syntheticLineage[f.Name]
		if !isLineage {
			var ok bool
			if ref, ok = f.Metadata.GetValue(dflow.MetaRef); !ok {
				return nil, fmt.Errorf("column %s has no %s metadata: cannot tell how to publish it", f.Name, dflow.MetaRef)
			}
		}
		if ref == "" {
			col.Retain()
			cols[i] = col
			continue
		}
		r, ok := kr.items[ref]
		it := resolve(ref)
		switch {
		case !ok:
			return nil, fmt.Errorf("column %s (%s) has no masking rule in %s", f.Name, ref, kr.ref.Path)
		case it == nil:
			return nil, fmt.Errorf("column %s: %s is not a data item", f.Name, ref)
		case asGenerated[r.method]:
			col.Retain()
			cols[i] = col
		case r.method == "blank":
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, col.DataType(), col.Len())
		case keyless[r.method]:
			c, err := keylessColumn(r, it, col)
			if err != nil {
				return nil, fmt.Errorf("column %s (%s): %w", f.Name, ref, err)
			}
			cols[i] = c
		default:
			return nil, fmt.Errorf("column %s (%s): the top-up does not know how method %s publishes a made-up value", f.Name, ref, r.method)
		}
	}
	return array.NewRecord(rec.Schema(), cols, rec.NumRows()), nil
}

// keylessColumn is col with each value replaced as the masker replaces it
// (internal/mask, Session.column): a string column's nulls and empty
// values stay, a typed column (a date, a number) gets the constant parsed
// as its type.
func keylessColumn(r keylessRule, it *dflow.Item, col arrow.Array) (arrow.Array, error) {
	var v string
	switch {
	case r.method == "redact":
		width := 0
		if it.Format.Kind == dflow.KindChar {
			width = it.Format.Width
		}
		v = dflow.Redacted(width)
	case r.value != nil:
		v = *r.value
	default:
		v = it.Dummy()
	}
	out := columns.New(col.DataType())
	defer out.Discard()
	if s, ok := col.(*array.String); ok {
		for j := 0; j < s.Len(); j++ {
			switch {
			case s.IsNull(j):
				out.AppendNull()
			case s.Value(j) == "":
				out.Bytes(nil)
			default:
				out.Bytes([]byte(v))
			}
		}
		return out.NewArray(), nil
	}
	if r.method != "constant" {
		return nil, fmt.Errorf("method %s cannot publish a %s column", r.method, col.DataType())
	}
	fd := &dflow.Field{Ref: it.Ref, Format: it.Format, Item: it}
	for j := 0; j < col.Len(); j++ {
		val := []byte(v)
		if col.IsNull(j) {
			val = nil
		}
		if err := dflow.AppendValue(out, fd, val); err != nil {
			return nil, err
		}
	}
	return out.NewArray(), nil
}
