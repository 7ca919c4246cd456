// Package analytics computes the program's analytics (issue 9): engagement
// over time, the distribution of points, engagement against commercial
// outcomes, points issued, expired and redeemed, the seeds' leading
// indicators, and the rewards, tiers and challenge views fed by their
// sources. Everything here is a pure function of a Snapshot and a Query:
// no store, no clock, no HTTP. The web console and the API build the
// Snapshot from the engine and the store and render what these return.
package analytics

import (
	"math"
	"sort"
)

// Gini returns the Gini coefficient of non-negative values: 0 when every
// value is equal, approaching 1 when one value holds everything. With the
// values sorted ascending (x₁ ≤ … ≤ xₙ) and S their sum,
//
//	G = 2·Σ i·xᵢ / (n·S) − (n+1)/n
//
// It is 0 for fewer than two values or a zero sum (nothing to be unequal
// about). Negative values are taken as 0.
func Gini(values []float64) float64 {
	xs := make([]float64, len(values))
	for i, v := range values {
		xs[i] = max(v, 0)
	}
	sort.Float64s(xs)
	return giniSorted(xs)
}

// giniSorted is Gini of non-negative values sorted ascending.
func giniSorted(xs []float64) float64 {
	n := len(xs)
	if n < 2 {
		return 0
	}
	var sum, weighted float64
	for i, x := range xs {
		sum += x
		weighted += float64(i+1) * x
	}
	if sum == 0 {
		return 0
	}
	g := 2*weighted/(float64(n)*sum) - float64(n+1)/float64(n)
	return min(max(g, 0), 1)
}

// TopShare returns the share of the total held by the top fraction of
// values (0.1 for the top 10%), counting ceil(fraction·n) values, at least
// one. It is 0 for no values or a zero sum. Negative values are taken as 0.
func TopShare(values []float64, fraction float64) float64 {
	xs := make([]float64, len(values))
	for i, v := range values {
		xs[i] = max(v, 0)
	}
	sort.Float64s(xs)
	return topShareSorted(xs, fraction)
}

// topShareSorted is TopShare of non-negative values sorted ascending.
func topShareSorted(xs []float64, fraction float64) float64 {
	n := len(xs)
	if n == 0 {
		return 0
	}
	k := max(1, int(math.Ceil(fraction*float64(n)-1e-9)))
	var top, sum float64
	for i, x := range xs {
		sum += x
		if i >= n-k {
			top += x
		}
	}
	if sum == 0 {
		return 0
	}
	return top / sum
}

// Bin is one bar of a histogram: the values v with Lo <= v < Hi (the last
// bin also holds Hi).
type Bin struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Count int     `json:"count"`
}

// Histogram puts values into bins of equal width between the smallest and
// the largest value. The width is a "nice" number (1, 2 or 5 times a power
// of ten) so the edges read well; there are at most maxBins bins (default
// 10). No values give no bins; values that are all equal give one bin.
func Histogram(values []float64, maxBins int) []Bin {
	if len(values) == 0 {
		return nil
	}
	if maxBins <= 0 {
		maxBins = 10
	}
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo == hi {
		return []Bin{{Lo: lo, Hi: hi, Count: len(values)}}
	}
	width := niceWidth((hi - lo) / float64(maxBins))
	start := math.Floor(lo/width) * width
	n := int(math.Floor((hi-start)/width)) + 1
	for n > maxBins { // rounding can add one
		width = niceWidth(width * 1.0001)
		start = math.Floor(lo/width) * width
		n = int(math.Floor((hi-start)/width)) + 1
	}
	bins := make([]Bin, n)
	for i := range bins {
		bins[i] = Bin{Lo: start + float64(i)*width, Hi: start + float64(i+1)*width}
	}
	for _, v := range values {
		i := min(int(math.Floor((v-start)/width)), n-1)
		bins[i].Count++
	}
	return bins
}

// niceWidth returns the smallest of 1, 2 or 5 times a power of ten that is
// at least w.
func niceWidth(w float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(w)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= w*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// Ranks returns the ranks of values, 1 for the smallest, with ties given
// the average of the ranks they span (the ranks of 10, 20, 20, 30 are 1,
// 2.5, 2.5, 4).
func Ranks(values []float64) []float64 {
	n := len(values)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return values[idx[a]] < values[idx[b]] })
	ranks := make([]float64, n)
	for i := 0; i < n; {
		j := i
		for j+1 < n && values[idx[j+1]] == values[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			ranks[idx[k]] = avg
		}
		i = j + 1
	}
	return ranks
}

// Correlation is a Spearman rank correlation with its 95% confidence
// interval. Rho, Low and High are nil when it is undefined: fewer than
// three pairs, or one side constant. The interval needs at least four
// pairs (n−3 > 0); with three it is nil while Rho is set.
type Correlation struct {
	N    int      `json:"n"`
	Rho  *float64 `json:"rho"`
	Low  *float64 `json:"ci_low"`
	High *float64 `json:"ci_high"`
}

// Spearman returns the rank correlation of paired values x and y (the same
// length): the Pearson correlation of their average ranks, which handles
// ties. The 95% interval uses the Fisher transform: z = atanh(ρ) with
// standard error 1/√(n−3), back-transformed: tanh(z ± 1.96/√(n−3)).
func Spearman(x, y []float64) Correlation {
	n := min(len(x), len(y))
	c := Correlation{N: n}
	if n < 3 {
		return c
	}
	rx, ry := Ranks(x[:n]), Ranks(y[:n])
	rho, ok := pearson(rx, ry)
	if !ok {
		return c
	}
	c.Rho = &rho
	switch {
	case n > 3 && math.Abs(rho) == 1:
		// a perfect order: atanh is infinite, the interval is the point
		lo, hi := rho, rho
		c.Low, c.High = &lo, &hi
	case n > 3:
		z := math.Atanh(rho)
		se := 1 / math.Sqrt(float64(n-3))
		lo, hi := math.Tanh(z-1.959964*se), math.Tanh(z+1.959964*se)
		c.Low, c.High = &lo, &hi
	}
	return c
}

// pearson returns the correlation of x and y, false when either is
// constant.
func pearson(x, y []float64) (float64, bool) {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0, false
	}
	r := sxy / math.Sqrt(sxx*syy)
	return min(max(r, -1), 1), true
}
