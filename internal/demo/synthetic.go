package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rung-dev/rung"
)

// Synthetic makes the events the benchmarks feed the demo program: a third
// each of trainings (score 50–99), won deals (1,000–100,999, sourced) and
// registered deals (qualified half the time), by members chosen uniformly
// among members ids m0…m<members-1>, each of partner p<m mod partners>,
// occurring uniformly in [from, from+span).
type Synthetic struct {
	Rand     *rand.Rand
	Partners int
	Members  int
	From     time.Time
	Span     time.Duration
	n        int
}

// Next returns the next event; ids are bench:1, bench:2, ….
func (s *Synthetic) Next() rung.Event {
	s.n++
	m := s.Rand.IntN(s.Members)
	ev := rung.Event{ID: fmt.Sprintf("bench:%d", s.n), Partner: fmt.Sprintf("p%d", m%s.Partners), Member: fmt.Sprintf("m%d", m),
		OccurredAt: s.From.Add(time.Duration(s.Rand.Int64N(int64(s.Span))))}
	switch s.Rand.IntN(3) {
	case 0:
		ev.Type, ev.Attrs = "training.completed", map[string]any{"score": float64(50 + s.Rand.IntN(50)), "course": "c1"}
	case 1:
		ev.Type, ev.Attrs = "deal.won", map[string]any{"amount": float64(1000 + s.Rand.IntN(100000)), "sourced": true}
	default:
		ev.Type, ev.Attrs = "deal.registered", map[string]any{"qualified": s.Rand.IntN(2) == 0, "amount": 5000.0}
	}
	return ev
}
