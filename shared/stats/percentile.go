package stats

import (
	"fmt"
	"slices"
)

// NearestRank is the 1-based rank of the p-th percentile of n values sorted
// ascending, exactly as analytics.md defines it: ⌈p·n/100⌉, computed in
// integers. p must be in (0, 100] and n ≥ 1; anything else is a programming
// error (p is never outside input) and panics.
func NearestRank(p, n int) int {
	if p <= 0 || p > 100 {
		panic(fmt.Sprintf("stats.NearestRank: percentile %d is outside (0, 100]", p))
	}
	if n < 1 {
		panic(fmt.Sprintf("stats.NearestRank: %d values", n))
	}
	// p ≤ 100 and n < 2^56 keep p·n far from overflow for any real count.
	return (p*n + 99) / 100
}

// PercentileSorted is the p-th percentile (nearest rank) of values already
// sorted ascending; ok is false when there are none. The median is p = 50:
// for an even count the lower middle value, never a mean.
func PercentileSorted(sorted []int64, p int) (v int64, ok bool) {
	if len(sorted) == 0 {
		// Still check p: a bad p must fail in tests, not only with data.
		NearestRank(p, 1)
		return 0, false
	}
	return sorted[NearestRank(p, len(sorted))-1], true
}

// Percentiles returns the p-th percentile of values for each p in ps (in
// that order), sorting a copy once; ok is false when values is empty.
func Percentiles(values []int64, ps ...int) (out []int64, ok bool) {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	out = make([]int64, len(ps))
	for i, p := range ps {
		out[i], _ = PercentileSorted(sorted, p)
	}
	return out, len(values) > 0
}

// Percentile is the p-th percentile of values (unsorted; not modified).
func Percentile(values []int64, p int) (int64, bool) {
	out, ok := Percentiles(values, p)
	return out[0], ok
}
