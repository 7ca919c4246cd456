package program

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
	_ "time/tzdata" // time zones work on hosts without a zoneinfo database
)

// Calendar does the program's period arithmetic: local midnights in the
// program's time zone, fiscal quarters from FiscalStart, ISO weeks.
type Calendar struct {
	Loc         *time.Location
	FiscalStart int // month 1..12
}

// NewCalendar returns the calendar for an IANA time zone name and the first
// month of the fiscal year. An empty name is UTC; "Local" is refused, since
// it would make period boundaries depend on the host.
func NewCalendar(tz string, fiscalStart int) (*Calendar, error) {
	if fiscalStart < 1 || fiscalStart > 12 {
		return nil, fmt.Errorf("fiscal year start %d: expected a month from 1 to 12", fiscalStart)
	}
	loc, err := loadLocation(tz)
	if err != nil {
		return nil, err
	}
	return &Calendar{Loc: loc, FiscalStart: fiscalStart}, nil
}

// loadLocation loads an IANA time zone; "" is UTC.
func loadLocation(tz string) (*time.Location, error) {
	if tz == "" || tz == "UTC" {
		return time.UTC, nil
	}
	if tz == "Local" {
		return nil, message("time zone %q depends on the server: use an IANA name such as Europe/Berlin", tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, message("unknown time zone %q: use an IANA name such as Europe/Berlin or America/New_York", tz)
	}
	return loc, nil
}

// loc returns the calendar's location, UTC for a zero Calendar.
func (c *Calendar) loc() *time.Location {
	if c == nil || c.Loc == nil {
		return time.UTC
	}
	return c.Loc
}

// fiscalStart returns the first month of the fiscal year, January for a
// zero Calendar.
func (c *Calendar) fiscalStart() int {
	if c == nil || c.FiscalStart < 1 || c.FiscalStart > 12 {
		return 1
	}
	return c.FiscalStart
}

// Midnight returns the local midnight starting the day containing t.
func (c *Calendar) Midnight(t time.Time) time.Time {
	y, m, d := t.In(c.loc()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, c.loc())
}

// Date returns the local midnight starting a calendar date.
func (c *Calendar) Date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, c.loc())
}

// fiscalMonth returns how many months into the fiscal year month m is
// (0..11).
func (c *Calendar) fiscalMonth(m time.Month) int {
	return (int(m) - c.fiscalStart() + 12) % 12
}

// PeriodStart returns the start of the period containing t. Unknown periods
// are treated as a day.
func (c *Calendar) PeriodStart(p Period, t time.Time) time.Time {
	y, m, d := t.In(c.loc()).Date()
	switch p {
	case PerWeek:
		back := (int(t.In(c.loc()).Weekday()) + 6) % 7 // days since Monday
		return c.Date(y, m, d-back)
	case PerMonth:
		return c.Date(y, m, 1)
	case PerQuarter:
		return c.Date(y, m-time.Month(c.fiscalMonth(m)%3), 1)
	case PerYear:
		return c.Date(y, m-time.Month(c.fiscalMonth(m)), 1)
	}
	return c.Date(y, m, d)
}

// PeriodEnd returns the end (exclusive: the next period's start) of the
// period containing t.
func (c *Calendar) PeriodEnd(p Period, t time.Time) time.Time {
	y, m, d := c.PeriodStart(p, t).Date()
	switch p {
	case PerWeek:
		return c.Date(y, m, d+7)
	case PerMonth:
		return c.Date(y, m+1, d)
	case PerQuarter:
		return c.Date(y, m+3, d)
	case PerYear:
		return c.Date(y, m+12, d)
	}
	return c.Date(y, m, d+1)
}

// QuarterLabel names the fiscal quarter containing t, like "2026-Q4"; the
// fiscal year is named by the calendar year it ends in.
func (c *Calendar) QuarterLabel(t time.Time) string {
	y, m, _ := t.In(c.loc()).Date()
	fm := c.fiscalMonth(m)
	fy := y
	if int(m) < c.fiscalStart() {
		fy-- // the fiscal year started last calendar year
	}
	if c.fiscalStart() != 1 {
		fy++ // named by the year it ends in
	}
	return fmt.Sprintf("%04d-Q%d", fy, fm/3+1)
}

var quarterLabel = regexp.MustCompile(`^(\d{4})-Q([1-4])$`)

// ParseQuarter returns the bounds [start, end) of a quarter label.
func (c *Calendar) ParseQuarter(label string) (start, end time.Time, err error) {
	g := quarterLabel.FindStringSubmatch(label)
	if g == nil {
		return time.Time{}, time.Time{}, fmt.Errorf("bad quarter %q: expected a fiscal year and quarter like 2026-Q4", label)
	}
	fy, _ := strconv.Atoi(g[1])
	q, _ := strconv.Atoi(g[2])
	startYear := fy
	if c.fiscalStart() != 1 {
		startYear--
	}
	start = c.Date(startYear, time.Month(c.fiscalStart()+(q-1)*3), 1)
	y, m, d := start.Date()
	return start, c.Date(y, m+3, d), nil
}

// Window returns the bounds [from, to) of the window containing t. For
// WindowAll, from is the zero time and to is MaxTime. WindowChallenge is
// resolved by the caller; here it returns the same as WindowAll.
func (c *Calendar) Window(w Window, t time.Time) (from, to time.Time) {
	n := w.N
	if n < 1 {
		n = 1
	}
	switch w.Kind {
	case WindowQuarter:
		return c.PeriodStart(PerQuarter, t), c.PeriodEnd(PerQuarter, t)
	case WindowYear:
		return c.PeriodStart(PerYear, t), c.PeriodEnd(PerYear, t)
	case WindowMonth:
		return c.PeriodStart(PerMonth, t), c.PeriodEnd(PerMonth, t)
	case WindowWeek:
		return c.PeriodStart(PerWeek, t), c.PeriodEnd(PerWeek, t)
	case WindowQuarters:
		y, m, d := c.PeriodStart(PerQuarter, t).Date()
		return c.Date(y, m-time.Month(3*(n-1)), d), c.PeriodEnd(PerQuarter, t)
	case WindowDays:
		y, m, d := t.In(c.loc()).Date()
		return c.Date(y, m, d-(n-1)), c.Date(y, m, d+1)
	}
	return time.Time{}, MaxTime
}

// ExpiresAt returns when points awarded at t expire, or the zero time for
// never: the end of the fiscal quarter or year containing t, or N×24 hours
// after t.
func (c *Calendar) ExpiresAt(e Expiry, t time.Time) time.Time {
	switch e.Kind {
	case ExpireQuarter:
		return c.PeriodEnd(PerQuarter, t)
	case ExpireYear:
		return c.PeriodEnd(PerYear, t)
	case ExpireDays:
		return t.Add(time.Duration(e.Days) * 24 * time.Hour)
	}
	return time.Time{}
}

// MaxTime is the end of every open window.
var MaxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
