package dflow

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"

	"github.com/mhhs-sit/datacut/internal/columns"
)

// Lineage columns lead every group table: they tie a row back to its
// source file, line and instance, and let Arrow tables be rendered back
// into a D-flow.
const (
	ColSourceFileID = "source_file_id"
	ColRecordLine   = "record_line"
	ColParentLine   = "parent_line"
	ColInstance     = "instance"
	ColInstanceMPAN = "instance_mpan_core"
	lineageCols     = 5
)

// Metadata keys on schemas and fields.
const (
	MetaFlow       = "dtc.flow"
	MetaVersion    = "dtc.version"
	MetaGroup      = "dtc.group"
	MetaGroupName  = "dtc.group_name"
	MetaDTCVersion = "dtc.catalogue"
	MetaRef        = "dtc.ref"
	MetaName       = "dtc.name"
	MetaFormat     = "dtc.format"
)

// ColumnName derives a snake_case column name from a DTC item name:
// "Effective from Settlement Date {MSMTD}" -> effective_from_settlement_date_msmtd.
func ColumnName(name string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) && r < unicode.MaxASCII || unicode.IsDigit(r) {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		} else {
			under = true
		}
	}
	s := b.String()
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "c_" + s
	}
	return s
}

// ColumnNames returns the data column names of a group, in field order,
// unique within the group and distinct from the lineage columns.
func (g *Group) ColumnNames() []string {
	taken := map[string]bool{ColSourceFileID: true, ColRecordLine: true, ColParentLine: true, ColInstance: true, ColInstanceMPAN: true}
	names := make([]string, len(g.Fields))
	for i, f := range g.Fields {
		n := ColumnName(f.Name)
		if taken[n] {
			n += "_" + strings.ToLower(f.Ref)
		}
		taken[n] = true
		names[i] = n
	}
	return names
}

// ArrowType is the Arrow type of a field's column.
func (f *Field) ArrowType() arrow.DataType {
	switch f.Item.Type {
	case TypeInt64:
		return arrow.PrimitiveTypes.Int64
	case TypeDecimal:
		p := int32(max(f.Format.Width, f.Item.Format.Width, f.Format.Scale+1, 1))
		return &arrow.Decimal128Type{Precision: min(p, 38), Scale: int32(f.Format.Scale)}
	case TypeDate:
		return arrow.FixedWidthTypes.Date32
	case TypeTimestamp:
		return &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}
	case TypeBool:
		return arrow.FixedWidthTypes.Boolean
	}
	return arrow.BinaryTypes.String
}

// Schema returns the Arrow schema of the group's table: lineage columns,
// then one typed column per data item with its J-ref, DTC name and format
// in field metadata. A child group's parent_line is never null (a record
// out of place is rejected), so it is not nullable: the writer can then
// delta-encode it.
func (g *Group) Schema() *arrow.Schema {
	md := arrow.NewMetadata(
		[]string{MetaFlow, MetaVersion, MetaGroup, MetaGroupName},
		[]string{g.Flow.ID, g.Flow.Version, g.Code, g.Name})
	return tableSchema(g.ColumnNames(), g.Fields, md, g.ParentG == nil)
}

// TableSchema is the schema of a table of data items: the lineage columns,
// then a typed column per field, named by names, with the item's J-ref,
// DTC name and format in field metadata.
func TableSchema(names []string, fields []Field, md arrow.Metadata) *arrow.Schema {
	return tableSchema(names, fields, md, true)
}

func tableSchema(names []string, fields []Field, md arrow.Metadata, topLevel bool) *arrow.Schema {
	cols := []arrow.Field{
		{Name: ColSourceFileID, Type: arrow.BinaryTypes.String},
		{Name: ColRecordLine, Type: arrow.PrimitiveTypes.Int64},
		{Name: ColParentLine, Type: arrow.PrimitiveTypes.Int64, Nullable: topLevel},
		{Name: ColInstance, Type: arrow.PrimitiveTypes.Int64},
		{Name: ColInstanceMPAN, Type: arrow.BinaryTypes.String, Nullable: true},
	}
	for i, n := range names {
		f := &fields[i]
		cols = append(cols, arrow.Field{Name: n, Type: f.ArrowType(), Nullable: true,
			Metadata: arrow.NewMetadata([]string{MetaRef, MetaName, MetaFormat}, []string{f.Ref, f.Name, f.Format.String()})})
	}
	return arrow.NewSchema(cols, &md)
}

// AppendLineage appends the lineage columns of one row to the first
// LineageColumns columns of a TableSchema; parentLine 0 and an empty MPAN
// append nulls.
func AppendLineage(cols []*columns.Column, fileID string, line, parentLine, instance int, mpan []byte) {
	cols[0].Bytes(unsafe.Slice(unsafe.StringData(fileID), len(fileID)))
	cols[1].Int64(int64(line))
	if parentLine > 0 {
		cols[2].Int64(int64(parentLine))
	} else {
		cols[2].AppendNull()
	}
	cols[3].Int64(int64(instance))
	if len(mpan) > 0 {
		cols[4].Bytes(mpan)
	} else {
		cols[4].AppendNull()
	}
}

// LineageColumns is the number of lineage columns before the data columns.
const LineageColumns = lineageCols

// TableBuilder collects the rows of one TableSchema.
type TableBuilder struct {
	schema *arrow.Schema
	cols   []*columns.Column
}

// NewTableBuilder returns a builder for a TableSchema.
func NewTableBuilder(schema *arrow.Schema) *TableBuilder {
	t := &TableBuilder{schema: schema}
	for _, f := range schema.Fields() {
		t.cols = append(t.cols, columns.New(f.Type))
	}
	return t
}

// Schema is the builder's schema.
func (t *TableBuilder) Schema() *arrow.Schema { return t.schema }

// Columns are the builder's columns, in schema order.
func (t *TableBuilder) Columns() []*columns.Column { return t.cols }

// Rows is the number of rows buffered.
func (t *TableBuilder) Rows() int { return t.cols[0].Len() }

// NewRecord returns the buffered rows (the caller releases the record).
func (t *TableBuilder) NewRecord() arrow.Record {
	arrs := make([]arrow.Array, len(t.cols))
	for i, c := range t.cols {
		arrs[i] = c.NewArray()
	}
	rec := array.NewRecord(t.schema, arrs, int64(arrs[0].Len()))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// Release drops rows not yet taken.
func (t *TableBuilder) Release() {
	for _, c := range t.cols {
		c.Discard()
	}
}

// ArrowBuilder converts validated instances of one flow into one Arrow
// table per group. Not safe for concurrent use.
type ArrowBuilder struct {
	flow   *Flow
	tables []*TableBuilder // per Group.idx, created on first use
}

// NewArrowBuilder returns a builder for the flow.
func NewArrowBuilder(flow *Flow) *ArrowBuilder {
	return &ArrowBuilder{flow: flow, tables: make([]*TableBuilder, len(flow.Groups))}
}

// Append adds an instance's records. Pass only instances without errors:
// a value that does not parse returns an error naming line and item.
func (b *ArrowBuilder) Append(fileID string, in *Instance) error {
	for _, rec := range in.Records {
		g := rec.Group
		if g == nil || g.Flow != b.flow {
			return fmt.Errorf("line %d: group %s is not part of %s", rec.Line, rec.Code, b.flow.Key())
		}
		tb := b.tables[g.idx]
		if tb == nil {
			tb = NewTableBuilder(g.Schema())
			b.tables[g.idx] = tb
		}
		if g.ParentG != nil && rec.ParentLine <= 0 {
			return fmt.Errorf("line %d: group %s has no parent record", rec.Line, g.Code)
		}
		cols := tb.cols
		AppendLineage(cols, fileID, rec.Line, rec.ParentLine, in.Ordinal, in.MPAN)
		for i := range g.Fields {
			var v []byte
			if i < len(rec.Fields) {
				v = rec.Fields[i]
			}
			if err := AppendValue(cols[lineageCols+i], &g.Fields[i], v); err != nil {
				return fmt.Errorf("line %d group %s item %s: %w", rec.Line, g.Code, g.Fields[i].Ref, err)
			}
		}
	}
	return nil
}

// Rows is the number of rows buffered for the group.
func (b *ArrowBuilder) Rows(g *Group) int {
	if tb := b.tables[g.idx]; tb != nil {
		return tb.Rows()
	}
	return 0
}

// Flush hands every group with at least minRows buffered rows to emit as
// one record (in catalogue group order); emit owns and must release it.
func (b *ArrowBuilder) Flush(minRows int, emit func(g *Group, rec arrow.Record) error) error {
	for i, tb := range b.tables {
		if tb == nil || tb.Rows() == 0 || tb.Rows() < minRows {
			continue
		}
		if err := emit(b.flow.Groups[i], tb.NewRecord()); err != nil {
			return err
		}
	}
	return nil
}

// Release drops rows not yet flushed; the builder stays usable.
func (b *ArrowBuilder) Release() {
	for _, tb := range b.tables {
		if tb != nil {
			tb.Release()
		}
	}
}

// AppendValue appends DTC text v (valid for the field) to a column of the
// field's ArrowType; empty appends null.
func AppendValue(c *columns.Column, f *Field, v []byte) error {
	if len(v) == 0 {
		c.AppendNull()
		return nil
	}
	switch c.ID() {
	case arrow.STRING:
		c.Bytes(v)
	case arrow.INT64:
		n, ok := parseInt(v)
		if !ok {
			return fmt.Errorf("not an integer")
		}
		c.Int64(n)
	case arrow.DECIMAL128:
		n, err := parseDecimal(v, f.Format.Scale, c.Type().(*arrow.Decimal128Type).Precision)
		if err != nil {
			return err
		}
		c.Decimal(n)
	case arrow.DATE32:
		days, _, ok := parseDigitsTime(v)
		if !ok || len(v) != 8 {
			return fmt.Errorf("not a DATE")
		}
		c.Int32(int32(days))
	case arrow.TIMESTAMP:
		days, secs, ok := parseDigitsTime(v)
		if !ok || len(v) != 14 {
			return fmt.Errorf("not a DATETIME")
		}
		c.Int64(days*86400 + secs)
	case arrow.BOOL:
		if len(v) != 1 || (v[0] != 'T' && v[0] != 'F') {
			return fmt.Errorf("not a BOOLEAN")
		}
		c.Bool(v[0] == 'T')
	default:
		return fmt.Errorf("unsupported column type %s", c.Type())
	}
	return nil
}

// DateDays is the day number of a valid DATE (ccyymmdd) as a date32
// column holds it, days since 1970-01-01; ok is false for anything else.
// It is AppendValue's parse, for a reader that validates and converts a
// date in one step.
func DateDays(v []byte) (days int32, ok bool) {
	if len(v) != 8 {
		return 0, false
	}
	d, _, ok := parseDigitsTime(v)
	return int32(d), ok
}

// parseInt reads an optionally signed decimal integer that fits int64.
func parseInt(v []byte) (int64, bool) {
	neg := false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg, v = v[0] == '-', v[1:]
	}
	if len(v) == 0 || len(v) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if u > 1<<63-1 && !(neg && u == 1<<63) {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

// parseDigitsTime reads ccyymmdd or ccyymmddhhmmss as days since the Unix
// epoch and seconds into the day.
func parseDigitsTime(v []byte) (days, secs int64, ok bool) {
	if (len(v) != 8 && len(v) != 14) || !isDigits(v) || !validDate(v[:8]) {
		return 0, 0, false
	}
	y, mo, d := num2(v)*100+num2(v[2:]), num2(v[4:]), num2(v[6:])
	if len(v) == 14 {
		if !validClock(v[8:]) {
			return 0, 0, false
		}
		secs = int64(num2(v[8:])*3600 + num2(v[10:])*60 + num2(v[12:]))
	}
	return daysFromCivil(y, mo, d), secs, true
}

// daysFromCivil counts days from 1970-01-01 to a proleptic Gregorian date
// (H. Hinnant's algorithm): what time.Date does, without its normalising.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if y < 0 {
		era -= 399 // floor division: 0000-01-01 is in year -1's March-based year
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}

// parseDecimal parses a DTC number into an unscaled decimal at scale.
func parseDecimal(v []byte, scale int, prec int32) (decimal128.Num, error) {
	neg := false
	s := v
	if s[0] == '-' || s[0] == '+' {
		neg, s = s[0] == '-', s[1:]
	}
	var u uint64
	digits, decimals, point := 0, 0, false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			if point {
				decimals++
			}
			digits++
			if u > (1<<63-1)/10 {
				return decimal128.FromString(string(v), prec, int32(scale))
			}
			u = u*10 + uint64(c-'0')
		case c == '.' && !point:
			point = true
		default:
			return decimal128.Num{}, fmt.Errorf("not a number")
		}
	}
	if digits == 0 || decimals > scale {
		return decimal128.Num{}, fmt.Errorf("not a number with at most %d decimals", scale)
	}
	n := decimal128.FromU64(u)
	for ; decimals < scale; decimals++ {
		n = n.Mul(decimal128.FromU64(10))
	}
	if neg {
		n = n.Negate()
	}
	return n, nil
}

// formatDecimal renders an unscaled decimal with exactly scale decimals.
func formatDecimal(dst []byte, n decimal128.Num, scale int) []byte {
	neg := n.Sign() < 0
	if neg {
		n = n.Negate()
		dst = append(dst, '-')
	}
	var digits []byte
	if n.HighBits() == 0 {
		digits = strconv.AppendUint(nil, n.LowBits(), 10)
	} else {
		digits = []byte(n.BigInt().String())
	}
	for len(digits) <= scale {
		digits = append([]byte{'0'}, digits...)
	}
	ip := len(digits) - scale
	dst = append(dst, digits[:ip]...)
	if scale > 0 {
		dst = append(dst, '.')
		dst = append(dst, digits[ip:]...)
	}
	return dst
}

// AppendText renders row i of a data column back to DTC text (canonical
// form); a null renders as empty.
func AppendText(dst []byte, col arrow.Array, i int) []byte {
	if col.IsNull(i) {
		return dst
	}
	switch a := col.(type) {
	case *array.String:
		return append(dst, a.Value(i)...)
	case *array.Int64:
		return strconv.AppendInt(dst, a.Value(i), 10)
	case *array.Decimal128:
		return formatDecimal(dst, a.Value(i), int(a.DataType().(*arrow.Decimal128Type).Scale))
	case *array.Date32:
		return a.Value(i).ToTime().AppendFormat(dst, "20060102")
	case *array.Timestamp:
		return time.Unix(int64(a.Value(i)), 0).UTC().AppendFormat(dst, "20060102150405")
	case *array.Boolean:
		if a.Value(i) {
			return append(dst, 'T')
		}
		return append(dst, 'F')
	}
	return append(dst, col.ValueStr(i)...)
}

// TableGroup is the group whose rows a table holds, read from the schema
// metadata that Group.Schema writes; nil for tables of no catalogue flow
// (the EES portfolio, say).
func (c *Catalog) TableGroup(s *arrow.Schema) *Group {
	md := s.Metadata()
	flow, _ := md.GetValue(MetaFlow)
	version, _ := md.GetValue(MetaVersion)
	code, _ := md.GetValue(MetaGroup)
	if f := c.Flow(flow, version); f != nil {
		return f.Group(code)
	}
	return nil
}
