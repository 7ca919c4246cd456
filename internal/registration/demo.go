package registration

import (
	"context"
	"fmt"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// demoCompanies are the customers of the demo's registrations.
var demoCompanies = []struct{ name, domain string }{
	{"Globex Corporation", "globex.com"}, {"Initech Ltd", "initech.co.uk"}, {"Umbrella Pharma GmbH", "umbrella-pharma.de"},
	{"Soylent Foods Inc.", "soylent.com"}, {"Tyrell Systems", "tyrell.io"}, {"Wonka Industries S.A.", "wonka.fr"},
	{"Stark Logistics B.V.", "stark-logistics.nl"}, {"Nakatomi Trading K.K.", "nakatomi.co.jp"}, {"Cyberdyne Pty Ltd", "cyberdyne.com.au"},
	{"Oscorp Sp. z o.o.", "oscorp.pl"}, {"Hooli Brasil Ltda.", "hooli.com.br"}, {"Vandelay Imports LLC", "vandelay.com"},
	{"Massive Dynamic AB", "massivedynamic.se"}, {"Aperture Science Oy", "aperture.fi"}, {"Dunder Mifflin Paper Company", "dundermifflin.com"},
	{"Bluth Company", "bluth.com"}, {"Pied Piper Inc.", "piedpiper.com"}, {"Wayne Enterprises PLC", "wayne.co.uk"},
	{"Gringotts S.p.A.", "gringotts.it"}, {"Sirius Cybernetics AG", "sirius.ch"},
}

// SeedDemo fills a demo database with registrations in every state,
// dated over the last two months before now: waiting (some past their
// review SLA), needing information, approved (some about to lose
// protection for want of a meeting), with a meeting, won, lost, declined,
// expired, and conflicts both settled and open. It returns how many it
// made.
func (d *Desk) SeedDemo(ctx context.Context, partners []rung.Partner, now time.Time) (int, error) {
	if len(partners) < 2 {
		return 0, nil
	}
	set := d.Settings()
	day := 24 * time.Hour
	now = now.UTC().Truncate(time.Minute)
	// target state and days ago it was submitted
	plan := []struct {
		state string
		ago   int
	}{
		{store.RegSubmitted, 1}, {store.RegSubmitted, 4}, {store.RegSubmitted, 6}, {store.RegNeedsInfo, 3},
		{store.RegApproved, 5}, {store.RegApproved, 13}, {store.RegMeeting, 20}, {store.RegMeeting, 40},
		{store.RegWon, 55}, {store.RegWon, 35}, {store.RegLost, 45}, {store.RegDeclined, 10},
		{store.RegExpired, 30}, {store.RegApproved, 2}, {store.RegSubmitted, 0}, {store.RegMeeting, 9},
		{store.RegWon, 60}, {store.RegDeclined, 25}, {store.RegNeedsInfo, 8}, {store.RegExpired, 50},
	}
	products := []string{"cloud", "on-prem", "analytics"}
	channels := []string{"api", "form", "email", "slack", "csv"}
	n := 0
	for i, c := range demoCompanies {
		p := partners[i%len(partners)]
		pl := plan[i%len(plan)]
		at := now.Add(-time.Duration(pl.ago)*day - time.Duration(i)*time.Hour)
		kind := KindDeal
		if i%3 == 2 {
			kind = KindLead
		}
		in := Input{Kind: kind, Partner: p.ID, CompanyName: c.name, CompanyDomain: c.domain, ContactName: "Buyer " + fmt.Sprint(i+1),
			ContactEmail: "buyer@" + c.domain, Amount: float64(20000 + 7500*(i%9)), Region: p.Region, Product: products[i%len(products)],
			Channel: channels[i%len(channels)], By: "demo"}
		r, err := d.check(in, at, set)
		if err != nil {
			return n, fmt.Errorf("demo registration %s: %w", c.name, err)
		}
		out, created, err := d.st.SubmitRegistration(ctx, r)
		if err != nil || !created {
			return n, err
		}
		n++
		if pl.state != store.RegSubmitted {
			demoAdvance(&out, pl.state, at, set.Hold, set.MeetingWithin, set.ExtendOnMeeting)
			if err := d.st.UpdateRegistration(ctx, out); err != nil {
				return n, err
			}
		}
		if err := d.emit(ctx, out); err != nil {
			return n, err
		}
		// Every fourth company is registered by a second partner a day
		// later: a conflict, open for the newest, settled for the older.
		if i%4 == 1 {
			other := partners[(i+1)%len(partners)]
			in.Partner, in.Channel = other.ID, "api"
			r2, err := d.check(in, at.Add(day), set)
			if err != nil {
				return n, err
			}
			if r2.SubmittedAt.After(now) {
				continue
			}
			got, _, err := d.st.SubmitRegistration(ctx, r2)
			if err != nil {
				return n, err
			}
			n++
			if err := d.emit(ctx, got); err != nil {
				return n, err
			}
			if pl.ago > 4 && len(got.Conflicts) > 0 {
				if _, err := d.settleAt(ctx, got.Conflicts[0], out.ID, "first_meeting: the first partner logged the first meeting", "policy", at.Add(2*day)); err != nil {
					return n, err
				}
			}
		}
	}
	return n, nil
}

// demoAdvance moves a new registration to state through the transitions a
// real one would take, dated after at.
func demoAdvance(r *store.Registration, state string, at time.Time, hold, meetingWithin, extend time.Duration) {
	h := time.Hour
	approve := func(t time.Time) {
		r.RespondedAt, r.ApprovedAt, r.ProtectedUntil = t, t, t.Add(hold)
		if meetingWithin > 0 {
			r.MeetingDue = t.Add(meetingWithin)
		}
		transition(r, t, store.RegApproved, "demo-admin", "")
	}
	meet := func(t time.Time) {
		r.MeetingAt = t
		r.ProtectedUntil = r.ProtectedUntil.Add(extend)
		transition(r, t, store.RegMeeting, "demo", "")
	}
	switch state {
	case store.RegSubmitted:
		return
	case store.RegNeedsInfo:
		r.RespondedAt, r.Reason = at.Add(20*h), "Which business unit is buying, and is there a budget this year?"
		transition(r, at.Add(20*h), store.RegNeedsInfo, "demo-admin", r.Reason)
	case store.RegDeclined:
		r.RespondedAt, r.ClosedAt, r.Reason = at.Add(30*h), at.Add(30*h), "The customer is served directly by our enterprise team."
		transition(r, at.Add(30*h), store.RegDeclined, "demo-admin", r.Reason)
	case store.RegApproved:
		approve(at.Add(9 * h))
	case store.RegMeeting:
		approve(at.Add(5 * h))
		meet(at.Add(4 * 24 * h))
	case store.RegWon, store.RegLost:
		approve(at.Add(6 * h))
		meet(at.Add(6 * 24 * h))
		r.ClosedAt = at.Add(30 * 24 * h)
		if state == store.RegLost {
			r.Reason = "Chose a competitor on price."
		}
		transition(r, r.ClosedAt, state, "demo-crm", r.Reason)
	case store.RegExpired:
		approve(at.Add(12 * h))
		r.ClosedAt, r.Reason = r.MeetingDue, "no first meeting was logged in time"
		if r.MeetingDue.IsZero() {
			r.ClosedAt, r.Reason = r.ProtectedUntil, "the protection window ended"
		}
		transition(r, r.ClosedAt, store.RegExpired, "sweep", r.Reason)
	}
	r.Version++
}

// settleAt is settle with the decision dated at.
func (d *Desk) settleAt(ctx context.Context, c store.Conflict, winner, reason, by string, at time.Time) (store.Conflict, error) {
	c.Winner, c.Reason, c.DecidedBy, c.DecidedAt = winner, reason, by, at
	got, err := d.st.SettleConflict(ctx, c)
	if err != nil {
		return got, err
	}
	loser, err := d.st.Registration(ctx, got.Other(got.Winner))
	if err != nil || !store.RegistrationActive(loser.Status) {
		return got, err
	}
	loser.ClosedAt, loser.Reason = at, "conflict: "+got.Reason
	if loser.RespondedAt.IsZero() {
		loser.RespondedAt = at
	}
	transition(&loser, at, store.RegDeclined, by, loser.Reason)
	loser.Version++
	if err := d.st.UpdateRegistration(ctx, loser); err != nil {
		return got, err
	}
	return got, d.emit(ctx, loser)
}
