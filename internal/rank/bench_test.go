package rank

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The 1M benchmarks share one board: 1,000,000 subjects with string ids,
// integer points in [0, 100000) (so about ten subjects per value, as on a
// real board) and distinct times, inserted in random order.
const million = 1_000_000

var (
	bigOnce   sync.Once
	bigNames  []string
	bigBoard  *Index
	bigValues []float64 // each subject's value on bigBoard, as the engine knows it
)

func bigIDs() []string {
	bigOnce.Do(func() {
		bigNames = make([]string, million)
		for i := range bigNames {
			bigNames[i] = fmt.Sprintf("partner-%07d", (i*7919)%million)
		}
		bigBoard = buildBoard(bigNames, 1)
		bigValues = make([]float64, million)
		for i := range bigValues {
			e, _ := bigBoard.Get(uint32(i))
			bigValues[i] = e.Value
		}
	})
	return bigNames
}

// cpuClock starts measuring the CPU time of the benchmark's thread and
// returns a function that reports it per op as "cpu-ns/op". On a shared
// machine, ns/op also counts the time the benchmark waited for a CPU;
// cpu-ns/op does not.
func cpuClock(b *testing.B) (stop func()) {
	runtime.LockOSThread()
	start, ok := threadCPU()
	return func() {
		end, _ := threadCPU()
		runtime.UnlockOSThread()
		if ok && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func board1M(b *testing.B) *Index {
	b.Helper()
	bigIDs()
	return bigBoard
}

func buildBoard(names []string, seed uint64) *Index {
	r := rand.New(rand.NewPCG(seed, 1))
	x := New(func(a, b uint32) int { return strings.Compare(names[a], names[b]) })
	for _, i := range r.Perm(len(names)) {
		x.Set(uint32(i), float64(r.IntN(100_000)), int64(i))
	}
	return x
}

func BenchmarkRank1M(b *testing.B) {
	x := board1M(b)
	r := rand.New(rand.NewPCG(2, 2))
	defer cpuClock(b)()
	for b.Loop() {
		if _, ok := x.Rank(uint32(r.IntN(million))); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkGet1M(b *testing.B) {
	x := board1M(b)
	r := rand.New(rand.NewPCG(10, 10))
	defer cpuClock(b)()
	for b.Loop() {
		if _, ok := x.Get(uint32(r.IntN(million))); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkPosition1M(b *testing.B) {
	x := board1M(b)
	r := rand.New(rand.NewPCG(3, 3))
	defer cpuClock(b)()
	for b.Loop() {
		if _, ok := x.Position(uint32(r.IntN(million))); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkRankOfValue1M(b *testing.B) {
	x := board1M(b)
	r := rand.New(rand.NewPCG(4, 4))
	defer cpuClock(b)()
	for b.Loop() {
		x.RankOfValue(float64(r.IntN(100_000)))
	}
}

func BenchmarkTop100_1M(b *testing.B) {
	x := board1M(b)
	var sum float64
	defer cpuClock(b)()
	for b.Loop() {
		x.Range(0, 100, func(rank, pos int, e Entry) bool {
			sum += e.Value
			return true
		})
	}
	_ = sum
}

// BenchmarkPage100Middle1M reads 100 entries from a random place, as a
// "page around me" request does.
func BenchmarkPage100Middle1M(b *testing.B) {
	x := board1M(b)
	r := rand.New(rand.NewPCG(5, 5))
	var sum float64
	defer cpuClock(b)()
	for b.Loop() {
		x.Range(r.IntN(million-100), 100, func(rank, pos int, e Entry) bool {
			sum += e.Value
			return true
		})
	}
	_ = sum
}

// BenchmarkSetIncrement1M moves a random subject up by 1 to 10 points, the
// common update on a live board (about 10 subjects share each value, so
// the entry passes some 50 others).
func BenchmarkSetIncrement1M(b *testing.B) {
	x := board1M(b)
	r := rand.New(rand.NewPCG(6, 6))
	at := int64(million)
	defer cpuClock(b)()
	for b.Loop() {
		id := r.IntN(million)
		bigValues[id] += float64(1 + r.IntN(10))
		at++
		x.Set(uint32(id), bigValues[id], at)
	}
}

// BenchmarkSetJump1M moves a random subject to a random value: a move
// across the tree.
func BenchmarkSetJump1M(b *testing.B) {
	x := board1M(b)
	r := rand.New(rand.NewPCG(7, 7))
	at := int64(2 * million)
	defer cpuClock(b)()
	for b.Loop() {
		id := r.IntN(million)
		bigValues[id] = float64(r.IntN(100_000))
		at++
		x.Set(uint32(id), bigValues[id], at)
	}
}

// BenchmarkDeleteInsert1M removes a random subject from a 1M board and
// puts it back.
func BenchmarkDeleteInsert1M(b *testing.B) {
	x := board1M(b)
	r := rand.New(rand.NewPCG(8, 8))
	defer cpuClock(b)()
	for b.Loop() {
		id := uint32(r.IntN(million))
		e, _ := x.Get(id)
		x.Delete(id)
		x.Set(id, e.Value, e.At)
	}
}

// BenchmarkMemory1M builds a 1M board (ns/op is the build time) and reports
// the heap it holds per entry.
func BenchmarkMemory1M(b *testing.B) {
	names := bigIDs()
	var perEntry float64
	for b.Loop() {
		before := heapInUse()
		x := buildBoard(names, 9)
		after := heapInUse()
		perEntry = float64(after-before) / float64(x.Len())
		runtime.KeepAlive(x)
	}
	b.ReportMetric(perEntry, "B/entry")
}

// BenchmarkMemorySmall reports the heap held by an index of five entries
// with large handles, as a small cohort's index has.
func BenchmarkMemorySmall(b *testing.B) {
	const indexes = 10_000
	var perIndex float64
	for b.Loop() {
		xs := make([]*Index, indexes)
		before := heapInUse()
		for i := range xs {
			xs[i] = New(nil)
			for j := range 5 {
				xs[i].Set(uint32(500_000+i*5+j), float64(j), 0)
			}
		}
		after := heapInUse()
		perIndex = float64(after-before) / indexes
		runtime.KeepAlive(xs)
	}
	b.ReportMetric(perIndex, "B/index")
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkSetSmall moves entries on an index of 8, as in a small cohort.
func BenchmarkSetSmall(b *testing.B) {
	x := New(nil)
	var values [8]float64
	for i := range values {
		x.Set(uint32(1000+i), 0, 0)
	}
	r := rand.New(rand.NewPCG(11, 11))
	at := int64(0)
	defer cpuClock(b)()
	for b.Loop() {
		i := r.IntN(len(values))
		values[i] += float64(r.IntN(3))
		at++
		x.Set(uint32(1000+i), values[i], at)
	}
}

// BenchmarkRankSmall reads a rank on an index of 8.
func BenchmarkRankSmall(b *testing.B) {
	x := New(nil)
	for i := range 8 {
		x.Set(uint32(1000+i), float64(i%3), 0)
	}
	r := rand.New(rand.NewPCG(12, 12))
	defer cpuClock(b)()
	for b.Loop() {
		x.Rank(uint32(1000 + r.IntN(8)))
	}
}
