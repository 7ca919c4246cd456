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

// BenchmarkIngestMechanics compares live ingest (events applied one at a
// time, boards up, as the service's applier does) of the demo program with
// and without its game mechanics: "plain" drops its badges and challenges,
// "mechanics" keeps them (event, metric and step badges, the running
// sprint, the Ramp-Ready quest and the learning ladders). Issue 5 asks the
// second to stay within 10% of the first; ns/op is per event.
//
//	go test ./internal/engine -run XXX -bench IngestMechanics -benchtime 50000x -count 5
func BenchmarkIngestMechanics(b *testing.B) {
	for _, tc := range []struct {
		name      string
		mechanics bool
	}{{"plain", false}, {"mechanics", true}} {
		b.Run(tc.name, func(b *testing.B) {
			// During the sprint: its standings are live, quests count.
			now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
			p, err := program.Parse(demo.Program)
			if err != nil {
				b.Fatal(err)
			}
			if !tc.mechanics {
				plain := *p
				plain.Badges, plain.Challenges = nil, nil
				p = &plain
			}
			e := New()
			e.SetVersions([]*Version{{N: 1, From: time.Unix(0, 0), Program: p}}, now)
			const partners, members = 1000, 20000
			for i := range partners {
				e.PutPartner(rung.PartnerVersion{Version: 1, Partner: rung.Partner{
					ID: fmt.Sprintf("p%d", i), Name: "P", Size: []string{"smb", "mid", "enterprise"}[i%3], Region: "emea",
					JoinedAt: now.AddDate(0, 0, -(i % 400))}})
			}
			for i := range members {
				pid := fmt.Sprintf("p%d", i%partners)
				e.PutMember(rung.Member{ID: fmt.Sprintf("m%d", i), Partner: pid, Role: []string{"sales", "presales", "delivery"}[i%3],
					JoinedAt: now.AddDate(0, 0, -(i % 300)), Memberships: []rung.Membership{{Partner: pid}}})
			}
			syn := demo.Synthetic{Rand: rand.New(rand.NewPCG(1, 2)), Partners: partners, Members: members,
				From: now.AddDate(0, 0, -40), Span: 40 * 24 * time.Hour}
			n := 0
			gen := func(recs []rung.Record) {
				for i := range recs {
					n++
					ev := syn.Next()
					recs[i] = rung.Record{Seq: int64(n), Version: 1, ReceivedAt: ev.OccurredAt, Event: ev}
				}
			}
			warm := make([]rung.Record, 50000)
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
		})
	}
}
