package notify

import (
	"context"
	"time"

	"github.com/rung-dev/rung/internal/jobs"
	"github.com/rung-dev/rung/internal/store"
)

// MeetingWarning is how long before a registration's first-meeting
// deadline its partner is warned.
const MeetingWarning = 48 * time.Hour

// EnqueueSLAWarnings looks at the active registrations (issue 7) as of now
// and warns: the vendor team of every registration whose review is
// overdue, and the partner (the member who registered, else the partner's
// channels) of every approved registration whose first meeting is due
// within MeetingWarning. Each warning is sent once per registration and
// deadline. It returns how many it enqueued.
func (s *Service) EnqueueSLAWarnings(ctx context.Context, now time.Time) (int, error) {
	active, err := s.st.ListRegistrations(ctx, store.RegistrationFilter{Active: true})
	if err != nil {
		return 0, err
	}
	var ts []Trigger
	for _, r := range active {
		data := map[string]any{"case": r.ID, "company": r.CompanyName, "partner": r.Partner}
		switch {
		case r.Status == store.RegSubmitted && !r.ReviewDue.IsZero() && now.After(r.ReviewDue):
			data["sla"], data["due"] = "review_overdue", r.ReviewDue.UTC().Format("2006-01-02 15:04 UTC")
			ts = append(ts, Trigger{ID: "sla:review:" + r.ID + ":" + r.ReviewDue.UTC().Format(time.RFC3339), Kind: KindSLAWarning, Data: data})
		case r.Status == store.RegApproved && !r.MeetingDue.IsZero() && r.MeetingAt.IsZero() &&
			now.Before(r.MeetingDue) && r.MeetingDue.Sub(now) <= MeetingWarning:
			data["sla"], data["due"] = "meeting_due", r.MeetingDue.UTC().Format("2006-01-02 15:04 UTC")
			ts = append(ts, Trigger{ID: "sla:meeting:" + r.ID + ":" + r.MeetingDue.UTC().Format(time.RFC3339), Kind: KindSLAWarning,
				Partner: r.Partner, Member: r.Member, Data: data})
		}
	}
	if err := s.Enqueue(ctx, ts...); err != nil {
		return 0, err
	}
	return len(ts), nil
}

// SLAJob runs EnqueueSLAWarnings every 15 minutes on the job runner.
func (s *Service) SLAJob() jobs.Job {
	return jobs.Job{
		Name:  "notify-sla",
		Every: 15 * time.Minute,
		Run: func(ctx context.Context, period time.Time) error {
			_, err := s.EnqueueSLAWarnings(ctx, s.svc.Now())
			return err
		},
	}
}
