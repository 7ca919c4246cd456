package engine

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkChunkedInsertRandom inserts points at random times into 1,000
// lists of ~2,000 points each, a list picked at random for each insert: a
// partner's series under batch ingest of events spread over a year, with
// more lists than the caches hold. ns/op is per insert.
func BenchmarkChunkedInsertRandom(b *testing.B) {
	const lists, each = 1000, 2000
	r := rand.New(rand.NewPCG(1, 2))
	ls := make([]series, lists)
	for i := range lists * each {
		ls[i%lists].insert(point{at: r.Int64N(1 << 40)})
	}
	b.ResetTimer()
	for range b.N {
		ls[r.IntN(lists)].insert(point{at: r.Int64N(1 << 40)})
	}
}
