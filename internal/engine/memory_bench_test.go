package engine

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

const memProgram = `
name: Memory
timezone: UTC
points:
  rules:
    - {id: training, on: training.completed, award: 50}
leaderboards:
  - {id: all, metric: points, for: member, window: all}
  - {id: quarter, metric: points, for: member, window: quarter}
  - {id: month, metric: points, for: member, window: month}
  - {id: week, metric: points, for: member, window: week}
`

// loadMembers builds an engine with n members, each with one scored event,
// and returns the live heap it holds.
func loadMembers(b *testing.B, src string, n int) (*Engine, uint64) {
	p, err := program.Parse([]byte(src))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	e := New()
	e.SetVersions([]*Version{{N: 1, From: time.Unix(0, 0), Program: p}}, now)
	for i := 0; i < 1000; i++ {
		e.PutPartner(rung.PartnerVersion{Version: 1, Partner: rung.Partner{ID: fmt.Sprintf("p%d", i), Name: "P"}})
	}
	e.BeginBulk(n)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("m%07d", i)
		pid := fmt.Sprintf("p%d", i%1000)
		e.PutMember(rung.Member{ID: id, Partner: pid, Memberships: []rung.Membership{{Partner: pid}}})
		e.Apply(&rung.Record{Seq: int64(i + 1), Version: 1, Event: rung.Event{ID: "e" + id, Type: "training.completed",
			Partner: pid, Member: id, OccurredAt: now.Add(-time.Duration(i%3600) * time.Second)}})
	}
	e.EndBulk(now)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return e, ms.HeapAlloc
}

// BenchmarkMemory1MMembers4Windows reports the memory of live leaderboard
// state per member and window (four member boards: all, quarter, month,
// week), as the heap with the boards minus the heap without them, and the
// whole engine's heap per member.
func BenchmarkMemory1MMembers4Windows(b *testing.B) {
	const n = 1_000_000
	noBoards := memProgram[:len(memProgram)-len(memProgram[indexOf(memProgram, "leaderboards:"):])]
	for b.Loop() {
		e0, without := loadMembers(b, noBoards, n)
		runtime.KeepAlive(e0)
		e0 = nil
		runtime.GC()
		e1, with := loadMembers(b, memProgram, n)
		if page, _ := e1.Leaderboard("week", BoardQuery{Limit: 1}); page.Total != n {
			b.Fatalf("week board holds %d members", page.Total)
		}
		b.ReportMetric(float64(with-without)/n/4, "B/member/window")
		b.ReportMetric(float64(with)/n, "B/member-total")
		b.ReportMetric(float64(with)/(1<<20), "MiB-total")
		runtime.KeepAlive(e1)
	}
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
