package notify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store"
)

// errBehind stops a watch at a record the engine has not applied yet.
var errBehind = errors.New("engine behind the log")

// Watch reads the event log after its cursor (kept in the store's meta,
// so the next leader goes on where this one stopped) and enqueues what
// the new records caused: badges earned and levels reached (from the
// engine's effects of each event) and registration decisions and expiries
// (from the registration events, issue 7). The first watch on a database
// starts at the end of the log: history is not announced. It returns how
// many triggers it enqueued.
func (s *Service) Watch(ctx context.Context) (int, error) {
	cur, err := s.st.Meta(ctx, metaCursor)
	if err != nil {
		return 0, err
	}
	if cur == "" {
		last, err := s.st.LastSeq(ctx)
		if err != nil {
			return 0, err
		}
		return 0, s.st.SetMeta(ctx, metaCursor, strconv.FormatInt(last, 10))
	}
	after, err := strconv.ParseInt(cur, 10, 64)
	if err != nil {
		return 0, rung.Errorf(rung.EINTERNAL, "meta %s=%q is not a log position", metaCursor, cur)
	}
	// The records are read first, then looked at in the engine a chunk at
	// a time under one read lock, not a lock a record.
	var recs []rung.Record
	const most = 2000
	err = s.st.Records(ctx, after, func(r *rung.Record) error {
		if len(recs) >= most {
			return errBehind // enough for one tick
		}
		rec := *r
		rec.Event.Attrs = nil
		if isRegistration(r.Event) {
			rec.Event.Attrs = maps.Clone(r.Event.Attrs) // r's is reused
		}
		recs = append(recs, rec)
		return nil
	})
	if err != nil && !errors.Is(err, errBehind) {
		return 0, err
	}
	ts, seq := s.triggers(recs, after)
	if seq == after {
		return 0, nil
	}
	for i := range ts {
		if ts[i].Kind != KindRegistrationDecision {
			continue
		}
		// The log holds the normalized company name; the message says it
		// as the partner wrote it.
		if reg, err := s.st.Registration(ctx, fmt.Sprint(ts[i].Data["case"])); err == nil {
			ts[i].Data["company"] = reg.CompanyName
			if ts[i].Data["status"] == "approved" && !reg.ProtectedUntil.IsZero() {
				ts[i].Data["protected_until"] = reg.ProtectedUntil.Format("2006-01-02")
			}
			if ts[i].Data["status"] == "declined" {
				ts = append(ts, s.conflictWon(ctx, reg)...)
			}
		}
	}
	if err := s.Enqueue(ctx, ts...); err != nil {
		return 0, err
	}
	return len(ts), s.st.SetMeta(ctx, metaCursor, strconv.FormatInt(seq, 10))
}

// triggers returns what recs, read after seq after, should tell people,
// and the seq of the last record looked at: the records before the first
// one the engine has not applied yet.
func (s *Service) triggers(recs []rung.Record, after int64) ([]Trigger, int64) {
	var ts []Trigger
	seq := after
	const chunk = 256
	for len(recs) > 0 {
		part := recs[:min(chunk, len(recs))]
		recs = recs[len(part):]
		behind := false
		s.svc.Read(func(e *engine.Engine) error {
			for i := range part {
				r := &part[i]
				if known, _, version := e.Known(r.Event.ID); !known || version < r.Version {
					behind = true
					return nil
				}
				if !r.Retracted {
					ts = append(ts, triggersOf(e, r)...)
				}
				seq = r.Seq
			}
			return nil
		})
		if behind {
			break
		}
	}
	return ts, seq
}

// isRegistration reports whether ev is a registration's event.
func isRegistration(ev rung.Event) bool {
	return strings.HasPrefix(ev.Type, "registration.") || ev.Source == "registration"
}

// triggersOf returns what one log record should tell people.
func triggersOf(e *engine.Engine, r *rung.Record) []Trigger {
	var out []Trigger
	ev := r.Event
	if isRegistration(ev) {
		if t, ok := registrationTrigger(ev); ok {
			out = append(out, t)
		}
	}
	ef, err := e.EventEffects(ev.ID)
	if err != nil {
		return out
	}
	for _, b := range ef.Badges {
		if b.Change != "awarded" {
			continue
		}
		t := Trigger{ID: "badge:" + b.Subject + ":" + b.Badge + ":" + b.Level, Kind: KindBadge,
			Data: map[string]any{"badge": b.Badge, "name": b.Name, "level": b.Level}}
		if b.Kind == "member" {
			t.Member, t.Partner = b.Subject, ev.Partner
		} else {
			t.Partner = b.Subject
		}
		out = append(out, t)
	}
	for _, l := range ef.Levels {
		out = append(out, Trigger{ID: "level:" + l.Member + ":" + l.Level, Kind: KindLevel, Member: l.Member, Partner: ev.Partner,
			Data: map[string]any{"level": l.Level}})
	}
	return out
}

// registrationTrigger turns a registration's decision or expiry event
// into a notification for the member who submitted it (or the partner).
func registrationTrigger(ev rung.Event) (Trigger, bool) {
	status := ""
	switch ev.Type {
	case "registration.approved":
		status = "approved"
	case "registration.declined":
		status = "declined"
	case "registration.needs_info":
		status = "needs_info"
	case "registration.expired":
		status = "expired"
	default:
		return Trigger{}, false
	}
	data := map[string]any{"case": ev.Attrs["registration"], "company": ev.Attrs["company"], "status": status}
	if r, ok := ev.Attrs["reason"]; ok {
		data["reason"] = r
	}
	if data["case"] == nil {
		data["case"] = ev.ID
	}
	return Trigger{ID: fmt.Sprintf("registration:%s", ev.ID), Kind: KindRegistrationDecision, Partner: ev.Partner, Member: ev.Member, Data: data}, true
}

// conflictWon tells the winners of the conflicts a declined registration
// lost (issue 7: the outcome is told to both partners; the loser hears
// of it as its decline). The winner learns only that its own registration
// keeps the company, and the reason the admin gave to both.
func (s *Service) conflictWon(ctx context.Context, lost store.Registration) []Trigger {
	var out []Trigger
	for _, c := range lost.Conflicts {
		if c.Winner == "" || c.Winner == lost.ID {
			continue
		}
		won, err := s.st.Registration(ctx, c.Winner)
		if err != nil {
			continue
		}
		out = append(out, Trigger{ID: "registration:conflict:" + won.ID + ":" + lost.ID, Kind: KindRegistrationDecision,
			Partner: won.Partner, Member: won.Member,
			Data: map[string]any{"case": won.ID, "company": won.CompanyName, "status": "conflict_won", "reason": c.Reason}})
	}
	return out
}
