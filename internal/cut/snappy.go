package cut

import (
	_ "unsafe" // go:linkname, below

	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/golang/snappy"
)

// parquetCodecs is Arrow v15's registry of Parquet compression codecs
// (parquet/compress.codecs; go.mod pins the version, and
// TestSnappyCodecReusesBuffer checks the link). Its Snappy codec is
// replaced by snappyCodec.
//
//go:linkname parquetCodecs github.com/apache/arrow/go/v15/parquet/compress.codecs
var parquetCodecs map[compress.Compression]compress.Codec

func init() {
	if c, ok := parquetCodecs[compress.Codecs.Snappy]; ok {
		parquetCodecs[compress.Codecs.Snappy] = snappyCodec{c}
	}
}

// snappyCodec is Arrow's Snappy codec, except that it encodes into the
// capacity of the buffer it is handed. Arrow's column writer grows a
// buffer to Snappy's bound for every page and hands it over with length
// zero; Arrow's codec then has Snappy allocate another of the same size
// (snappy.Encode uses dst only when its length suffices). The bytes
// written are the same.
type snappyCodec struct{ compress.Codec }

func (c snappyCodec) Encode(dst, src []byte) []byte {
	return snappy.Encode(dst[:cap(dst)], src)
}

func (c snappyCodec) EncodeLevel(dst, src []byte, _ int) []byte {
	return c.Encode(dst, src)
}
