package program

import "time"

// Calendar does the program's period arithmetic: local midnights in the
// program's time zone, fiscal quarters from FiscalStart, ISO weeks.
type Calendar struct {
	Loc         *time.Location
	FiscalStart int // month 1..12
}

// NewCalendar returns the calendar for an IANA time zone name and the first
// month of the fiscal year.
func NewCalendar(tz string, fiscalStart int) (*Calendar, error) { panic("TODO") }

// PeriodStart returns the start of the period containing t.
func (c *Calendar) PeriodStart(p Period, t time.Time) time.Time { panic("TODO") }

// PeriodEnd returns the end (exclusive: the next period's start) of the
// period containing t.
func (c *Calendar) PeriodEnd(p Period, t time.Time) time.Time { panic("TODO") }

// QuarterLabel names the fiscal quarter containing t, like "2026-Q4"; the
// fiscal year is named by the calendar year it ends in.
func (c *Calendar) QuarterLabel(t time.Time) string { panic("TODO") }

// ParseQuarter returns the bounds [start, end) of a quarter label.
func (c *Calendar) ParseQuarter(label string) (start, end time.Time, err error) { panic("TODO") }

// Window returns the bounds [from, to) of the window containing t. For
// WindowAll, from is the zero time and to is MaxTime. WindowChallenge is
// resolved by the caller; here it returns the same as WindowAll.
func (c *Calendar) Window(w Window, t time.Time) (from, to time.Time) { panic("TODO") }

// ExpiresAt returns when points awarded at t expire, or the zero time for
// never.
func (c *Calendar) ExpiresAt(e Expiry, t time.Time) time.Time { panic("TODO") }

// MaxTime is the end of every open window.
var MaxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
