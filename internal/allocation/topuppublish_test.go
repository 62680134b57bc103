package allocation

import (
	"context"
	"io/fs"
	stdmaps "maps"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/dflow"
	"github.com/mhhs-sit/datacut/internal/mask"
	"github.com/mhhs-sit/datacut/internal/pipeline"
	"github.com/mhhs-sit/datacut/internal/programme"
	"github.com/mhhs-sit/datacut/internal/store/local"
	"github.com/mhhs-sit/datacut/internal/synth"
	"github.com/mhhs-sit/datacut/pipelines"
)

// keyedDomain is a DPIA domain line of a keyed method (or keep).
var keyedDomain = regexp.MustCompile(`(?m)^(\s*[a-z_]+:\s*)\{\s*method:\s*(mpan|identifier|fake)\b[^}]*\}`)

// passThrough is the built-in definitions with every keyed method's
// domain kept as it comes (keyless ones as they are), and without the
// programme register: what datacut run publishes from made-up records
// that need no key.
func passThrough(t *testing.T) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(pipelines.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(pipelines.FS, path)
		out[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	delete(out, programme.File)
	f := out[pipeline.DefaultRules]
	if n := len(keyedDomain.FindAll(f.Data, -1)); n < 10 {
		t.Fatalf("%s: %d keyed domains found, the test expects the built-in rule set's", pipeline.DefaultRules, n)
	}
	f.Data = keyedDomain.ReplaceAll(f.Data, []byte("${1}{method: keep}"))
	return out
}

// The synthetic units' tables, written straight (publishSynthetic), are
// those datacut run publishes from the same files when every keyed
// method keeps its values: the same cuts, tables, columns and values, the
// keyless methods' (constant, redact) included.
func TestSyntheticTablesAreWhatThePipelinePublishes(t *testing.T) {
	ctx := context.Background()
	s := synth.NewSampler(11)
	var points []*synth.Point
	for i := range 40 {
		points = append(points, s.Point(i))
	}
	types, err := cut.LoadTypes(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	direct, err := local.Open(dirA)
	if err != nil {
		t.Fatal(err)
	}
	viaPipeline, err := local.Open(dirB)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*local.Store{direct, viaPipeline} {
		if err := synth.WritePoints(ctx, st, 11, points, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := publishSynthetic(ctx, direct, pipelines.FS, types, "test"); err != nil {
		t.Fatal(err)
	}
	set, err := pipeline.Load(passThrough(t))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := mask.ParseKey("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	sum, err := pipeline.Run(ctx, pipeline.Options{Store: viaPipeline, Pipelines: set, Key: key, Log: zerolog.Nop(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rejected, quarantined := sum.Totals(); rejected+quarantined > 0 {
		t.Fatalf("the pipeline rejected %d instances and quarantined %d files", rejected, quarantined)
	}
	keyless := map[string]bool{} // items of constant and redact domains
	kr, err := loadKeylessRules(pipelines.FS, pipeline.DefaultRules)
	if err != nil {
		t.Fatal(err)
	}
	for ref, r := range kr.items {
		if r.method == "constant" || r.method == "redact" {
			keyless[ref] = true
		}
	}
	cuts, values, keylessValues := 0, 0, 0
	for _, ty := range types {
		for _, mpid := range mpidsOf(t, dirB, ty.Name) {
			b, err := cut.LatestManifest(ctx, viaPipeline, ty.Name, mpid)
			if err != nil {
				t.Fatal(err)
			}
			a, err := cut.LatestManifest(ctx, direct, ty.Name, mpid)
			if err != nil {
				t.Fatalf("%s's %s cut: published by the pipeline, not directly: %v", mpid, ty.Name, err)
			}
			cuts++
			if a.Version != b.Version || a.AsAt != b.AsAt || a.Submission != b.Submission || len(a.Inputs) != len(b.Inputs) {
				t.Errorf("%s/%s: manifest version %d as at %s of %v (%d inputs), the pipeline's %d as at %s of %v (%d inputs)",
					ty.Name, mpid, a.Version, a.AsAt, a.Submission, len(a.Inputs), b.Version, b.AsAt, b.Submission, len(b.Inputs))
			}
			for i := range min(len(a.Inputs), len(b.Inputs)) {
				x, y := a.Inputs[i], b.Inputs[i]
				if x.Key != y.Key || x.SHA256 != y.SHA256 || x.Flow != y.Flow || x.FileID != y.FileID || x.Instances != y.Instances || !stdmaps.Equal(x.Rows, y.Rows) {
					t.Errorf("%s/%s input %d: %+v, the pipeline's %+v", ty.Name, mpid, i, x, y)
				}
			}
			names := func(m *cut.Manifest) (out []string) {
				for _, tb := range m.Tables {
					out = append(out, tb.Name)
				}
				return out
			}
			if !slices.Equal(names(a), names(b)) {
				t.Errorf("%s/%s: tables %v, the pipeline's %v", ty.Name, mpid, names(a), names(b))
				continue
			}
			for i, tb := range a.Tables {
				if tb.Rows != b.Tables[i].Rows {
					t.Errorf("%s/%s %s: %d rows, the pipeline's %d", ty.Name, mpid, tb.Name, tb.Rows, b.Tables[i].Rows)
				}
				ta := readTable(t, filepath.Join(dirA, filepath.FromSlash(tb.Key)))
				tbB := readTable(t, filepath.Join(dirB, filepath.FromSlash(b.Tables[i].Key)))
				v, k := compareTables(t, ty.Name+"/"+mpid+" "+tb.Name, ta, tbB, keyless)
				values, keylessValues = values+v, keylessValues+k
				ta.Release()
				tbB.Release()
			}
		}
	}
	t.Logf("%d cuts, %d values compared, %d of them of constant or redact items", cuts, values, keylessValues)
	if cuts < 4 || keylessValues == 0 {
		t.Fatalf("compared %d cuts and %d values of constant or redact items: the test needs more", cuts, keylessValues)
	}
}

// mpidsOf lists the MPIDs with a published cut of the type in a local
// store's directory.
func mpidsOf(t *testing.T, dir, cutType string) []string {
	t.Helper()
	var out []string
	for _, d := range globAll(dir, cut.TypeRoot(cutType)+"mpid=*") {
		out = append(out, filepath.Base(d)[len("mpid="):])
	}
	return out
}

// compareTables compares two tables' columns (names, types, metadata) and
// values, as text, and counts the non-null values compared, and those of
// the keyless items.
func compareTables(t *testing.T, what string, a, b arrow.Table, keyless map[string]bool) (values, keylessValues int) {
	t.Helper()
	fa, fb := a.Schema().Fields(), b.Schema().Fields()
	if len(fa) != len(fb) {
		t.Errorf("%s: %d columns, the pipeline's %d", what, len(fa), len(fb))
		return
	}
	for i := range fa {
		if fa[i].Name != fb[i].Name || !arrow.TypeEqual(fa[i].Type, fb[i].Type) || !fa[i].Metadata.Equal(fb[i].Metadata) {
			t.Errorf("%s: column %d is %s, the pipeline's %s", what, i, fa[i], fb[i])
			continue
		}
		ref, _ := fa[i].Metadata.GetValue(dflow.MetaRef)
		va, vb := textsOf(a.Column(i)), textsOf(b.Column(i))
		if len(va) != len(vb) {
			t.Errorf("%s %s: %d values, the pipeline's %d", what, fa[i].Name, len(va), len(vb))
			continue
		}
		bad := 0
		for j := range va {
			if va[j] != vb[j] {
				if bad++; bad <= 3 {
					t.Errorf("%s %s row %d: %q, the pipeline's %q", what, fa[i].Name, j, va[j], vb[j])
				}
			} else if va[j] != "<null>" {
				values++
				if keyless[ref] {
					keylessValues++
				}
			}
		}
	}
	return values, keylessValues
}

// textsOf is a column's values as DTC text, "<null>" for nulls.
func textsOf(col *arrow.Column) []string {
	var out []string
	for _, ch := range col.Data().Chunks() {
		for j := 0; j < ch.Len(); j++ {
			if ch.IsNull(j) {
				out = append(out, "<null>")
			} else {
				out = append(out, string(dflow.AppendText(nil, ch, j)))
			}
		}
	}
	return out
}

// The keyless methods' columns hold what the masker publishes, value by
// value (empty values and nulls too), whatever the records held; other
// columns are as generated.
func TestKeylessColumnsAreTheMaskers(t *testing.T) {
	set, err := pipeline.Load(pipelines.FS)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := mask.ParseKey("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	mk, err := mask.New(set.Rules(pipeline.DefaultRules), key, set.Resolver())
	if err != nil {
		t.Fatal(err)
	}
	kr, err := loadKeylessRules(pipelines.FS, pipeline.DefaultRules)
	if err != nil {
		t.Fatal(err)
	}
	// Every item of a constant or redact domain (dummies, rule values,
	// valid sets, widths), and a meter serial (identifier: as generated).
	var refs []string
	for ref, r := range kr.items {
		if r.method == "constant" || r.method == "redact" {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	refs = append(refs, "J0004")
	resolve := set.Resolver()
	fields := []arrow.Field{{Name: dflow.ColSourceFileID, Type: arrow.BinaryTypes.String}}
	for _, ref := range refs {
		it := resolve(ref)
		fd := dflow.Field{Ref: ref, Format: it.Format, Item: it}
		fields = append(fields, arrow.Field{Name: ref, Type: fd.ArrowType(), Nullable: true, Metadata: arrow.NewMetadata([]string{dflow.MetaRef}, []string{ref})})
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	typed := 0
	for _, v := range []string{"a long free text value that goes on and on", "", "<null>", "01", "x"} {
		b.Field(0).(*array.StringBuilder).Append("f1")
		for i := range refs {
			if sb, ok := b.Field(i + 1).(*array.StringBuilder); ok {
				if v == "<null>" {
					sb.AppendNull()
				} else {
					sb.Append(v)
				}
				continue
			}
			// A typed column (none in the built-in rules): nulls only.
			typed++
			b.Field(i + 1).AppendNull()
		}
	}
	t.Logf("%d items of constant or redact domains; %d typed values (null)", len(refs)-1, typed)
	rec := b.NewRecord()
	defer rec.Release()
	got, err := kr.apply(rec, resolve)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	want, err := mk.Record(rec, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Release()
	for i, ref := range refs {
		col := i + 1
		g, w, in := textsOfArray(got.Column(col)), textsOfArray(want.Column(col)), textsOfArray(rec.Column(col))
		if ref == "J0004" {
			w = in // identifier: as generated
		}
		if !slices.Equal(g, w) {
			t.Errorf("%s (%s): %q, want %q (from %q)", ref, kr.items[ref].method, g, w, in)
		}
	}
}

func textsOfArray(a arrow.Array) []string {
	c := arrow.NewColumnFromArr(arrow.Field{Name: "x", Type: a.DataType()}, a)
	defer c.Release()
	return textsOf(&c)
}
