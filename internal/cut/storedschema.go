package cut

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// errStoredSchema: the Arrow schema a table stores is damaged.
var errStoredSchema = errors.New("its stored Arrow schema (ARROW:schema) is damaged")

// checkStoredSchema checks the Arrow schema a Parquet file stores under
// ARROW:schema (base64 of an Arrow IPC schema message) before Arrow reads
// it. Arrow's reader sizes what it allocates by the message's own counts
// and lengths: the message length, the body length, and the vectors of
// fields, children and custom metadata. A damaged count made it allocate
// 160 GB, and a failed allocation ends the process; no recover catches
// it. So every length must fit the bytes that hold it, and fields may
// nest at most 64 deep: a damaged offset could make them a cycle.
// Bytes that are not base64, or too short to be a message, are left to
// Arrow, which refuses them with an error.
func checkStoredSchema(s string) error {
	var b []byte
	var err error
	if len(s)%4 == 0 {
		b, err = base64.StdEncoding.DecodeString(s)
	}
	if len(b) == 0 || err != nil { // as Arrow decodes it (pqarrow getOriginSchema)
		if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return nil
		}
	}
	if len(b) < 8 {
		return nil
	}
	// An IPC message: a continuation marker and a length (or, from old
	// writers, the length alone), the flatbuffer Message, then its body.
	at, n := 4, int64(int32(binary.LittleEndian.Uint32(b)))
	if binary.LittleEndian.Uint32(b) == 0xFFFFFFFF {
		at, n = 8, int64(int32(binary.LittleEndian.Uint32(b[4:])))
	}
	if n < 0 || n > int64(len(b)-at) {
		return errStoredSchema
	}
	c := &flatCheck{b: b[at : at+int(n)], budget: int(n)/4 + 1}
	msg := c.ref(0)
	if body := c.field(msg, 3); body >= 0 { // Message.bodyLength
		if l := c.i64(body); l < 0 || l > int64(len(b)-at)-n {
			return errStoredSchema
		}
	}
	c.vector(msg, 4, 4)               // Message.custom_metadata
	if h := c.field(msg, 2); h >= 0 { // Message.header: the Schema
		schema := c.ref(h)
		c.fields(schema, 1, 0) // Schema.fields
		c.vector(schema, 2, 4) // Schema.custom_metadata
	}
	if c.bad {
		return errStoredSchema
	}
	return nil
}

// flatCheck reads a flatbuffer with every position checked: bad is set by
// the first read outside the bytes, or a vector longer than they hold.
type flatCheck struct {
	b      []byte
	budget int // fields left to visit: a cycle of offsets ends
	bad    bool
}

func (c *flatCheck) u32(p int) int {
	if p < 0 || p > len(c.b)-4 {
		c.bad = true
		return 0
	}
	return int(binary.LittleEndian.Uint32(c.b[p:]))
}

func (c *flatCheck) u16(p int) int {
	if p < 0 || p > len(c.b)-2 {
		c.bad = true
		return 0
	}
	return int(binary.LittleEndian.Uint16(c.b[p:]))
}

func (c *flatCheck) i64(p int) int64 {
	if p < 0 || p > len(c.b)-8 {
		c.bad = true
		return 0
	}
	return int64(binary.LittleEndian.Uint64(c.b[p:]))
}

// ref follows the offset at p to the table or vector it points at.
func (c *flatCheck) ref(p int) int { return p + c.u32(p) }

// field is the position of table t's field i, -1 when it is absent.
func (c *flatCheck) field(t, i int) int {
	vtable := t - int(int32(uint32(c.u32(t))))
	if size := c.u16(vtable); c.bad || 4+2*i+2 > size {
		return -1
	}
	off := c.u16(vtable + 4 + 2*i)
	if c.bad || off == 0 {
		return -1
	}
	return t + off
}

// vector is table t's field i as a vector of elements of size bytes: its
// length and the position of its first element (0, -1 when absent).
func (c *flatCheck) vector(t, i, size int) (n, first int) {
	f := c.field(t, i)
	if f < 0 {
		return 0, -1
	}
	v := c.ref(f)
	n = c.u32(v)
	if c.bad || n > (len(c.b)-v-4)/size {
		c.bad = true
		return 0, -1
	}
	return n, v + 4
}

// fields checks table t's field i as a vector of Fields: each one's custom
// metadata and, depth+1, its children.
func (c *flatCheck) fields(t, i, depth int) {
	n, first := c.vector(t, i, 4)
	if n > 0 && depth >= 64 {
		c.bad = true
	}
	for j := 0; j < n && !c.bad; j++ {
		if c.budget--; c.budget < 0 {
			c.bad = true
			return
		}
		f := c.ref(first + 4*j)
		c.vector(f, 6, 4)       // Field.custom_metadata
		c.fields(f, 5, depth+1) // Field.children
	}
}
