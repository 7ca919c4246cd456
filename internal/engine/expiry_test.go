package engine

import (
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung/internal/program"
)

// An award's expiry, remembered per period, is the calendar's for every
// time, in whatever order the times come and across program versions.
func TestAwardExpiryIsTheCalendars(t *testing.T) {
	var vs []*Version
	for i, expire := range []string{"quarter", "year", "30d", "never"} {
		for _, start := range []string{"1", "4"} {
			src := strings.Replace(testProgram, "expire: quarter", "expire: "+expire, 1)
			src = strings.Replace(src, "fiscal_year_start: 1", "fiscal_year_start: "+start, 1)
			p, err := program.Parse([]byte(src))
			if err != nil {
				t.Fatalf("%s, %s: %v", expire, start, err)
			}
			vs = append(vs, &Version{N: i + 1, Program: p})
		}
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, berlin).UnixNano()
	atGen := rapid.Custom(func(t *rapid.T) int64 {
		return base + rapid.OneOf(
			// the starts of quarters, give or take a nanosecond
			rapid.Map(rapid.IntRange(0, 12), func(q int) int64 {
				return time.Date(2026, time.Month(1+3*q), 1, 0, 0, 0, 0, berlin).UnixNano() - base
			}),
			rapid.Int64Range(0, int64(3*365*24*time.Hour)),
		).Draw(t, "at") + rapid.Int64Range(-1, 1).Draw(t, "nudge")
	})
	rapid.Check(t, func(t *rapid.T) {
		e := New()
		for i := range rapid.IntRange(1, 50).Draw(t, "awards") {
			v := rapid.SampledFrom(vs).Draw(t, "version")
			if i > 0 && rapid.Bool().Draw(t, "same version") {
				v = vs[0]
			}
			at := atGen.Draw(t, "at")
			if got, want := e.awardExpiry(v, at), expiresAt(v, at); got != want {
				t.Fatalf("%v expiry of %v: %v, want %v", v.Program.Points.Expire.Kind, time.Unix(0, at), time.Unix(0, got), time.Unix(0, want))
			}
		}
	})
}
