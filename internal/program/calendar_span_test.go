package program

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestCalendarWindowSpan checks that every instant of the span WindowSpan
// gives has the window Window gives for t, in zones with midnight DST
// gaps and overlaps (São Paulo, Santiago, Havana), half-hour shifts (Lord
// Howe) and a skipped day (Apia, December 2011).
func TestCalendarWindowSpan(t *testing.T) {
	zones := []string{"UTC", "Europe/Berlin", "America/Sao_Paulo", "America/Santiago", "America/Havana",
		"Australia/Lord_Howe", "Pacific/Apia", "Asia/Kolkata"}
	windows := []Window{{Kind: WindowQuarter}, {Kind: WindowQuarters, N: 4}, {Kind: WindowYear}, {Kind: WindowMonth},
		{Kind: WindowWeek}, {Kind: WindowDays, N: 1}, {Kind: WindowDays, N: 90}, {Kind: WindowAll}, {Kind: WindowChallenge}}
	r := rand.New(rand.NewPCG(3, 4))
	lo2010, hi2030 := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for _, tz := range zones {
		for _, fs := range []int{1, 2, 7} {
			c := calendar(t, tz, fs)
			// Instants at random, and hours around each offset change.
			var ats []int64
			for range 300 {
				ats = append(ats, lo2010+r.Int64N(hi2030-lo2010))
			}
			for at := time.Date(2010, 1, 1, 0, 0, 0, 0, c.Loc); at.Year() < 2020; {
				_, end := at.ZoneBounds()
				if end.IsZero() {
					break
				}
				for h := int64(-26); h <= 26; h++ {
					ats = append(ats, end.UnixNano()+h*int64(time.Hour)/2-1+r.Int64N(3))
				}
				at = end
			}
			for _, at := range ats {
				for _, w := range windows {
					checkSpan(t, c, w, at, r)
				}
			}
		}
	}
}

func checkSpan(t *testing.T, c *Calendar, w Window, at int64, r *rand.Rand) {
	t.Helper()
	from, to, lo, hi := c.WindowSpan(w, time.Unix(0, at))
	if f, e := c.Window(w, time.Unix(0, at)); !f.Equal(from) || !e.Equal(to) {
		t.Fatalf("%s %+v at %v: WindowSpan [%v, %v) but Window [%v, %v)", c.Loc, w, time.Unix(0, at), from, to, f, e)
	}
	if at < lo || at >= hi {
		t.Fatalf("%s %+v at %v: span [%d, %d) does not hold it", c.Loc, w, time.Unix(0, at), lo, hi)
	}
	probes := []int64{at}
	if lo > at-400*24*int64(time.Hour) {
		probes = append(probes, lo, lo+1)
	}
	if hi < at+400*24*int64(time.Hour) {
		probes = append(probes, hi-1, hi-2)
	}
	if hi-lo > 0 && hi-lo < 400*24*int64(time.Hour) {
		for range 4 {
			probes = append(probes, lo+r.Int64N(hi-lo))
		}
	}
	for _, p := range probes {
		if p < lo || p >= hi {
			continue
		}
		if f, e := c.Window(w, time.Unix(0, p)); !f.Equal(from) || !e.Equal(to) {
			t.Fatalf("%s %+v: span [%v, %v) of %v holds %v, whose window is [%v, %v), not [%v, %v)",
				c.Loc, w, time.Unix(0, lo), time.Unix(0, hi), time.Unix(0, at), time.Unix(0, p), f, e, from, to)
		}
	}
}

// TestCalendarWindowSpanGap: in São Paulo, 4 November 2018 began at
// 01:00 (the clocks skipped midnight) and time.Date places its midnight
// at 23:00 on the 3rd, the 3rd's local time: the span of the 4th's day
// window must not reach back before 01:00 of the 4th.
func TestCalendarWindowSpanGap(t *testing.T) {
	c := calendar(t, "America/Sao_Paulo", 1)
	at := time.Date(2018, 11, 4, 12, 0, 0, 0, c.Loc)
	_, _, lo, _ := c.WindowSpan(Window{Kind: WindowDays, N: 1}, at)
	if want := time.Date(2018, 11, 4, 3, 0, 0, 0, time.UTC).UnixNano(); lo < want {
		t.Errorf("span starts at %v, before the 4th began (%v)", time.Unix(0, lo).In(c.Loc), time.Unix(0, want).In(c.Loc))
	}
}
