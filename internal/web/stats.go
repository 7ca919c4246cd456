package web

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/service"
)

// statsEvery is how often the console's figures are recomputed.
const statsEvery = 30 * time.Second

// statsCache keeps the figures that are too costly to compute for each
// page (events by type, tiers and balances of every partner, the community
// feed), refreshed in the background. Pages read the last snapshot.
type statsCache struct {
	svc  *service.Service
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
	kick chan struct{}

	mu  sync.RWMutex
	cur *stats

	// the refresher's own state: this quarter's events, read from the log
	// incrementally.
	after   int64
	quarter string
	events  map[string]eventInfo
}

type eventInfo struct {
	typ, partner, member string
}

// stats is one snapshot.
type stats struct {
	At       time.Time
	Quarter  string
	Partners map[string]*partnerStats
	Feed     []feedItem
}

// partnerStats is one partner's figures this quarter.
type partnerStats struct {
	Events   map[string]int // by type
	Current  int            // current members
	Members  int            // members with an event
	Points   int64          // points awarded
	Tier     string
	Balance  int64
	Lifetime int64
}

// feedItem is a recognition in the community feed: a level reached.
type feedItem struct {
	Member, MemberName string
	Partner, PartnerNm string
	Level              string
	At                 time.Time
}

func newStatsCache(svc *service.Service, log *slog.Logger) *statsCache {
	c := &statsCache{svc: svc, log: log, stop: make(chan struct{}), done: make(chan struct{}), kick: make(chan struct{}, 1),
		events: map[string]eventInfo{}}
	go c.run()
	return c
}

func (c *statsCache) run() {
	defer close(c.done)
	t := time.NewTicker(statsEvery)
	defer t.Stop()
	for {
		if err := c.refresh(context.Background()); err != nil {
			c.log.Warn("web: refreshing figures", "err", err)
		}
		select {
		case <-c.stop:
			return
		case <-t.C:
		case <-c.kick:
		}
	}
}

// refreshSoon asks for new figures (after a program change).
func (c *statsCache) refreshSoon() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *statsCache) close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
}

// get returns the last snapshot, nil before the first.
func (c *statsCache) get() *stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cur
}

// wait blocks until the first snapshot exists (for tests and benchmarks).
func (c *statsCache) wait() *stats {
	for {
		if s := c.get(); s != nil {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *statsCache) refresh(ctx context.Context) error {
	now := c.svc.Now()
	var cal *program.Calendar
	var partners []string
	c.svc.Read(func(e *engine.Engine) error {
		cal = e.Calendar()
		partners = e.PartnerIDs()
		return nil
	})
	from, to := cal.PeriodStart(program.PerQuarter, now), cal.PeriodEnd(program.PerQuarter, now)
	if q := cal.QuarterLabel(now); q != c.quarter {
		c.quarter, c.after, c.events = q, 0, map[string]eventInfo{}
	}
	err := c.svc.Store().Records(ctx, c.after, func(r *rung.Record) error {
		c.after = r.Seq
		ev := &r.Event
		if r.Retracted || ev.OccurredAt.Before(from) || !ev.OccurredAt.Before(to) {
			delete(c.events, ev.ID)
			return nil
		}
		c.events[ev.ID] = eventInfo{typ: ev.Type, partner: ev.Partner, member: ev.Member}
		return nil
	})
	if err != nil {
		return err
	}
	s := &stats{At: now, Quarter: c.quarter, Partners: make(map[string]*partnerStats, len(partners))}
	for _, id := range partners {
		s.Partners[id] = &partnerStats{Events: map[string]int{}}
	}
	active := map[[2]string]bool{}
	for _, ev := range c.events {
		ps := s.Partners[ev.partner]
		if ps == nil {
			continue
		}
		ps.Events[ev.typ]++
		if ev.member != "" && !active[[2]string{ev.partner, ev.member}] {
			active[[2]string{ev.partner, ev.member}] = true
			ps.Members++
		}
	}
	// Partner by partner, so that writers wait for one partner at most.
	for _, id := range partners {
		ps := s.Partners[id]
		c.svc.Read(func(e *engine.Engine) error {
			if tier, pts, ok := e.PartnerSummary(id, time.Time{}); ok {
				ps.Tier, ps.Balance, ps.Lifetime = tier, pts.Balance, pts.Lifetime
			}
			ps.Current = len(e.MemberIDs(id))
			if l, err := e.Ledger(engine.LedgerFilter{Partner: id, From: from, To: to}); err == nil {
				for _, le := range l {
					if le.Kind == "award" {
						ps.Points += le.Points
					}
				}
			}
			return nil
		})
	}
	s.Feed = c.feed(now)
	c.mu.Lock()
	c.cur = s
	c.mu.Unlock()
	return nil
}

// feed finds the levels members reached in the last 90 days, newest first.
func (c *statsCache) feed(now time.Time) []feedItem {
	var out []feedItem
	since := now.AddDate(0, 0, -90)
	var members []string
	c.svc.Read(func(e *engine.Engine) error {
		members = e.MemberIDs("")
		return nil
	})
	for _, id := range members {
		c.svc.Read(func(e *engine.Engine) error {
			p := e.Program()
			if p == nil || len(p.Levels) == 0 {
				return nil
			}
			m, ok := e.Member(id)
			if !ok {
				return nil
			}
			l, err := e.Ledger(engine.LedgerFilter{Member: id})
			if err != nil {
				return nil
			}
			var sum int64
			for _, le := range l {
				before, _ := p.LevelAt(sum)
				sum += le.Points
				after, _ := p.LevelAt(sum)
				if after.At > before.At && le.OccurredAt.After(since) {
					partner := le.Partner
					pn := partner
					if pp, ok := e.Partner(partner); ok {
						pn = pp.Name
					}
					out = append(out, feedItem{Member: id, MemberName: m.Name, Partner: partner, PartnerNm: pn, Level: after.Name, At: le.OccurredAt})
				}
			}
			return nil
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].Member < out[j].Member
	})
	if len(out) > 30 {
		out = out[:30]
	}
	return out
}
