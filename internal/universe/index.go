package universe

import "math"

// coreBits covers every 13-digit core (10^13 < 2^44).
const coreBits = 44

// SortCores sorts keys (13-digit cores) ascending, carrying vals (nil for
// none) along, stably: the universe's join order, for other readers of
// published cuts (reconciliation).
func SortCores(keys []uint64, vals []uint32) { sortCores(keys, vals) }

// sortCores sorts keys (13-digit cores) ascending, carrying vals (nil for
// none) along, by least-significant-digit radix sort: linear, and stable,
// so equal keys keep their order.
func sortCores(keys []uint64, vals []uint32) { sortBits(keys, vals, 0, coreBits) }

// sortBits is sortCores by bits from to to of the keys only: keys equal in
// them keep their order.
func sortBits(keys []uint64, vals []uint32, from, to uint) {
	n := len(keys)
	if n < 2 {
		return
	}
	const digit = 11
	tk := make([]uint64, n)
	var tv []uint32
	if vals != nil {
		tv = make([]uint32, n)
	}
	src, dst, srcV, dstV := keys, tk, vals, tv
	for shift := from; shift < to; shift += digit {
		var count [1 << digit]int
		for _, k := range src {
			count[k>>shift&(1<<digit-1)]++
		}
		if count[src[0]>>shift&(1<<digit-1)] == n {
			continue // every key has this digit
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for i, k := range src {
			d := k >> shift & (1<<digit - 1)
			dst[count[d]] = k
			if srcV != nil {
				dstV[count[d]] = srcV[i]
			}
			count[d]++
		}
		src, dst, srcV, dstV = dst, src, dstV, srcV
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
		copy(vals, srcV)
	}
}

// A histogram of cores by their top 16 of 44 bits (HistBuckets counts,
// HistBucket places a core) sizes ranges of cores for passes over them.
const (
	HistBuckets = 1 << 16
	histShift   = coreBits - 16
)

// HistBucket is core c's bucket.
func HistBucket(c uint64) int { return int(min(c>>histShift, HistBuckets-1)) }

// RangeBounds splits the cores into n ranges holding about as many of the
// histogram's each: range r holds the cores in [bounds[r-1], bounds[r]),
// the last the rest. bounds has n-1 entries (MaxUint64 where the cores run
// out first).
func RangeBounds(hist []int, n int) []uint64 {
	total := 0
	for _, c := range hist {
		total += c
	}
	var bounds []uint64
	acc, next := 0, 1
	for b, c := range hist {
		acc += c
		for next < n && acc*n >= total*next {
			bounds = append(bounds, uint64(b+1)<<histShift)
			next++
		}
	}
	for len(bounds) < n-1 {
		bounds = append(bounds, math.MaxUint64)
	}
	return bounds
}
