package pqwrite

import (
	"bytes"
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/thrift/lib/go/thrift"
)

// footer is a file's row groups' metadata, each encoded (Thrift compact,
// as the footer holds it) when its group was written. Arrow's
// FileMetaDataBuilder keeps every row group's metadata as Go structs until
// the file closes, about 600 bytes a column chunk: a table of 10^8 rows
// (1,600 row groups) held tens of MB of them while it was written, a
// quarter of that as bytes.
type footer struct {
	rowGroups int
	rows      int64
	encoded   []byte // the row_groups list's elements, in order
}

// add encodes the one row group of fb, which is finished.
func (f *footer) add(fb *metadata.FileMetaDataBuilder) error {
	fm, err := fb.Finish()
	if err != nil {
		return err
	}
	if len(fm.RowGroups) != 1 {
		return fmt.Errorf("pqwrite: a row group's builder holds %d row groups", len(fm.RowGroups))
	}
	rg := fm.RowGroups[0]
	buf := &thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(f.encoded)} // appends
	if err := rg.Write(context.Background(), thrift.NewTCompactProtocolConf(buf, nil)); err != nil {
		return err
	}
	f.encoded = buf.Bytes()
	f.rowGroups++
	f.rows += rg.NumRows
	return nil
}

// encode finishes fb, which has no row groups, and encodes the file's
// metadata with the row groups added: the bytes Arrow's builder would
// have written had it kept them.
func (f *footer) encode(fb *metadata.FileMetaDataBuilder) ([]byte, error) {
	fm, err := fb.Finish()
	if err != nil {
		return nil, err
	}
	fm.FileMetaData.NumRows = f.rows
	buf := thrift.NewTMemoryBufferLen(len(f.encoded) + 1024)
	p := &rowGroupsProtocol{TProtocol: thrift.NewTCompactProtocolConf(buf, nil), out: buf, footer: f}
	if err := fm.FileMetaData.Write(context.Background(), p); err != nil {
		return nil, err
	}
	if !p.spliced {
		return nil, fmt.Errorf("pqwrite: the file metadata had no row_groups list to fill")
	}
	return buf.Bytes(), nil
}

// rowGroupsProtocol writes FileMetaData (whose row_groups list is empty)
// through Thrift's own encoder, but gives row_groups (field 4 of the
// top-level struct) the footer's row groups, already encoded.
type rowGroupsProtocol struct {
	thrift.TProtocol
	out     *thrift.TMemoryBuffer
	footer  *footer
	depth   int   // of structs
	field   int16 // the top-level field being written
	spliced bool
}

func (p *rowGroupsProtocol) WriteStructBegin(ctx context.Context, name string) error {
	p.depth++
	return p.TProtocol.WriteStructBegin(ctx, name)
}

func (p *rowGroupsProtocol) WriteStructEnd(ctx context.Context) error {
	p.depth--
	return p.TProtocol.WriteStructEnd(ctx)
}

func (p *rowGroupsProtocol) WriteFieldBegin(ctx context.Context, name string, typeID thrift.TType, id int16) error {
	if p.depth == 1 {
		p.field = id
	}
	return p.TProtocol.WriteFieldBegin(ctx, name, typeID, id)
}

func (p *rowGroupsProtocol) WriteListBegin(ctx context.Context, elemType thrift.TType, size int) error {
	if p.depth != 1 || p.field != 4 {
		return p.TProtocol.WriteListBegin(ctx, elemType, size)
	}
	if size != 0 || elemType != thrift.STRUCT || p.spliced {
		return fmt.Errorf("pqwrite: row_groups list of %d %s to fill", size, elemType)
	}
	if err := p.TProtocol.WriteListBegin(ctx, thrift.STRUCT, p.footer.rowGroups); err != nil {
		return err
	}
	// The compact protocol writes straight to its transport: the list's
	// header is in out, and its elements follow it there.
	_, err := p.out.Write(p.footer.encoded)
	p.spliced = true
	return err
}
