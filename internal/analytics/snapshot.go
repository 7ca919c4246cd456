package analytics

import (
	"sort"
	"strings"
	"time"

	"github.com/rung-dev/rung"
)

// Snapshot is the program's facts as the analytics read them, in compact
// form: partners and members by index, events, awards and debits with Unix
// nanosecond times. Build it once (the web console keeps one, refreshed in
// the background) and run any number of queries against it.
type Snapshot struct {
	// Loc is the program's time zone: weeks start on Monday midnight there.
	Loc      *time.Location
	Partners []Partner
	Members  []Member
	// Types names the event types; Event.Type indexes it.
	Types  []string
	Events []Event
	Awards []Award
	Debits []Debit
	// Revenue holds the contributions to the revenue metric (the program's
	// first metric in its currency), by partner.
	Revenue []Amount
	// RevenueMetric names that metric ("" when the program has none).
	RevenueMetric string
}

// Partner is a partner with the fields a cohort can select on.
type Partner struct {
	ID, Name, Type, Region, Size string
}

// Member is a member and the partner it belongs to now.
type Member struct {
	ID      string
	Partner int32
}

// Event is one live (not retracted) event.
type Event struct {
	At      int64 // occurred_at, Unix nanoseconds
	Type    uint16
	Partner int32
	Member  int32 // -1: none
	// Qualified is the event's `qualified` attribute (registrations).
	Qualified bool
}

// Award is one ledger award.
type Award struct {
	At, Expires int64 // Expires 0: never
	Partner     int32
	Member      int32 // -1: the partner's own
	Points      int64
	// Outcome marks an award for an outcome event (a rule on the revenue
	// metric's event types): left out of "engagement points" so that the
	// correlation with revenue does not measure revenue against itself.
	Outcome bool
}

// Debit takes points away: a redemption or an admin's deduction. A grant
// by an admin is an Award.
type Debit struct {
	At      int64
	Partner int32
	Member  int32
	Points  int64 // positive
	// Redeemed: a reward redemption; otherwise a deduction.
	Redeemed bool
}

// Amount is a value at a time for a partner.
type Amount struct {
	At      int64
	Partner int32
	Value   float64
}

// Query selects a period and a cohort.
type Query struct {
	From, To time.Time // [From, To)
	// Cohort selects partners by a field: "region:emea", "size:smb",
	// "type:isv". Empty: every partner.
	Cohort string
	// Partners, when not nil, keeps only these partner ids (a manager's
	// partners).
	Partners map[string]bool
}

// ParseCohort checks a cohort filter and returns its field and value.
func ParseCohort(s string) (field, value string, err error) {
	if s == "" {
		return "", "", nil
	}
	field, value, ok := strings.Cut(s, ":")
	field = strings.ToLower(strings.TrimSpace(field))
	value = strings.TrimSpace(value)
	if !ok || value == "" {
		return "", "", rung.Errorf(rung.EINVALID, "cohort %q: write it as field:value, for example region:emea, size:smb or type:isv", s)
	}
	switch field {
	case "region", "size", "type":
		return field, value, nil
	}
	return "", "", rung.Errorf(rung.EINVALID, "cohort %q: the field %q is not one of region, size, type", s, field)
}

// in returns, per partner index, whether the partner is in the query's
// cohort.
func (s *Snapshot) in(q Query) []bool {
	field, value, _ := ParseCohort(q.Cohort)
	out := make([]bool, len(s.Partners))
	for i, p := range s.Partners {
		if q.Partners != nil && !q.Partners[p.ID] {
			continue
		}
		var v string
		switch field {
		case "":
			out[i] = true
			continue
		case "region":
			v = p.Region
		case "size":
			v = p.Size
		case "type":
			v = p.Type
		}
		out[i] = strings.EqualFold(v, value)
	}
	return out
}

// bounds returns the query's bounds in Unix nanoseconds.
func (q Query) bounds() (int64, int64) {
	return q.From.UnixNano(), q.To.UnixNano()
}

// Weeks returns the starts of the weeks (Monday midnight in loc) that
// overlap [from, to).
func Weeks(loc *time.Location, from, to time.Time) []time.Time {
	if loc == nil {
		loc = time.UTC
	}
	if !from.Before(to) {
		return nil
	}
	f := from.In(loc)
	day := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
	day = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	var out []time.Time
	for ; day.Before(to); day = day.AddDate(0, 0, 7) {
		out = append(out, day)
	}
	return out
}

// weekIndex returns the week of t in weeks (sorted starts), -1 before the
// first.
func weekIndex(weeks []int64, t int64) int {
	lo, hi := 0, len(weeks)
	for lo < hi {
		m := (lo + hi) / 2
		if weeks[m] <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

func nanosOf(ts []time.Time) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = t.UnixNano()
	}
	return out
}

// Sort orders the events, awards, debits and revenue by time, which the
// reports rely on to read a period as one slice; whoever builds a
// Snapshot calls it once.
func (s *Snapshot) Sort() {
	sort.SliceStable(s.Events, func(i, j int) bool { return s.Events[i].At < s.Events[j].At })
	sort.SliceStable(s.Awards, func(i, j int) bool { return s.Awards[i].At < s.Awards[j].At })
	sort.SliceStable(s.Debits, func(i, j int) bool { return s.Debits[i].At < s.Debits[j].At })
	sort.SliceStable(s.Revenue, func(i, j int) bool { return s.Revenue[i].At < s.Revenue[j].At })
}

// span returns the index range of the times in [from, to) of a slice
// sorted by time.
func span(n int, at func(int) int64, from, to int64) (int, int) {
	lo := sort.Search(n, func(i int) bool { return at(i) >= from })
	hi := sort.Search(n, func(i int) bool { return at(i) >= to })
	return lo, max(lo, hi)
}

func (s *Snapshot) eventsIn(from, to int64) []Event {
	lo, hi := span(len(s.Events), func(i int) int64 { return s.Events[i].At }, from, to)
	return s.Events[lo:hi]
}

func (s *Snapshot) awardsIn(from, to int64) []Award {
	lo, hi := span(len(s.Awards), func(i int) int64 { return s.Awards[i].At }, from, to)
	return s.Awards[lo:hi]
}

func (s *Snapshot) revenueIn(from, to int64) []Amount {
	lo, hi := span(len(s.Revenue), func(i int) int64 { return s.Revenue[i].At }, from, to)
	return s.Revenue[lo:hi]
}

// weekCursor finds the week of times given in increasing order.
type weekCursor struct {
	weeks []int64
	i     int
}

func (c *weekCursor) at(t int64) int {
	for c.i+1 < len(c.weeks) && c.weeks[c.i+1] <= t {
		c.i++
	}
	if len(c.weeks) == 0 || t < c.weeks[0] {
		return -1
	}
	return c.i
}
