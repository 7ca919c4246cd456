package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/jobs"
	"github.com/rung-dev/rung/internal/store"
)

// TierReview is the answer to a tier review (SPEC §5), with the criteria
// values behind each decision.
type TierReview struct {
	Quarter   string                `json:"quarter"`
	DryRun    bool                  `json:"dry_run"`
	Published bool                  `json:"published"` // the decisions are recorded
	Already   bool                  `json:"already_published,omitempty"`
	Decisions []engine.TierDecision `json:"decisions"`
}

// loadTiers reads the recorded tier actions into the engine.
func (s *Service) loadTiers(ctx context.Context) error {
	ds, os, as, err := s.readTierFacts(ctx)
	if err != nil {
		return err
	}
	s.eng.LoadTierFacts(ds, os, as)
	return nil
}

// reloadTiers reads the tier records again, after another instance wrote
// some, and hands the engine what changed.
func (s *Service) reloadTiers(ctx context.Context) error {
	ds, os, as, err := s.readTierFacts(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eng.LoadTierFacts(ds, os, as)
	return nil
}

func (s *Service) readTierFacts(ctx context.Context) ([]engine.TierDecision, []engine.TierOverride, []engine.TierAppeal, error) {
	recs, err := s.st.TierRecords(ctx, "")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load tier records: %w", err)
	}
	var ds []engine.TierDecision
	var os []engine.TierOverride
	var as []engine.TierAppeal
	for _, r := range recs {
		var err error
		switch r.Kind {
		case store.TierDecision:
			var d engine.TierDecision
			err = json.Unmarshal(r.Body, &d)
			if d.Quarter != "" && d.Partner != "" {
				ds = append(ds, d)
			}
		case store.TierOverride:
			var o engine.TierOverride
			err = json.Unmarshal(r.Body, &o)
			os = append(os, o)
		case store.TierAppeal:
			var a engine.TierAppeal
			err = json.Unmarshal(r.Body, &a)
			as = append(as, a)
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("tier record %s: %w", r.ID, err)
		}
	}
	return ds, os, as, nil
}

// tiersChanged reports whether another instance recorded tier actions.
func tiersChanged(cs []store.Change) bool {
	for _, c := range cs {
		if c.Kind == store.ChangeTier {
			return true
		}
	}
	return false
}

// ReviewTiers reviews a quarter: a dry run computes the decisions; a real
// run records them, once. A quarter that has not ended is refused unless
// it is a dry run; a quarter already published returns its recorded
// decisions and changes nothing.
func (s *Service) ReviewTiers(ctx context.Context, quarter string, dryRun bool, by string) (TierReview, error) {
	out := TierReview{Quarter: quarter, DryRun: dryRun, Decisions: []engine.TierDecision{}}
	var end time.Time
	var published, ds []engine.TierDecision
	err := s.Read(func(e *engine.Engine) error {
		var err error
		if ds, err = e.Review(quarter); err != nil {
			return err
		}
		end, _ = e.QuarterEnd(quarter)
		for _, d := range e.TierDecisions("") {
			if d.Quarter == quarter {
				published = append(published, d)
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	now := s.clock()
	if len(published) > 0 {
		out.Published, out.Already, out.Decisions = true, true, published
		return out, nil
	}
	if dryRun {
		out.Decisions = ds
		return out, nil
	}
	if now.Before(end) {
		return out, rung.Errorf(rung.EINVALID, "quarter %s has not ended (it ends %s): review it as a dry run, or publish after it ends",
			quarter, end.Format(time.RFC3339))
	}
	recs := make([]store.TierRecord, len(ds))
	for i := range ds {
		ds[i].PublishedAt, ds[i].By = now.UTC(), by
		body, err := json.Marshal(ds[i])
		if err != nil {
			return out, err
		}
		recs[i] = store.TierRecord{ID: "decision:" + quarter + ":" + ds[i].Partner, Kind: store.TierDecision,
			Partner: ds[i].Partner, Quarter: quarter, At: ds[i].EffectiveAt, Body: body}
	}
	err = s.do(ctx, &request{kind: kindCustom, custom: func() error {
		n, err := s.st.AddTierRecords(ctx, recs)
		if err != nil {
			return err
		}
		if n < len(recs) {
			// Another instance published first: take what it recorded.
			return s.reloadTiers(ctx)
		}
		s.mu.Lock()
		s.eng.PutTierDecisions(ds)
		s.mu.Unlock()
		return nil
	}}).err
	if err != nil {
		return out, err
	}
	s.audit(ctx, by, "tiers.review", quarter, fmt.Sprintf("%d decisions published", len(ds)))
	out.Published, out.Decisions = true, ds
	s.Read(func(e *engine.Engine) error {
		out.Decisions = out.Decisions[:0]
		for _, d := range e.TierDecisions("") {
			if d.Quarter == quarter {
				out.Decisions = append(out.Decisions, d)
			}
		}
		return nil
	})
	return out, nil
}

func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// SetTierOverride pins a partner's tier with a reason until an expiry
// (zero: until ended by hand).
func (s *Service) SetTierOverride(ctx context.Context, o engine.TierOverride, by string) (engine.TierOverride, error) {
	o.Reason = strings.TrimSpace(o.Reason)
	now := s.clock().UTC()
	if o.From.IsZero() {
		o.From = now
	}
	var d []rung.Detail
	err := s.Read(func(e *engine.Engine) error {
		if _, ok := e.Partner(o.Partner); !ok {
			return rung.Errorf(rung.ENOTFOUND, "partner %q not found", o.Partner)
		}
		p := e.Program()
		if p == nil || p.Tiers == nil {
			return rung.Errorf(rung.EINVALID, "the program has no tiers section: add one before setting overrides")
		}
		if p.TierRank(o.Tier) < 0 {
			d = append(d, rung.Detail{Key: "tier", Message: fmt.Sprintf("%q is not a tier of the program; use one of %s", o.Tier, strings.Join(p.Tiers.Levels, ", "))})
		}
		return nil
	})
	if err != nil {
		return o, err
	}
	if o.Reason == "" {
		d = append(d, rung.Detail{Key: "reason", Message: "say why the tier is overridden, e.g. \"strategic launch partner\""})
	}
	if !o.Until.IsZero() && !o.Until.After(o.From) {
		d = append(d, rung.Detail{Key: "until", Message: "the expiry must be after the start"})
	}
	if len(d) > 0 {
		return o, &rung.Error{Code: rung.EINVALID, Message: "the override is not valid", Details: d}
	}
	o.ID, o.By = newID("ovr_"), by
	if err := s.putTierRecord(ctx, tierOverrideRecord(o), ""); err != nil {
		return o, err
	}
	s.audit(ctx, by, "tiers.override", o.Partner, fmt.Sprintf("%s until %s: %s", o.Tier, untilText(o.Until), o.Reason))
	return o, nil
}

func untilText(t time.Time) string {
	if t.IsZero() {
		return "ended by hand"
	}
	return t.Format(time.RFC3339)
}

// EndTierOverride ends an override now.
func (s *Service) EndTierOverride(ctx context.Context, id, by string) (engine.TierOverride, error) {
	var o engine.TierOverride
	found := false
	s.Read(func(e *engine.Engine) error {
		for _, x := range e.TierOverrides("") {
			if x.ID == id {
				o, found = x, true
			}
		}
		return nil
	})
	now := s.clock().UTC()
	if !found {
		return o, rung.Errorf(rung.ENOTFOUND, "override %q not found", id)
	}
	if !o.Until.IsZero() && !o.Until.After(now) {
		return o, rung.Errorf(rung.ECONFLICT, "override %q has ended already (%s)", id, o.Until.Format(time.RFC3339))
	}
	o.Until = now
	if o.Until.Before(o.From) {
		o.Until = o.From
	}
	if err := s.putTierRecord(ctx, tierOverrideRecord(o), "active"); err != nil {
		return o, err
	}
	s.audit(ctx, by, "tiers.override.end", o.Partner, id)
	return o, nil
}

func tierOverrideRecord(o engine.TierOverride) store.TierRecord {
	body, _ := json.Marshal(o)
	return store.TierRecord{ID: o.ID, Kind: store.TierOverride, Partner: o.Partner, State: "active", At: o.From, Body: body}
}

// putTierRecord adds a record (from "") or updates one whose state is
// from, and applies it to the engine, serialized with the writer.
func (s *Service) putTierRecord(ctx context.Context, r store.TierRecord, from string) error {
	return s.do(ctx, &request{kind: kindCustom, custom: func() error {
		if from == "" {
			n, err := s.st.AddTierRecords(ctx, []store.TierRecord{r})
			if err != nil {
				return err
			}
			if n == 0 {
				return rung.Errorf(rung.ECONFLICT, "%s %q exists already", r.Kind, r.ID)
			}
		} else if err := s.st.UpdateTierRecord(ctx, from, r); err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		switch r.Kind {
		case store.TierOverride:
			var o engine.TierOverride
			json.Unmarshal(r.Body, &o)
			s.eng.PutTierOverride(o)
		case store.TierAppeal:
			var a engine.TierAppeal
			json.Unmarshal(r.Body, &a)
			s.eng.PutTierAppeal(a)
		}
		return nil
	}}).err
}

// AppealID names the one appeal of a partner's decision in a quarter.
func AppealID(quarter, partner string) string { return "appeal:" + quarter + ":" + partner }

// FileAppeal records a partner's appeal of a published decision, with
// text and evidence links. Answer due appeal_days later.
func (s *Service) FileAppeal(ctx context.Context, partner, quarter, text string, evidence []string, by string) (engine.TierAppeal, error) {
	text = strings.TrimSpace(text)
	a := engine.TierAppeal{ID: AppealID(quarter, partner), Partner: partner, Quarter: quarter, Text: text, Evidence: []string{}, By: by,
		At: s.clock().UTC(), Status: engine.AppealOpen}
	for _, l := range evidence {
		if l = strings.TrimSpace(l); l != "" {
			a.Evidence = append(a.Evidence, l)
		}
	}
	var days int
	err := s.Read(func(e *engine.Engine) error {
		if _, ok := e.TierDecision(partner, quarter); !ok {
			return rung.Errorf(rung.ENOTFOUND, "partner %q has no published decision for %s: appeal a decision of a published review", partner, quarter)
		}
		for _, x := range e.TierAppeals(partner) {
			if x.ID == a.ID {
				return rung.Errorf(rung.ECONFLICT, "the decision of %s for %q was appealed already (%s)", quarter, partner, x.Status)
			}
		}
		days = e.Program().Tiers.AppealDays
		return nil
	})
	if err != nil {
		return a, err
	}
	if text == "" {
		return a, &rung.Error{Code: rung.EINVALID, Message: "the appeal is not valid",
			Details: []rung.Detail{{Key: "text", Message: "say why the decision is wrong, and link the evidence"}}}
	}
	for _, l := range a.Evidence {
		if !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") {
			return a, &rung.Error{Code: rung.EINVALID, Message: "the appeal is not valid",
				Details: []rung.Detail{{Key: "evidence", Message: fmt.Sprintf("%q is not a link: give http(s) links to the evidence", l)}}}
		}
	}
	a.DueAt = a.At.AddDate(0, 0, days)
	body, _ := json.Marshal(a)
	r := store.TierRecord{ID: a.ID, Kind: store.TierAppeal, Partner: partner, Quarter: quarter, State: engine.AppealOpen, At: a.At, Body: body}
	if err := s.putTierRecord(ctx, r, ""); err != nil {
		return a, err
	}
	s.audit(ctx, by, "tiers.appeal", partner, quarter+": "+text)
	return a, nil
}

// DecideAppeal upholds or overturns an open appeal (overturn with the new
// tier), with a reply to the partner.
func (s *Service) DecideAppeal(ctx context.Context, id, decision, tier, reply, by string) (engine.TierAppeal, error) {
	var a engine.TierAppeal
	found := false
	var levels []string
	s.Read(func(e *engine.Engine) error {
		for _, x := range e.TierAppeals("") {
			if x.ID == id {
				a, found = x, true
			}
		}
		if p := e.Program(); p != nil && p.Tiers != nil {
			levels = p.Tiers.Levels
		}
		return nil
	})
	if !found {
		return a, rung.Errorf(rung.ENOTFOUND, "appeal %q not found", id)
	}
	if a.Status != engine.AppealOpen {
		return a, rung.Errorf(rung.ECONFLICT, "appeal %q is %s already", id, a.Status)
	}
	switch decision {
	case "uphold":
		a.Status, a.Tier = engine.AppealUpheld, ""
	case "overturn":
		if !slices.Contains(levels, tier) {
			return a, &rung.Error{Code: rung.EINVALID, Message: "the decision is not valid",
				Details: []rung.Detail{{Key: "tier", Message: fmt.Sprintf("overturning needs the new tier: one of %s", strings.Join(levels, ", "))}}}
		}
		a.Status, a.Tier = engine.AppealOverturned, tier
	default:
		return a, &rung.Error{Code: rung.EINVALID, Message: "the decision is not valid",
			Details: []rung.Detail{{Key: "decision", Message: "expected uphold or overturn"}}}
	}
	a.Reply, a.DecidedBy, a.DecidedAt = strings.TrimSpace(reply), by, s.clock().UTC()
	body, _ := json.Marshal(a)
	r := store.TierRecord{ID: a.ID, Kind: store.TierAppeal, Partner: a.Partner, Quarter: a.Quarter, State: a.Status, At: a.At, Body: body}
	if err := s.putTierRecord(ctx, r, engine.AppealOpen); err != nil {
		return a, err
	}
	s.audit(ctx, by, "tiers.appeal."+decision, a.Partner, a.Quarter+": "+a.Reply)
	return a, nil
}

// AppealView is an appeal with whether its answer is overdue.
type AppealView struct {
	engine.TierAppeal
	Overdue bool `json:"overdue"`
}

// TierAppeals lists the appeals of a partner ("" for all), open and
// overdue ones flagged.
func (s *Service) TierAppeals(partner string) []AppealView {
	now := s.clock()
	out := []AppealView{}
	s.Read(func(e *engine.Engine) error {
		for _, a := range e.TierAppeals(partner) {
			out = append(out, AppealView{TierAppeal: a, Overdue: a.Status == engine.AppealOpen && now.After(a.DueAt)})
		}
		return nil
	})
	return out
}

// RecordNudges records the nudges due now, once per partner, tier and
// quarter, and returns how many were new.
func (s *Service) RecordNudges(ctx context.Context) (int, error) {
	var ns []engine.Nudge
	s.Read(func(e *engine.Engine) error {
		ns = e.Nudges(s.clock())
		return nil
	})
	if len(ns) == 0 {
		return 0, nil
	}
	recs := make([]store.TierRecord, len(ns))
	for i, n := range ns {
		body, _ := json.Marshal(n)
		recs[i] = store.TierRecord{ID: n.ID, Kind: store.TierNudge, Partner: n.Partner, Quarter: n.Quarter, At: n.At, Body: body}
	}
	return s.st.AddTierRecords(ctx, recs)
}

// Nudges returns the recorded nudges of a partner ("" for all), oldest
// first: what notifications hand on.
func (s *Service) Nudges(ctx context.Context, partner string) ([]engine.Nudge, error) {
	recs, err := s.st.TierRecords(ctx, store.TierNudge)
	if err != nil {
		return nil, err
	}
	out := []engine.Nudge{}
	for _, r := range recs {
		if partner != "" && r.Partner != partner {
			continue
		}
		var n engine.Nudge
		if err := json.Unmarshal(r.Body, &n); err != nil {
			return nil, fmt.Errorf("nudge %s: %w", r.ID, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// TierJobs are the scheduled tier jobs: the review of each quarter as
// soon as it has ended (published once, on the leader), and an hourly
// sweep that records nudges.
func (s *Service) TierJobs() []jobs.Job {
	return []jobs.Job{
		{
			Name: "tiers.review",
			Period: func(t time.Time) time.Time {
				var start time.Time
				s.Read(func(e *engine.Engine) error {
					start, _, _ = e.Calendar().ParseQuarter(e.QuarterLabel(t))
					return nil
				})
				return start
			},
			Run: func(ctx context.Context, period time.Time) error {
				var q string
				var has bool
				s.Read(func(e *engine.Engine) error {
					p := e.Program()
					has = p != nil && p.Tiers != nil
					q = e.QuarterLabel(period.Add(-time.Hour))
					return nil
				})
				if !has {
					return nil
				}
				r, err := s.ReviewTiers(ctx, q, false, "scheduler")
				if err == nil && !r.Already {
					s.log.Info("tier review published", "quarter", q, "decisions", len(r.Decisions))
				}
				return err
			},
		},
		{
			Name:  "tiers.nudges",
			Every: time.Hour,
			Run: func(ctx context.Context, _ time.Time) error {
				n, err := s.RecordNudges(ctx)
				if n > 0 {
					s.log.Info("tier nudges recorded", "new", n)
				}
				return err
			},
		},
	}
}
