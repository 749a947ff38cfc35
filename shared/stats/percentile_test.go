package stats_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/chatcards/chatcards/shared/stats"
)

func TestPercentile(t *testing.T) {
	ten := []int64{100, 10, 90, 20, 80, 30, 70, 40, 60, 50} // 10..100 shuffled
	for _, tc := range []struct {
		name   string
		values []int64
		p      int
		want   int64
		ok     bool
	}{
		{"none", nil, 50, 0, false},
		{"n=1 p50", []int64{7}, 50, 7, true},
		{"n=1 p1", []int64{7}, 1, 7, true},
		{"n=1 p100", []int64{7}, 100, 7, true},
		{"n=2 median is the lower middle", []int64{9, 3}, 50, 3, true},
		{"n=2 p51", []int64{9, 3}, 51, 9, true},
		{"n=2 p90", []int64{9, 3}, 90, 9, true},
		{"n=2 p1", []int64{9, 3}, 1, 3, true},
		{"n=10 p50 rank 5", ten, 50, 50, true},
		{"n=10 p90 rank 9", ten, 90, 90, true},
		{"n=10 p91 rank 10", ten, 91, 100, true},
		{"n=10 p10 rank 1", ten, 10, 10, true},
		{"n=10 p11 rank 2", ten, 11, 20, true},
		{"n=10 p100", ten, 100, 100, true},
		{"ties", []int64{5, 5, 5, 1, 9}, 50, 5, true},     // sorted 1 5 5 5 9, rank 3
		{"ties p20", []int64{5, 5, 5, 1, 9}, 20, 1, true}, // rank 1
		{"ties p21", []int64{5, 5, 5, 1, 9}, 21, 5, true}, // rank 2
		{"ties p80", []int64{5, 5, 5, 1, 9}, 80, 5, true}, // rank 4
		{"ties p81", []int64{5, 5, 5, 1, 9}, 81, 9, true}, // rank 5
		{"zeros count", []int64{0, 0, 0, 4000}, 50, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.values)
			got, ok := stats.Percentile(tc.values, tc.p)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Percentile(%v, %d) = %d, %v; want %d, %v", tc.values, tc.p, got, ok, tc.want, tc.ok)
			}
			if !slices.Equal(in, tc.values) {
				t.Errorf("input changed to %v", tc.values)
			}
		})
	}
}

// The rank is ⌈p·n/100⌉ exactly, checked against the real-number formula for
// every p and n up to 1000 (where float64 is exact enough to decide).
func TestNearestRankFormula(t *testing.T) {
	for n := 1; n <= 1000; n++ {
		for p := 1; p <= 100; p++ {
			want := int(math.Ceil(float64(p*n) / 100))
			if got := stats.NearestRank(p, n); got != want || got < 1 || got > n {
				t.Fatalf("NearestRank(%d, %d) = %d, want %d", p, n, got, want)
			}
		}
	}
}

// The p-th percentile is a value of the set with at least p% of the values
// at or below it, and the smallest such value.
func TestPercentileProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		vals := make([]int64, 1+r.IntN(40))
		for j := range vals {
			vals[j] = r.Int64N(20)
		}
		p := 1 + r.IntN(100)
		v, _ := stats.Percentile(vals, p)
		atOrBelow, below := 0, 0
		for _, x := range vals {
			if x <= v {
				atOrBelow++
			}
			if x < v {
				below++
			}
		}
		if 100*atOrBelow < p*len(vals) || 100*below >= p*len(vals) {
			t.Fatalf("p%d of %v = %d: %d at or below, %d below", p, vals, v, atOrBelow, below)
		}
	}
}

func TestPercentilesBadP(t *testing.T) {
	for _, p := range []int{0, -1, 101} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("p=%d did not panic", p)
				}
			}()
			stats.Percentile(nil, p)
		}()
	}
	out, ok := stats.Percentiles([]int64{3, 1, 2}, 50, 90, 100)
	if !ok || !slices.Equal(out, []int64{2, 3, 3}) {
		t.Errorf("Percentiles = %v, %v", out, ok)
	}
}
