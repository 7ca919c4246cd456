package program

import (
	"strings"
	"testing"
	"time"
)

func calendar(t *testing.T, tz string, fiscalStart int) *Calendar {
	t.Helper()
	c, err := NewCalendar(tz, fiscalStart)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCalendarQuarterEndsAtLocalMidnight(t *testing.T) {
	c := calendar(t, "Europe/Berlin", 1)
	loc := c.Loc
	cases := []struct {
		at         time.Time
		label      string
		start, end time.Time
	}{
		// 23:30 in Berlin on 31 March is 21:30 UTC: still Q1.
		{time.Date(2026, 3, 31, 23, 30, 0, 0, loc), "2026-Q1", time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2026, 4, 1, 0, 0, 0, 0, loc)},
		{time.Date(2026, 4, 1, 0, 30, 0, 0, loc), "2026-Q2", time.Date(2026, 4, 1, 0, 0, 0, 0, loc), time.Date(2026, 7, 1, 0, 0, 0, 0, loc)},
		{time.Date(2026, 12, 31, 23, 30, 0, 0, loc), "2026-Q4", time.Date(2026, 10, 1, 0, 0, 0, 0, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc)},
		{time.Date(2027, 1, 1, 0, 30, 0, 0, loc), "2027-Q1", time.Date(2027, 1, 1, 0, 0, 0, 0, loc), time.Date(2027, 4, 1, 0, 0, 0, 0, loc)},
		// The same instant given in UTC: 22:30 UTC on 31 Dec is 23:30 in Berlin.
		{time.Date(2026, 12, 31, 22, 30, 0, 0, time.UTC), "2026-Q4", time.Date(2026, 10, 1, 0, 0, 0, 0, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc)},
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), "2027-Q1", time.Date(2027, 1, 1, 0, 0, 0, 0, loc), time.Date(2027, 4, 1, 0, 0, 0, 0, loc)},
	}
	for _, tc := range cases {
		if got := c.QuarterLabel(tc.at); got != tc.label {
			t.Errorf("QuarterLabel(%v) = %s, want %s", tc.at, got, tc.label)
		}
		from, to := c.Window(Window{Kind: WindowQuarter}, tc.at)
		if !from.Equal(tc.start) || !to.Equal(tc.end) {
			t.Errorf("quarter of %v = [%v, %v), want [%v, %v)", tc.at, from, to, tc.start, tc.end)
		}
		if !c.PeriodStart(PerQuarter, tc.at).Equal(tc.start) || !c.PeriodEnd(PerQuarter, tc.at).Equal(tc.end) {
			t.Errorf("PeriodStart/End(quarter, %v) disagree with Window", tc.at)
		}
		if !c.ExpiresAt(Expiry{Kind: ExpireQuarter}, tc.at).Equal(tc.end) {
			t.Errorf("quarter expiry of %v = %v, want %v", tc.at, c.ExpiresAt(Expiry{Kind: ExpireQuarter}, tc.at), tc.end)
		}
	}
}

func TestCalendarDayWindowFollowsDST(t *testing.T) {
	c := calendar(t, "Europe/Berlin", 1)
	loc := c.Loc
	cases := []struct {
		name  string
		at    time.Time
		hours float64
	}{
		{"spring forward", time.Date(2026, 3, 29, 12, 0, 0, 0, loc), 23},
		{"fall back", time.Date(2026, 10, 25, 12, 0, 0, 0, loc), 25},
		{"ordinary day", time.Date(2026, 6, 1, 12, 0, 0, 0, loc), 24},
	}
	for _, tc := range cases {
		from, to := c.Window(Window{Kind: WindowDays, N: 1}, tc.at)
		y, m, d := tc.at.Date()
		if !from.Equal(time.Date(y, m, d, 0, 0, 0, 0, loc)) || !to.Equal(time.Date(y, m, d+1, 0, 0, 0, 0, loc)) {
			t.Errorf("%s: 1d window = [%v, %v)", tc.name, from, to)
		}
		if h := to.Sub(from).Hours(); h != tc.hours {
			t.Errorf("%s: day is %v hours, want %v", tc.name, h, tc.hours)
		}
		if s, e := c.PeriodStart(PerDay, tc.at), c.PeriodEnd(PerDay, tc.at); !s.Equal(from) || !e.Equal(to) {
			t.Errorf("%s: day period = [%v, %v)", tc.name, s, e)
		}
	}
}

func TestCalendarDayExpiryIs24Hours(t *testing.T) {
	c := calendar(t, "Europe/Berlin", 1)
	at := time.Date(2026, 3, 28, 12, 0, 0, 0, c.Loc) // the day before spring forward
	got := c.ExpiresAt(Expiry{Kind: ExpireDays, Days: 1}, at)
	if got.Sub(at) != 24*time.Hour {
		t.Errorf("1d expiry = %v, want 24h after %v", got, at)
	}
	if got.In(c.Loc).Hour() != 13 {
		t.Errorf("1d expiry across spring forward = %v, want 13:00 local", got.In(c.Loc))
	}
	if got := c.ExpiresAt(Expiry{Kind: ExpireDays, Days: 90}, at); got.Sub(at) != 90*24*time.Hour {
		t.Errorf("90d expiry = %v", got)
	}
	if got := c.ExpiresAt(Expiry{Kind: ExpireNever}, at); !got.IsZero() {
		t.Errorf("never expiry = %v, want zero", got)
	}
	if got := c.ExpiresAt(Expiry{Kind: ExpireYear}, at); !got.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, c.Loc)) {
		t.Errorf("year expiry = %v", got)
	}
}

func TestCalendarFiscalYearIsNamedByTheYearItEndsIn(t *testing.T) {
	cases := []struct {
		fiscalStart int
		month       time.Month
		year        int
		label       string
	}{
		{1, time.January, 2026, "2026-Q1"},
		{1, time.October, 2026, "2026-Q4"},
		{1, time.December, 2026, "2026-Q4"},
		{2, time.January, 2026, "2026-Q4"},
		{2, time.February, 2026, "2027-Q1"},
		{2, time.May, 2026, "2027-Q2"},
		{2, time.December, 2026, "2027-Q4"},
		{2, time.January, 2027, "2027-Q4"},
		{7, time.June, 2026, "2026-Q4"},
		{7, time.July, 2026, "2027-Q1"},
		{7, time.December, 2026, "2027-Q2"},
		{7, time.January, 2027, "2027-Q3"},
		{7, time.April, 2027, "2027-Q4"},
	}
	for _, tc := range cases {
		c := calendar(t, "UTC", tc.fiscalStart)
		at := time.Date(tc.year, tc.month, 15, 12, 0, 0, 0, time.UTC)
		if got := c.QuarterLabel(at); got != tc.label {
			t.Errorf("fiscal start %d: %s %d = %s, want %s", tc.fiscalStart, tc.month, tc.year, got, tc.label)
		}
	}
}

func TestCalendarParseQuarterInvertsQuarterLabel(t *testing.T) {
	for fs := 1; fs <= 12; fs++ {
		c := calendar(t, "America/New_York", fs)
		for m := 0; m < 30; m++ {
			at := time.Date(2025, time.Month(1+m), 10, 8, 0, 0, 0, c.Loc)
			label := c.QuarterLabel(at)
			start, end, err := c.ParseQuarter(label)
			if err != nil {
				t.Fatal(err)
			}
			if !start.Equal(c.PeriodStart(PerQuarter, at)) || !end.Equal(c.PeriodEnd(PerQuarter, at)) {
				t.Errorf("fiscal start %d: %s = [%v, %v), but %v is in [%v, %v)", fs, label, start, end,
					at, c.PeriodStart(PerQuarter, at), c.PeriodEnd(PerQuarter, at))
			}
			if c.QuarterLabel(end.Add(-time.Nanosecond)) != label || c.QuarterLabel(end) == label {
				t.Errorf("fiscal start %d: %s does not end at %v", fs, label, end)
			}
		}
	}
}

func TestCalendarParseQuarterRejectsBadLabels(t *testing.T) {
	c := calendar(t, "UTC", 1)
	for _, label := range []string{"", "2026Q4", "2026-Q5", "2026-Q0", "26-Q1", "2026-q1", "2026-Q1 "} {
		if _, _, err := c.ParseQuarter(label); err == nil || !strings.Contains(err.Error(), "like 2026-Q4") {
			t.Errorf("ParseQuarter(%q) err = %v", label, err)
		}
	}
	start, end, err := c.ParseQuarter("2026-Q4")
	if err != nil || !start.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) || !end.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("2026-Q4 = [%v, %v), %v", start, end, err)
	}
	c2 := calendar(t, "UTC", 2)
	if start, _, _ := c2.ParseQuarter("2027-Q1"); !start.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("fiscal start 2: 2027-Q1 starts %v, want 2026-02-01", start)
	}
}

func TestCalendarISOWeekCrossesTheYearEnd(t *testing.T) {
	c := calendar(t, "Europe/Berlin", 1)
	loc := c.Loc
	monday := time.Date(2025, 12, 29, 0, 0, 0, 0, loc)
	next := time.Date(2026, 1, 5, 0, 0, 0, 0, loc)
	for _, at := range []time.Time{
		monday,
		time.Date(2026, 1, 1, 10, 0, 0, 0, loc), // Thursday
		time.Date(2026, 1, 4, 23, 59, 0, 0, loc),
	} {
		from, to := c.Window(Window{Kind: WindowWeek}, at)
		if !from.Equal(monday) || !to.Equal(next) {
			t.Errorf("week of %v = [%v, %v), want [%v, %v)", at, from, to, monday, next)
		}
	}
	if from, _ := c.Window(Window{Kind: WindowWeek}, next); !from.Equal(next) {
		t.Errorf("Monday %v starts its own week, got %v", next, from)
	}
}

func TestCalendarQuartersWindow(t *testing.T) {
	cases := []struct {
		fiscalStart int
		at          time.Time
		n           int
		from, to    time.Time
	}{
		{1, time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), 4, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{1, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), 4, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)},
		{2, time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), 4, time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)},
		{1, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), 1, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		c := calendar(t, "UTC", tc.fiscalStart)
		from, to := c.Window(Window{Kind: WindowQuarters, N: tc.n}, tc.at)
		if !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("%dq of %v (fiscal start %d) = [%v, %v), want [%v, %v)", tc.n, tc.at, tc.fiscalStart, from, to, tc.from, tc.to)
		}
	}
}

func TestCalendarNinetyDayWindow(t *testing.T) {
	c := calendar(t, "Europe/Berlin", 1)
	at := time.Date(2026, 6, 15, 10, 0, 0, 0, c.Loc)
	from, to := c.Window(Window{Kind: WindowDays, N: 90}, at)
	if !from.Equal(time.Date(2026, 3, 18, 0, 0, 0, 0, c.Loc)) || !to.Equal(time.Date(2026, 6, 16, 0, 0, 0, 0, c.Loc)) {
		t.Errorf("90d = [%v, %v)", from, to)
	}
	days := 0
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		days++
	}
	if days != 90 {
		t.Errorf("90d window holds %d days", days)
	}
}

func TestCalendarMonthYearAndAllWindows(t *testing.T) {
	c := calendar(t, "America/New_York", 7)
	loc := c.Loc
	at := time.Date(2026, 2, 28, 23, 0, 0, 0, loc)
	if from, to := c.Window(Window{Kind: WindowMonth}, at); !from.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, loc)) || !to.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, loc)) {
		t.Errorf("month = [%v, %v)", from, to)
	}
	if from, to := c.Window(Window{Kind: WindowYear}, at); !from.Equal(time.Date(2025, 7, 1, 0, 0, 0, 0, loc)) || !to.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, loc)) {
		t.Errorf("fiscal year = [%v, %v)", from, to)
	}
	for _, k := range []WindowKind{WindowAll, WindowChallenge} {
		if from, to := c.Window(Window{Kind: k}, at); !from.IsZero() || !to.Equal(MaxTime) {
			t.Errorf("window %d = [%v, %v)", k, from, to)
		}
	}
}

func TestNewCalendarRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct {
		tz string
		fs int
	}{{"Mars/Olympus", 1}, {"Local", 1}, {"UTC", 0}, {"UTC", 13}} {
		if _, err := NewCalendar(tc.tz, tc.fs); err == nil {
			t.Errorf("NewCalendar(%q, %d): want an error", tc.tz, tc.fs)
		}
	}
	if c, err := NewCalendar("", 1); err != nil || c.Loc != time.UTC {
		t.Errorf("empty time zone = %v, %v; want UTC", c, err)
	}
}
