package registration

import (
	"context"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/jobs"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// SweepResult says what one sweep found and did.
type SweepResult struct {
	Checked        int `json:"checked"`         // active registrations looked at
	Expired        int `json:"expired"`         // expiries applied
	OverdueReviews int `json:"overdue_reviews"` // submitted past review_within
	OverdueMeeting int `json:"overdue_meeting"` // approved, meeting deadline passed (expired now)
	// Settled counts conflicts the first_submitted policy settled late.
	Settled int `json:"settled"`
	// Repaired counts events of recently changed registrations that were
	// missing from the log (a write of them failed) and are in now.
	Repaired int `json:"repaired"`
}

// repairWindow is how far back the sweep looks for registrations whose
// events may not have reached the log.
const repairWindow = 24 * time.Hour

// Sweep applies every expiry due by now: approved registrations without a
// first meeting by their meeting deadline, and protection windows that
// ended. Each expiry is dated when it fell due, not when the sweep ran.
// Running it again changes nothing.
func (d *Desk) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	active, err := d.st.ListRegistrations(ctx, store.RegistrationFilter{Active: true})
	if err != nil {
		return res, err
	}
	now = now.UTC()
	var recent []rung.Event
	for _, r := range active {
		if now.Sub(r.UpdatedAt) < repairWindow {
			recent = append(recent, Events(r)...)
		}
	}
	if res.Repaired, err = d.ingest(ctx, recent); err != nil {
		return res, err
	}
	policy := d.Settings().Conflict
	for _, r := range active {
		res.Checked++
		if policy == PolicyFirstSubmitted {
			// A conflict the policy should have settled at submission,
			// had nothing failed then.
			for _, c := range r.Conflicts {
				if c.Winner == "" && c.Second == r.ID {
					if _, err := d.settle(ctx, c, c.First, "first_submitted: the company was registered by another partner first", "policy"); err != nil {
						return res, err
					}
					res.Settled++
				}
			}
		}
		if r.Status == store.RegSubmitted && now.After(r.ReviewDue) {
			res.OverdueReviews++
		}
		at, why := dueExpiry(r, now)
		if at.IsZero() {
			continue
		}
		if why == "no first meeting was logged in time" {
			res.OverdueMeeting++
		}
		got, err := d.expireIfDue(ctx, r.ID, now)
		if err != nil {
			return res, err
		}
		if got.Status == store.RegExpired {
			res.Expired++
		}
	}
	return res, nil
}

// ingest writes events in batches and counts those that were new.
func (d *Desk) ingest(ctx context.Context, evs []rung.Event) (int, error) {
	n := 0
	for len(evs) > 0 {
		k := min(len(evs), 5000)
		in := make([]*service.Incoming, k)
		for i := range in {
			in[i] = &service.Incoming{Event: evs[i]}
		}
		res, err := d.svc.Ingest(ctx, in)
		if err != nil {
			return n, err
		}
		for _, x := range res {
			if x.Status == "accepted" {
				n++
			}
		}
		evs = evs[k:]
	}
	return n, nil
}

// SweepJob is the scheduler's job that runs Sweep every minute on the
// instance that leads.
func (d *Desk) SweepJob() jobs.Job {
	return jobs.Job{
		Name:  "registration-sweep",
		Every: time.Minute,
		Run: func(ctx context.Context, period time.Time) error {
			res, err := d.Sweep(ctx, d.svc.Now())
			if err == nil && (res.Expired > 0 || res.OverdueReviews > 0) {
				d.log.Info("registration sweep", "expired", res.Expired, "overdue_reviews", res.OverdueReviews)
			}
			return err
		},
	}
}
