package registration

import (
	"context"
	"time"

	"github.com/rung-dev/rung/internal/jobs"
	"github.com/rung-dev/rung/internal/store"
)

// SweepResult says what one sweep found and did.
type SweepResult struct {
	Checked        int `json:"checked"`         // active registrations looked at
	Expired        int `json:"expired"`         // expiries applied
	OverdueReviews int `json:"overdue_reviews"` // submitted past review_within
	OverdueMeeting int `json:"overdue_meeting"` // approved, meeting deadline passed (expired now)
}

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
	for _, r := range active {
		res.Checked++
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
