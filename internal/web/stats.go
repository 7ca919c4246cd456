package web

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/service"
)

// statsEvery is how often the console's figures are recomputed while
// pages read them; statsIdle is how often while none has for that long.
const (
	statsEvery = 30 * time.Second
	statsIdle  = 5 * time.Minute
)

// statsCache keeps the figures that are too costly to compute for each
// page (events by type, tiers and balances of every partner, the community
// feed), refreshed in the background. Pages read the last snapshot.
//
// While no page has read the figures for idle, they are refreshed every
// idle instead of every every: on a large program a refresh walks this
// quarter's events and every partner, 4 % of a server's CPU under batch
// ingest, which nobody looking need not pay. A page that finds figures
// older than every asks for new ones at once, so the next page has them.
type statsCache struct {
	svc         *service.Service
	log         *slog.Logger
	stop        chan struct{}
	done        chan struct{}
	kick        chan struct{}
	every, idle time.Duration

	read      atomic.Int64 // when a page last read the figures, unix nanoseconds
	refreshes atomic.Int64 // refreshes done (for tests)

	mu  sync.RWMutex
	cur *stats

	// the refresher's own state: this quarter's events, read from the log
	// incrementally.
	after   int64
	quarter string
	events  map[string]eventInfo
	names   map[string]string // partner and member ids, one string each
}

type eventInfo struct {
	typ, partner, member string
}

// stats is one snapshot.
type stats struct {
	At       time.Time // the service's clock
	taken    time.Time // the wall clock, for its age
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

// feedItem is a recognition in the community feed: a badge earned or a
// level reached. It never carries an amount: every partner sees the feed.
type feedItem struct {
	Kind               string // badge | level
	Member, MemberName string // the member, or the partner for a partner's badge
	Partner, PartnerNm string
	Level              string // the level reached, or the badge's level
	Badge              string // the badge's name
	At                 time.Time
}

func newStatsCache(svc *service.Service, log *slog.Logger, every, idle time.Duration) *statsCache {
	c := &statsCache{svc: svc, log: log, stop: make(chan struct{}), done: make(chan struct{}), kick: make(chan struct{}, 1),
		every: every, idle: idle, events: map[string]eventInfo{}, names: map[string]string{}}
	return c // read is 0: idle until a page reads the figures (the first refresh runs at start)
}

// start starts the refresher; close stops it.
func (c *statsCache) start() *statsCache {
	go c.run()
	return c
}

func (c *statsCache) run() {
	defer close(c.done)
	t := time.NewTimer(c.every)
	defer t.Stop()
	for {
		start := time.Now()
		if err := c.refresh(context.Background()); err != nil {
			c.log.Warn("web: refreshing figures", "err", err)
		}
		c.refreshes.Add(1)
		// On a large, busy program a refresh takes a while (it walks this
		// quarter's events and every partner): it takes at most a twentieth
		// of the time, so the figures are older under load, not the
		// ingest slower.
		wait := max(c.every, 20*time.Since(start))
		if time.Since(time.Unix(0, c.read.Load())) >= c.idle {
			wait = max(wait, c.idle)
		}
		t.Reset(wait)
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

// get returns the last snapshot, nil before the first, for a page: one
// older than every asks for a refresh.
func (c *statsCache) get() *stats {
	now := time.Now()
	c.read.Store(now.UnixNano())
	s := c.snapshot()
	if s != nil && now.Sub(s.taken) > c.every {
		c.refreshSoon()
	}
	return s
}

// snapshot returns the last snapshot, nil before the first, without
// counting as a page's read.
func (c *statsCache) snapshot() *stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cur
}

// wait blocks until the first snapshot exists (for tests and benchmarks).
func (c *statsCache) wait() *stats {
	for {
		if s := c.snapshot(); s != nil {
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
		c.quarter, c.after, c.events, c.names = q, 0, map[string]eventInfo{}, map[string]string{}
	}
	// Heads are enough (no attributes); their partner and member point into
	// memory the reader reuses, so they are copied, once per id.
	name := func(s string) string {
		if v, ok := c.names[s]; ok {
			return v
		}
		s = strings.Clone(s)
		c.names[s] = s
		return s
	}
	err := c.svc.Store().RecordHeads(ctx, c.after, func(r *rung.Record) error {
		c.after = r.Seq
		ev := &r.Event
		if r.Retracted || ev.OccurredAt.Before(from) || !ev.OccurredAt.Before(to) {
			delete(c.events, ev.ID)
			return nil
		}
		c.events[ev.ID] = eventInfo{typ: ev.Type, partner: name(ev.Partner), member: name(ev.Member)}
		return nil
	})
	if err != nil {
		return err
	}
	s := &stats{At: now, taken: time.Now(), Quarter: c.quarter, Partners: make(map[string]*partnerStats, len(partners))}
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
			ps.Points = e.PartnerAwarded(id, from, to)
			return nil
		})
	}
	s.Feed = c.feed()
	c.mu.Lock()
	c.cur = s
	c.mu.Unlock()
	return nil
}

// feed takes the newest recognitions from the engine: badges earned and
// levels reached, newest first.
func (c *statsCache) feed() []feedItem {
	var out []feedItem
	c.svc.Read(func(e *engine.Engine) error {
		p := e.Program()
		entries, err := e.Feed(engine.FeedFilter{Limit: 30})
		if err != nil || p == nil {
			return nil
		}
		for _, fe := range entries {
			it := feedItem{Kind: fe.Kind, Member: fe.Subject, MemberName: fe.Name, Partner: fe.Partner, PartnerNm: fe.PartnerName,
				Level: fe.Level, At: fe.At}
			if fe.Kind == "badge" {
				it.Badge = fe.Badge
				if b := p.Badge(fe.Badge); b != nil && b.Name != "" {
					it.Badge = b.Name
				}
			}
			out = append(out, it)
		}
		return nil
	})
	return out
}
