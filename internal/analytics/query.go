package analytics

import (
	"time"

	"github.com/rung-dev/rung"
)

// DefaultWeeks is the period shown without from and to: the last 13 weeks
// (a quarter), the current one included.
const DefaultWeeks = 13

// ParseQuery reads a period and a cohort as the API and the console take
// them: from and to as dates (2026-01-31, midnight in loc) or RFC 3339
// times, to exclusive; either may be empty. Without from, the period
// starts DefaultWeeks weeks before to (on a Monday); without to, it ends
// now.
func ParseQuery(from, to, cohort string, now time.Time, loc *time.Location) (Query, error) {
	if loc == nil {
		loc = time.UTC
	}
	q := Query{Cohort: cohort}
	var err error
	if q.To, err = parseTime("to", to, loc); err != nil {
		return q, err
	}
	if q.To.IsZero() {
		q.To = now
	}
	if q.From, err = parseTime("from", from, loc); err != nil {
		return q, err
	}
	if q.From.IsZero() {
		weeks := Weeks(loc, q.To.Add(-time.Nanosecond), q.To)
		if len(weeks) > 0 {
			q.From = weeks[0].AddDate(0, 0, -7*(DefaultWeeks-1))
		}
	}
	if !q.From.Before(q.To) {
		return q, rung.Errorf(rung.EINVALID, "the period is empty: from (%s) must be before to (%s)", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	if q.To.Sub(q.From) > 5*366*24*time.Hour {
		return q, rung.Errorf(rung.EINVALID, "the period is longer than five years: choose a later from or an earlier to")
	}
	if _, _, err := ParseCohort(cohort); err != nil {
		return q, err
	}
	return q, nil
}

func parseTime(name, s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		t, err = time.Parse(time.RFC3339, s)
	}
	if err != nil {
		return time.Time{}, rung.Errorf(rung.EINVALID, "%s=%q is not a date: use 2026-01-31 or an RFC 3339 time such as 2026-01-31T00:00:00Z", name, s)
	}
	if t.Year() < 1970 || t.Year() > 2200 {
		return time.Time{}, rung.Errorf(rung.EINVALID, "%s=%q is out of range: use a date between 1970 and 2200", name, s)
	}
	return t, nil
}
