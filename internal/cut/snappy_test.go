package cut

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/golang/snappy"
)

// TestSnappyCodecReusesBuffer: Arrow's writers get the Snappy codec of
// snappy.go, which encodes into the capacity of the buffer it is handed,
// as Arrow's page writer hands it (grown to the bound, length zero), and
// gives Snappy's bytes.
func TestSnappyCodecReusesBuffer(t *testing.T) {
	codec, err := compress.GetCodec(compress.Codecs.Snappy)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := codec.(snappyCodec); !ok {
		t.Fatalf("Arrow's Snappy codec is %T, not ours: the link to its registry is broken", codec)
	}
	src := bytes.Repeat([]byte("MPAN 1012345678903 HIGH STREET "), 2000)
	var buf bytes.Buffer
	buf.Grow(int(codec.CompressBound(int64(len(src)))))
	out := codec.EncodeLevel(buf.Bytes(), src, 0)
	if !bytes.Equal(out, snappy.Encode(nil, src)) {
		t.Fatal("the codec's bytes are not Snappy's")
	}
	if unsafe.SliceData(out) != unsafe.SliceData(buf.Bytes()[:1]) {
		t.Error("the codec allocated a buffer of its own")
	}
	if back := codec.Decode(nil, out); !bytes.Equal(back, src) {
		t.Error("the bytes do not decode to the input")
	}
}
