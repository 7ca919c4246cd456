// Package collect builds the analytics Snapshot from a running service:
// events from the store's log (read incrementally, corrections and
// retractions applied), awards, adjustments and the revenue metric's
// contributions from the engine. Pages and the API share one Collector;
// it hands out the last snapshot and refreshes it in the background when
// it is older than MaxAge, so no request waits on a rebuild after the
// first.
package collect

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/analytics"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/service"
)

// MaxAge is how old a snapshot may be before a request starts a refresh.
const MaxAge = 30 * time.Second

// Sources feed the sections kept by other parts of Rung; nil ones show
// "no data yet".
type Sources struct {
	Tiers      analytics.TierSource
	Rewards    analytics.RewardSource
	Challenges analytics.ChallengeSource
}

// Collector keeps the analytics snapshot of one service.
type Collector struct {
	svc *service.Service
	log *slog.Logger

	// Sources may be set before the first request.
	Sources Sources

	mu         sync.Mutex // guards cur, built and refreshing
	cur        *analytics.Snapshot
	built      time.Time
	refreshing bool
	static     bool // Static: never refreshed

	// the log as read so far, guarded by buildMu
	buildMu sync.Mutex
	after   int64
	slot    map[string]int32 // event id → index into events
	events  []logEvent
	types   map[string]uint16
	tnames  []string
}

// logEvent is an event from the log, by ids until the snapshot indexes it.
type logEvent struct {
	at              int64
	typ             uint16
	partner, member string
	qualified, dead bool
}

// New returns a collector for svc.
func New(svc *service.Service, log *slog.Logger) *Collector {
	if log == nil {
		log = slog.Default()
	}
	return &Collector{svc: svc, log: log, slot: map[string]int32{}, types: map[string]uint16{}}
}

// Static returns a collector that always hands out s, for benchmarks and
// tools that built their snapshot themselves (FromEngine).
func Static(s *analytics.Snapshot) *Collector {
	return &Collector{cur: s, built: time.Now(), static: true, log: slog.Default()}
}

// Snapshot returns the last snapshot, building the first one now and
// starting a background refresh when the last is older than MaxAge.
func (c *Collector) Snapshot(ctx context.Context) (*analytics.Snapshot, error) {
	c.mu.Lock()
	cur, built := c.cur, c.built
	stale := cur != nil && time.Since(built) > MaxAge && !c.refreshing && !c.static
	if stale {
		c.refreshing = true
	}
	c.mu.Unlock()
	if cur == nil {
		// the first requests wait for one build, not one each
		c.buildMu.Lock()
		c.mu.Lock()
		cur = c.cur
		c.mu.Unlock()
		c.buildMu.Unlock()
		if cur != nil {
			return cur, nil
		}
		return c.Refresh(ctx)
	}
	if stale {
		go func() {
			if _, err := c.Refresh(context.Background()); err != nil {
				c.log.Warn("analytics: refreshing the snapshot", "err", err)
			}
		}()
	}
	return cur, nil
}

// Refresh builds a new snapshot now and returns it.
func (c *Collector) Refresh(ctx context.Context) (*analytics.Snapshot, error) {
	c.buildMu.Lock()
	err := c.readLog(ctx)
	var s *analytics.Snapshot
	if err == nil {
		s = build(func(fn func(*engine.Engine)) {
			c.svc.Read(func(e *engine.Engine) error { fn(e); return nil })
		}, c.events, c.tnames, c.Sources.Rewards)
	}
	c.buildMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshing = false
	if err != nil {
		return nil, err
	}
	c.cur, c.built = s, time.Now()
	return s, nil
}

// readLog reads the records logged since the last call.
func (c *Collector) readLog(ctx context.Context) error {
	return c.svc.Store().Records(ctx, c.after, func(r *rung.Record) error {
		c.after = r.Seq
		ev := &r.Event
		i, seen := c.slot[ev.ID]
		if r.Retracted {
			if seen {
				c.events[i].dead = true
			}
			return nil
		}
		t, ok := c.types[ev.Type]
		if !ok {
			t = uint16(len(c.tnames))
			c.types[ev.Type] = t
			c.tnames = append(c.tnames, ev.Type)
		}
		q, _ := ev.Attrs["qualified"].(bool)
		le := logEvent{at: ev.OccurredAt.UnixNano(), typ: t, partner: ev.Partner, member: ev.Member, qualified: q}
		if seen {
			c.events[i] = le
		} else {
			c.slot[ev.ID] = int32(len(c.events))
			c.events = append(c.events, le)
		}
		return nil
	})
}

// FromEngine builds a snapshot from an engine the caller owns (nothing else
// may write to it meanwhile) and the live events given: for tests, tools
// and benchmarks that hold the history in memory.
func FromEngine(e *engine.Engine, events []rung.Event) *analytics.Snapshot {
	types := map[string]uint16{}
	var tnames []string
	les := make([]logEvent, len(events))
	for i := range events {
		ev := &events[i]
		t, ok := types[ev.Type]
		if !ok {
			t = uint16(len(tnames))
			types[ev.Type] = t
			tnames = append(tnames, ev.Type)
		}
		q, _ := ev.Attrs["qualified"].(bool)
		les[i] = logEvent{at: ev.OccurredAt.UnixNano(), typ: t, partner: ev.Partner, member: ev.Member, qualified: q}
	}
	return build(func(fn func(*engine.Engine)) { fn(e) }, les, tnames, nil)
}

// build makes a snapshot of the events and the engine's state; read runs
// a function with the engine (under the service's read lock).
func build(read func(func(*engine.Engine)), events []logEvent, tnames []string, rewards analytics.RewardSource) *analytics.Snapshot {
	s := &analytics.Snapshot{Loc: time.UTC, Types: slices.Clone(tnames)}
	pIdx := map[string]int32{}
	mIdx := map[string]int32{}
	var outcomeRules map[string]bool
	var partnerIDs []string
	read(func(e *engine.Engine) {
		p := e.Program()
		if p != nil {
			if loc, err := time.LoadLocation(p.Timezone); err == nil && p.Timezone != "" {
				s.Loc = loc
			}
			s.RevenueMetric, outcomeRules = revenueOf(p)
		}
		partnerIDs = e.PartnerIDs()
		for _, id := range partnerIDs {
			pt, _ := e.Partner(id)
			pIdx[id] = int32(len(s.Partners))
			s.Partners = append(s.Partners, analytics.Partner{ID: id, Name: pt.Name, Type: pt.Type, Region: pt.Region, Size: pt.Size})
		}
	})
	// Partner by partner, so that writers wait for one partner at most.
	for _, id := range partnerIDs {
		pi := pIdx[id]
		read(func(e *engine.Engine) {
			for _, mid := range e.MemberIDs(id) {
				mIdx[mid] = int32(len(s.Members))
				s.Members = append(s.Members, analytics.Member{ID: mid, Partner: pi})
			}
			member := func(id string) int32 {
				if i, ok := mIdx[id]; ok && id != "" {
					return i
				}
				return -1
			}
			adjusts := e.EachAward(id, func(a engine.AwardFact) {
				s.Awards = append(s.Awards, analytics.Award{At: a.At, Expires: a.Expires, Partner: pi, Member: member(a.Member),
					Points: a.Points, Outcome: outcomeRules[a.Rule]})
			})
			for _, a := range adjusts {
				if a.Partner != id {
					continue
				}
				at := a.OccurredAt.UnixNano()
				switch {
				case a.Points > 0:
					s.Awards = append(s.Awards, analytics.Award{At: at, Partner: pi, Member: member(a.Member), Points: a.Points})
				case a.Points < 0:
					s.Debits = append(s.Debits, analytics.Debit{At: at, Partner: pi, Member: member(a.Member), Points: -a.Points})
				}
			}
			if s.RevenueMetric != "" {
				e.EachMetricPoint(id, s.RevenueMetric, func(at time.Time, v float64) {
					s.Revenue = append(s.Revenue, analytics.Amount{At: at.UnixNano(), Partner: pi, Value: v})
				})
			}
		})
	}
	if rs := rewards; rs != nil {
		for _, d := range rs.Redemptions(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) {
			pi, ok := pIdx[d.Partner]
			if !ok || d.Status == "rejected" {
				continue
			}
			mi := int32(-1)
			if i, ok := mIdx[d.Member]; ok {
				mi = i
			}
			s.Debits = append(s.Debits, analytics.Debit{At: d.At.UnixNano(), Partner: pi, Member: mi, Points: d.Points, Redeemed: true})
		}
	}
	// an event of a member no longer listed counts for its partner alone
	s.Events = make([]analytics.Event, 0, len(events))
	for _, le := range events {
		if le.dead {
			continue
		}
		pi, ok := pIdx[le.partner]
		if !ok {
			continue
		}
		mi := int32(-1)
		if le.member != "" {
			if i, ok := mIdx[le.member]; ok {
				mi = i
			}
		}
		s.Events = append(s.Events, analytics.Event{At: le.at, Type: le.typ, Partner: pi, Member: mi, Qualified: le.qualified})
	}
	s.Sort()
	return s
}

// revenueOf returns the program's revenue metric (its first metric in the
// currency, a sum) and the rules that score that metric's events: their
// awards are outcomes, not engagement.
func revenueOf(p *program.Program) (string, map[string]bool) {
	rules := map[string]bool{}
	for _, name := range p.MetricOrder {
		m := p.Metrics[name]
		if m.Unit != program.UnitCurrency || m.Kind != program.MetricSum {
			continue
		}
		for _, r := range p.Points.Rules {
			for _, t := range r.On {
				if slices.Contains(m.Types, t) {
					rules[r.ID] = true
				}
			}
		}
		return name, rules
	}
	return "", rules
}
