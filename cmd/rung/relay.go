package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/jobs"
	"github.com/rung-dev/rung/internal/notify"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// relay tells the world what the tiers and challenges did: tier changes
// the outbox's producer found become notifications, and recorded nudges
// and finished challenges become outbox messages (for webhooks) and
// notifications (for people). Every message and notification has an id
// that derives from its cause, so handing one on twice sends it once.
type relay struct {
	svc   *service.Service
	notes *notify.Service
	log   *slog.Logger

	// handed holds the ids of the messages and notifications this process
	// has handed on, so the minute job writes only what is new instead of
	// every partner's challenge announcement and every nudge of the
	// quarter again (ids keep a restarted process from sending twice). It
	// starts afresh each quarter, so it holds one quarter's ids at most.
	mu      sync.Mutex
	handed  map[string]bool
	quarter string
}

// afterProduce is the outbox producer's hook: tier.changed messages,
// whatever moved the tier (a review, an auto-upgrade, an override, an
// appeal), are told to the partner.
func (r *relay) afterProduce(ctx context.Context, msgs []store.OutboxMessage) {
	var ts []notify.Trigger
	var ids []string
	for _, m := range msgs {
		if m.Type != outbox.TierChanged {
			continue
		}
		var p outbox.LevelPayload
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			r.log.Error("relay: tier.changed payload", "id", m.ID, "err", err)
			continue
		}
		ts = append(ts, notify.Trigger{ID: m.ID, Kind: notify.KindTierChange, Partner: p.Subject,
			Data: map[string]any{"from": p.Previous, "to": p.Level}})
		ids = append(ids, p.Subject)
	}
	if len(ts) == 0 {
		return
	}
	names := r.partnerNames(ids)
	for _, t := range ts {
		t.Data["partner_name"] = names[t.Partner]
	}
	if err := r.notes.Enqueue(ctx, ts...); err != nil {
		r.log.Error("relay: tier change notifications", "err", err)
	}
}

// partnerNames names the partners of ids (a name is its id when the
// partner has none), under one read of the engine.
func (r *relay) partnerNames(ids []string) map[string]string {
	names := make(map[string]string, len(ids))
	r.svc.Read(func(e *engine.Engine) error {
		for _, id := range ids {
			names[id] = id
			if p, ok := e.Partner(id); ok && p.Name != "" {
				names[id] = p.Name
			}
		}
		return nil
	})
	return names
}

// job hands on the nudges the tier job recorded this quarter, the
// challenges that started (to every partner, in their first week) and
// those that became final, once a minute on the leading instance. Where
// a running challenge stands goes out in the weekly digest.
func (r *relay) job() jobs.Job {
	return jobs.Job{Name: "relay.tiers-challenges", Every: time.Minute, Run: func(ctx context.Context, _ time.Time) error {
		return r.step(ctx)
	}}
}

func (r *relay) step(ctx context.Context) error {
	_, err := r.handOn(ctx)
	return err
}

// handOn writes what is new since the last step and returns how many
// messages and notifications that was.
func (r *relay) handOn(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.svc.Now()
	var quarter string
	var finals []engine.ChallengeStandings
	var started []notify.Trigger
	r.svc.Read(func(e *engine.Engine) error {
		quarter = e.Calendar().QuarterLabel(now)
		for _, c := range e.Challenges(now) {
			if c.Status == engine.ChallengeRunning && c.Kind == "challenge" && now.Sub(c.Starts) < 7*24*time.Hour {
				// Each partner's team hears of a new challenge once, in its
				// first week.
				last := c.Ends.Add(-time.Nanosecond).In(e.Calendar().Loc).Format(time.DateOnly)
				for _, pid := range e.PartnerIDs() {
					started = append(started, notify.Trigger{ID: "challenge-start:" + c.ID + ":" + pid, Kind: notify.KindChallengeStart,
						Partner: pid, Data: map[string]any{"name": c.Name, "ends": last}})
				}
			}
			if c.Status != engine.ChallengeFinal || c.Kind != "challenge" || now.Sub(c.FinalizesAt) > 7*24*time.Hour {
				continue // quests reward as they are completed; old results were told then
			}
			if st, err := e.Challenge(c.ID, engine.ChallengeQuery{Limit: 1000}); err == nil {
				finals = append(finals, st)
			}
		}
		return nil
	})
	if quarter != r.quarter {
		r.handed, r.quarter = map[string]bool{}, quarter
	}
	nudges, err := r.svc.Nudges(ctx, "")
	if err != nil {
		return 0, err
	}
	var msgs []store.OutboxMessage
	ts := started
	var ids []string
	for _, n := range nudges {
		if n.Quarter == quarter && !r.handed[n.ID] {
			ids = append(ids, n.Partner)
		}
	}
	names := r.partnerNames(ids)
	for _, n := range nudges {
		if n.Quarter != quarter || r.handed[n.ID] {
			continue
		}
		m, err := outbox.NudgeMessage(n.Tier+":"+n.Quarter, outbox.NudgePayload{Subject: n.Partner, Kind: "partner", Toward: n.Tier, Text: n.Message}, n.At)
		if err != nil {
			return 0, err
		}
		msgs = append(msgs, m)
		ts = append(ts, notify.Trigger{ID: n.ID, Kind: notify.KindNudge, Partner: n.Partner,
			Data: map[string]any{"next": n.Tier, "missing": strings.Join(n.Missing, "; "), "partner_name": names[n.Partner]}})
	}
	for _, c := range finals {
		p := outbox.ChallengePayload{Challenge: c.ID, Name: c.Name, Ended: c.Ends}
		for _, en := range c.Entries {
			if !en.Winner {
				continue
			}
			p.Results = append(p.Results, outbox.ChallengeSpot{Rank: en.Place, Subject: en.Subject, Kind: c.For, Value: en.Value})
			t := notify.Trigger{ID: fmt.Sprintf("challenge:%s:%s", c.ID, en.Subject), Kind: notify.KindChallengeResult,
				Data: map[string]any{"name": c.Name, "rank": strconv.Itoa(en.Place)}}
			if c.For == "member" {
				t.Member, t.Partner = en.Subject, en.Partner
			} else {
				t.Partner = en.Subject
			}
			ts = append(ts, t)
		}
		m, err := outbox.ChallengeMessage(p, c.FinalizesAt)
		if err != nil {
			return 0, err
		}
		msgs = append(msgs, m)
	}
	msgs = slices.DeleteFunc(msgs, func(m store.OutboxMessage) bool { return r.handed[m.ID] })
	ts = slices.DeleteFunc(ts, func(t notify.Trigger) bool { return r.handed[t.ID] })
	if err := outbox.Emit(ctx, r.svc.Store(), msgs...); err != nil {
		return 0, err
	}
	if err := r.notes.Enqueue(ctx, ts...); err != nil {
		return 0, err
	}
	for _, m := range msgs {
		r.handed[m.ID] = true
	}
	for _, t := range ts {
		r.handed[t.ID] = true
	}
	return len(msgs) + len(ts), nil
}
