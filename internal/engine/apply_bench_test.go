package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/program"
)

// BenchmarkApplyLive applies events one at a time to an engine whose live
// leaderboards are up, as the service's applier does during ingest: the
// demo program, 1,000 partners, 20,000 members, events spread at random over
// the last 40 days (so most arrive out of order). It is the in-process
// figure behind the batch ingest target; ns/op is per event.
func BenchmarkApplyLive(b *testing.B) {
	now := time.Now().UTC()
	p, err := program.Parse(demo.Program)
	if err != nil {
		b.Fatal(err)
	}
	e := New()
	e.SetVersions([]*Version{{N: 1, From: time.Unix(0, 0), Program: p}}, now)
	const partners, members = 1000, 20000
	for i := range partners {
		e.PutPartner(rung.PartnerVersion{Version: 1, Partner: rung.Partner{
			ID: fmt.Sprintf("p%d", i), Name: "P", Size: []string{"smb", "mid", "enterprise"}[i%3], Region: "emea"}})
	}
	for i := range members {
		pid := fmt.Sprintf("p%d", i%partners)
		e.PutMember(rung.Member{ID: fmt.Sprintf("m%d", i), Partner: pid,
			Memberships: []rung.Membership{{Partner: pid}}})
	}
	syn := demo.Synthetic{Rand: rand.New(rand.NewPCG(1, 2)), Partners: partners, Members: members,
		From: now.AddDate(0, 0, -40), Span: 40 * 24 * time.Hour}
	n := 0
	gen := func(recs []rung.Record) {
		for i := range recs {
			n++
			recs[i] = rung.Record{Seq: int64(n), Version: 1, Event: syn.Next()}
		}
	}
	// Warm up: 100,000 events of history.
	warm := make([]rung.Record, 100000)
	gen(warm)
	for i := range warm {
		e.Apply(&warm[i])
	}
	recs := make([]rung.Record, b.N)
	gen(recs)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	applyTimed(e, recs)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cputime.Since(cpu).Nanoseconds())/float64(b.N), "cpu-ns/event")
}

// applyTimed is the timed loop of BenchmarkApplyLive, a function of its own
// so that instruction counters can be scoped to it:
//
//	go test -c -o /tmp/engine.test ./internal/engine
//	valgrind --tool=callgrind --toggle-collect='*applyTimed*' /tmp/engine.test -test.run XXX -test.bench ApplyLive -test.benchtime 20000x
//
//go:noinline
func applyTimed(e *Engine, recs []rung.Record) {
	for i := range recs {
		e.Apply(&recs[i])
	}
}
