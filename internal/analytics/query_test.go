package analytics

import (
	"strings"
	"testing"
	"time"
)

func TestParseQueryDefaultsAndErrors(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) // a Friday
	q, err := ParseQuery("", "", "", now, berlin)
	if err != nil {
		t.Fatal(err)
	}
	// to = now; from = the Monday 12 weeks before this week's Monday
	// (16 Nov 2026): 24 Aug 2026, midnight in Berlin
	if !q.To.Equal(now) || !q.From.Equal(time.Date(2026, 8, 24, 0, 0, 0, 0, berlin)) {
		t.Errorf("default period %v – %v", q.From, q.To)
	}
	q, err = ParseQuery("2026-01-01", "2026-04-01T00:00:00Z", "size:smb", now, berlin)
	if err != nil || !q.From.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, berlin)) || q.Cohort != "size:smb" {
		t.Errorf("explicit: %+v %v", q, err)
	}
	for _, c := range []struct{ from, to, cohort, says string }{
		{"yesterday", "", "", "is not a date"},
		{"2026-05-01", "2026-04-01", "", "must be before"},
		{"2000-01-01", "2026-01-01", "", "longer than five years"},
		{"", "", "region", "field:value"},
		{"", "9999-12-31", "", "out of range"},
	} {
		if _, err := ParseQuery(c.from, c.to, c.cohort, now, berlin); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: %v, want an error saying %q", c, err, c.says)
		}
	}
}

// FuzzParseQuery: whatever the query string holds, ParseQuery answers a
// valid period or an error, and never panics.
func FuzzParseQuery(f *testing.F) {
	for _, s := range [][3]string{{"", "", ""}, {"2026-01-01", "2026-02-01", "region:emea"}, {"2026-13-45", "x", ":"},
		{"2026-01-01T00:00:00+14:00", "9999-12-31", "type:"}, {"0001-01-01", "", "size:a:b"}} {
		f.Add(s[0], s[1], s[2])
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, from, to, cohort string) {
		q, err := ParseQuery(from, to, cohort, now, time.UTC)
		if err != nil {
			return
		}
		if !q.From.Before(q.To) || q.From.Year() < 1969 || q.To.Year() > 2200 {
			t.Fatalf("%q %q: empty period %v – %v", from, to, q.From, q.To)
		}
		if _, _, err := ParseCohort(q.Cohort); err != nil {
			t.Fatalf("accepted a bad cohort %q", q.Cohort)
		}
	})
}
