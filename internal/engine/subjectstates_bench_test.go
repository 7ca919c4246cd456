package engine

import (
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/program"
)

// BenchmarkSubjectStatesAfterBatch is the outbox producer's read after a
// batch: the state of every member and partner a batch of 5,000 demo
// events touched, over 20,000 members of 1,000 partners filled with
// 100,000 events. It reports the CPU per event of the batch.
func BenchmarkSubjectStatesAfterBatch(b *testing.B) {
	p, err := program.Parse(demo.Program)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	e := New()
	e.SetVersions([]*Version{{N: 1, From: time.Unix(0, 0), Program: p}}, now)
	const partners, members = 1000, 20000
	for i := range partners {
		e.PutPartner(rung.PartnerVersion{Version: 1, Partner: rung.Partner{ID: fmt.Sprintf("p%d", i), Name: "P", Size: []string{"smb", "mid", "enterprise"}[i%3], Region: "emea"}})
	}
	for i := range members {
		pid := fmt.Sprintf("p%d", i%partners)
		e.PutMember(rung.Member{ID: fmt.Sprintf("m%d", i), Partner: pid, Memberships: []rung.Membership{{Partner: pid}}})
	}
	syn := demo.Synthetic{Rand: mrand.New(mrand.NewPCG(1, 2)), Partners: partners, Members: members,
		From: now.AddDate(0, 0, -40), Span: 40 * 24 * time.Hour}
	var seq int64
	var ms, ps []string
	batch := func() {
		ms, ps = ms[:0], ps[:0]
		for range 5000 {
			ev := syn.Next()
			seq++
			e.Apply(&rung.Record{Seq: seq, Version: 1, Event: ev})
			ms, ps = append(ms, ev.Member), append(ps, ev.Partner)
		}
		slices.Sort(ms)
		slices.Sort(ps)
		ms, ps = slices.Compact(ms), slices.Compact(ps)
	}
	read := func() {
		e.SubjectStates(ms, ps, func(SubjectState) {})
	}
	for range 20 {
		batch()
	}
	read()
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		batch()
		runtime.GC()
		b.StartTimer()
		c := cputime.Process()
		read()
		cpu += cputime.Since(c)
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*5000), "cpu-ns/event")
}
