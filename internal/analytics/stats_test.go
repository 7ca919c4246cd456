package analytics

import (
	"math"
	"testing"

	"pgregory.net/rapid"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestGiniHandComputed(t *testing.T) {
	cases := []struct {
		name   string
		values []float64
		want   float64
	}{
		// sorted 1,2,3,4: S = 10, Σ i·xᵢ = 1+4+9+16 = 30;
		// G = 2·30/(4·10) − 5/4 = 1.5 − 1.25 = 0.25
		{"one to four", []float64{4, 1, 3, 2}, 0.25},
		// 0,0,0,10: S = 10, Σ i·xᵢ = 4·10 = 40; G = 80/40 − 5/4 = 0.75
		{"one holds all", []float64{0, 10, 0, 0}, 0.75},
		// equal values: Σ i·x = x·n(n+1)/2, so G = (n+1)/n − (n+1)/n = 0
		{"equal", []float64{7, 7, 7}, 0},
		{"one value", []float64{5}, 0},
		{"all zero", []float64{0, 0}, 0},
		{"none", nil, 0},
	}
	for _, c := range cases {
		if got := Gini(c.values); !near(got, c.want) {
			t.Errorf("%s: Gini = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestTopShareHandComputed(t *testing.T) {
	// 1..10: the top 10% is one value, 10, of 55: 0.181818…
	if got := TopShare([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.1); !near(got, 10.0/55) {
		t.Errorf("top 10%% of 1..10 = %v, want 10/55", got)
	}
	// six values: ceil(0.6) = 1 value, 5 of 10
	if got := TopShare([]float64{1, 1, 5, 1, 1, 1}, 0.1); !near(got, 0.5) {
		t.Errorf("top 10%% = %v, want 0.5", got)
	}
	// eleven values: ceil(1.1) = 2 values: 10+9 of 66
	if got := TopShare([]float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.1); !near(got, 19.0/55) {
		t.Errorf("top 10%% of 0..10 = %v, want 19/55", got)
	}
	if got := TopShare(nil, 0.1); got != 0 {
		t.Errorf("no values: %v", got)
	}
}

func TestHistogramHandComputed(t *testing.T) {
	// range 9 over at most 10 bins: width 0.9, rounded up to the nice 1;
	// bins [0,1) … [9,10): ten bins, five of them with one value
	bins := Histogram([]float64{0, 1, 2, 3, 9}, 10)
	if len(bins) != 10 || bins[0].Lo != 0 || bins[9].Hi != 10 {
		t.Fatalf("bins = %+v", bins)
	}
	want := []int{1, 1, 1, 1, 0, 0, 0, 0, 0, 1}
	for i, b := range bins {
		if b.Count != want[i] {
			t.Errorf("bin %d [%v,%v) = %d, want %d", i, b.Lo, b.Hi, b.Count, want[i])
		}
	}
	// range 100 over at most 4 bins: 25 rounds up to 50; bins [0,50),
	// [50,100), [100,150): 100 goes in the last
	bins = Histogram([]float64{0, 100}, 4)
	if len(bins) != 3 || bins[0].Count != 1 || bins[1].Count != 0 || bins[2].Count != 1 || bins[2].Lo != 100 {
		t.Errorf("bins = %+v", bins)
	}
	if b := Histogram([]float64{3, 3}, 5); len(b) != 1 || b[0].Count != 2 {
		t.Errorf("equal values: %+v", b)
	}
	if b := Histogram(nil, 5); b != nil {
		t.Errorf("no values: %+v", b)
	}
}

func TestRanksAverageTies(t *testing.T) {
	got := Ranks([]float64{20, 10, 30, 20})
	want := []float64{2.5, 1, 4, 2.5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ranks = %v, want %v", got, want)
		}
	}
}

func TestSpearmanHandComputed(t *testing.T) {
	// No ties: d = rank differences = −1, 1, −1, 1, 0; Σd² = 4;
	// ρ = 1 − 6·4/(5·(25−1)) = 1 − 24/120 = 0.8.
	// CI: z = atanh 0.8 = ½·ln(1.8/0.2) = ½·ln 9 = 1.098612;
	// SE = 1/√(5−3) = 0.707107; 1.96·SE = 1.385904;
	// tanh(1.098612 − 1.385904) = tanh(−0.287292) = −0.279640,
	// tanh(1.098612 + 1.385904) = tanh(2.484516) = 0.986196.
	c := Spearman([]float64{1, 2, 3, 4, 5}, []float64{2, 1, 4, 3, 5})
	if c.N != 5 || c.Rho == nil || !near(*c.Rho, 0.8) {
		t.Fatalf("ρ = %+v, want 0.8", c)
	}
	if math.Abs(*c.Low+0.279640) > 1e-5 || math.Abs(*c.High-0.986196) > 1e-5 {
		t.Errorf("CI = [%v, %v], want [−0.279640, 0.986196]", *c.Low, *c.High)
	}

	// Ties: x ranks 1, 2.5, 2.5, 4 (mean 2.5), y ranks 1, 2, 3, 4 (mean 2.5).
	// dx = −1.5, 0, 0, 1.5; dy = −1.5, −0.5, 0.5, 1.5;
	// Σdx·dy = 2.25 + 2.25 = 4.5; Σdx² = 4.5; Σdy² = 2.25+0.25+0.25+2.25 = 5;
	// ρ = 4.5/√(4.5·5) = 4.5/4.743416 = 0.948683.
	c = Spearman([]float64{1, 2, 2, 3}, []float64{1, 2, 3, 4})
	if c.Rho == nil || !near(*c.Rho, 0.948683) {
		t.Fatalf("with ties ρ = %+v, want 0.948683", c)
	}

	// Perfectly reversed: −1.
	c = Spearman([]float64{1, 2, 3, 4}, []float64{40, 30, 20, 10})
	if c.Rho == nil || !near(*c.Rho, -1) {
		t.Errorf("reversed ρ = %+v", c)
	}
}

func TestSpearmanUndefined(t *testing.T) {
	cases := []struct {
		name string
		x, y []float64
	}{
		{"no pairs", nil, nil},
		{"two pairs", []float64{1, 2}, []float64{1, 2}},
		{"constant side", []float64{1, 2, 3, 4}, []float64{5, 5, 5, 5}},
	}
	for _, c := range cases {
		got := Spearman(c.x, c.y)
		if got.Rho != nil || got.Low != nil || got.N != len(c.x) {
			t.Errorf("%s: %+v, want an undefined ρ with n = %d", c.name, got, len(c.x))
		}
	}
	// three pairs: ρ but no interval (n − 3 = 0)
	got := Spearman([]float64{1, 2, 3}, []float64{1, 3, 2})
	if got.Rho == nil || got.Low != nil {
		t.Errorf("three pairs: %+v", got)
	}
}

func TestGiniProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		xs := rapid.SliceOfN(rapid.Float64Range(0, 1e6), 1, 60).Draw(t, "xs")
		g := Gini(xs)
		if g < 0 || g >= 1 {
			t.Fatalf("Gini %v outside [0, 1)", g)
		}
		k := rapid.Float64Range(0.001, 1000).Draw(t, "k")
		scaled := make([]float64, len(xs))
		for i, x := range xs {
			scaled[i] = x * k
		}
		if gs := Gini(scaled); math.Abs(gs-g) > 1e-9 {
			t.Fatalf("Gini changed under scaling by %v: %v → %v", k, g, gs)
		}
		if s := TopShare(xs, 0.1); s < 0 || s > 1+1e-12 {
			t.Fatalf("top share %v outside [0, 1]", s)
		}
	})
}

func TestSpearmanProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(3, 40).Draw(t, "n")
		// small integers, so ties are common
		x := rapid.SliceOfN(rapid.Float64Range(0, 5), n, n).Draw(t, "x")
		y := rapid.SliceOfN(rapid.Float64Range(0, 5), n, n).Draw(t, "y")
		for i := range x {
			x[i], y[i] = math.Floor(x[i]), math.Floor(y[i])
		}
		a, b := Spearman(x, y), Spearman(y, x)
		if (a.Rho == nil) != (b.Rho == nil) {
			t.Fatalf("defined one way only: %+v %+v", a, b)
		}
		if a.Rho == nil {
			return
		}
		if *a.Rho < -1 || *a.Rho > 1 {
			t.Fatalf("ρ = %v outside [−1, 1]", *a.Rho)
		}
		if math.Abs(*a.Rho-*b.Rho) > 1e-12 {
			t.Fatalf("not symmetric: %v vs %v", *a.Rho, *b.Rho)
		}
		if a.Low != nil && (*a.Low > *a.Rho+1e-12 || *a.High < *a.Rho-1e-12) {
			t.Fatalf("interval [%v, %v] does not hold ρ %v", *a.Low, *a.High, *a.Rho)
		}
		// a monotone transform of one side does not change ρ
		z := make([]float64, n)
		for i := range x {
			z[i] = x[i]*x[i]*3 + 7
		}
		if c := Spearman(z, y); c.Rho == nil || math.Abs(*c.Rho-*a.Rho) > 1e-9 {
			t.Fatalf("monotone transform changed ρ: %v vs %+v", *a.Rho, c)
		}
	})
}
