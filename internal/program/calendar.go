package program

import (
	"fmt"
	"math"
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

// Same reports whether c and o cut time into the same periods: the same
// time zone and the same first month of the fiscal year.
func (c *Calendar) Same(o *Calendar) bool {
	return c.loc().String() == o.loc().String() && c.fiscalStart() == o.fiscalStart()
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
	y, m, d := c.periodStartDate(p, t.In(c.loc()))
	return c.Date(y, m, d)
}

// periodStartDate is the local date (not normalized) on which the period
// containing the local time lt starts.
func (c *Calendar) periodStartDate(p Period, lt time.Time) (int, time.Month, int) {
	y, m, d := lt.Date()
	switch p {
	case PerWeek:
		back := (int(lt.Weekday()) + 6) % 7 // days since Monday
		return y, m, d - back
	case PerMonth:
		return y, m, 1
	case PerQuarter:
		return y, m - time.Month(c.fiscalMonth(m)%3), 1
	case PerYear:
		return y, m - time.Month(c.fiscalMonth(m)), 1
	}
	return y, m, d
}

// PeriodEnd returns the end (exclusive: the next period's start) of the
// period containing t.
func (c *Calendar) PeriodEnd(p Period, t time.Time) time.Time {
	return c.periodEndAfter(p, c.PeriodStart(p, t))
}

// periodEndAfter returns the end of the period that starts at start.
func (c *Calendar) periodEndAfter(p Period, start time.Time) time.Time {
	y, m, d := start.Date()
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

// periodBounds is PeriodStart and PeriodEnd at once.
func (c *Calendar) periodBounds(p Period, t time.Time) (start, end time.Time) {
	start = c.PeriodStart(p, t)
	return start, c.periodEndAfter(p, start)
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
		return c.periodBounds(PerQuarter, t)
	case WindowYear:
		return c.periodBounds(PerYear, t)
	case WindowMonth:
		return c.periodBounds(PerMonth, t)
	case WindowWeek:
		return c.periodBounds(PerWeek, t)
	case WindowQuarters:
		start, end := c.periodBounds(PerQuarter, t)
		y, m, d := start.Date()
		return c.Date(y, m-time.Month(3*(n-1)), d), end
	case WindowDays:
		y, m, d := t.In(c.loc()).Date()
		return c.Date(y, m, d-(n-1)), c.Date(y, m, d+1)
	}
	return time.Time{}, MaxTime
}

// WindowSpan is Window with the span of instants [lo, hi), in unix
// nanoseconds and holding t, for which Window returns the same bounds:
// a caller asking for many instants in order can reuse one answer. The
// span may be shorter than the largest such span (it ends where the
// zone's UTC offset changes), never longer. t must be within the range
// of unix nanoseconds (years 1678 to 2261).
func (c *Calendar) WindowSpan(w Window, t time.Time) (from, to time.Time, lo, hi int64) {
	from, to = c.Window(w, t)
	// Window depends on t only through its local date: the span is the
	// instants whose local date lies in the same period of dates (a day
	// for a window of days, a quarter for one of quarters, the window's
	// own period otherwise), taken where the zone's offset is t's so
	// that local dates and instants are in step.
	var p Period
	switch w.Kind {
	case WindowQuarter, WindowQuarters:
		p = PerQuarter
	case WindowYear:
		p = PerYear
	case WindowMonth:
		p = PerMonth
	case WindowWeek:
		p = PerWeek
	case WindowDays:
		p = PerDay
	default:
		return from, to, math.MinInt64, math.MaxInt64
	}
	lt := t.In(c.loc())
	y, m, d := c.periodStartDate(p, lt)
	start := time.Date(y, m, d, 0, 0, 0, 0, time.UTC) // the dates as civil days
	end := c.civilEndAfter(p, start)
	_, off := lt.Zone()
	lo, hi = civilNanos(start, off), civilNanos(end, off)
	zs, ze := lt.ZoneBounds()
	if !zs.IsZero() {
		lo = max(lo, civilNanos(zs, 0))
	}
	if !ze.IsZero() {
		hi = min(hi, civilNanos(ze, 0))
	}
	return from, to, lo, hi
}

// civilEndAfter is periodEndAfter on civil days in UTC.
func (c *Calendar) civilEndAfter(p Period, start time.Time) time.Time {
	y, m, d := start.Date()
	switch p {
	case PerWeek:
		return time.Date(y, m, d+7, 0, 0, 0, 0, time.UTC)
	case PerMonth:
		return time.Date(y, m+1, d, 0, 0, 0, 0, time.UTC)
	case PerQuarter:
		return time.Date(y, m+3, d, 0, 0, 0, 0, time.UTC)
	case PerYear:
		return time.Date(y, m+12, d, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// civilNanos is the instant, in unix nanoseconds, at which a UTC wall
// time is reached in a zone offset off seconds east of UTC; saturated
// to the int64 range.
func civilNanos(t time.Time, off int) int64 {
	s := t.Unix() - int64(off)
	switch {
	case s <= math.MinInt64/int64(time.Second):
		return math.MinInt64
	case s >= math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	}
	return s*int64(time.Second) + int64(t.Nanosecond())
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
