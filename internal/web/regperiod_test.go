package web

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRegistrationMetricsOffersTheLastFourQuarters on the last day of a
// quarter: the period picker lists this quarter and the three before it
// (stepping back three months from 31 December landed on 1 October, so
// it offered 2026-Q4 twice and no 2026-Q2).
func TestRegistrationMetricsOffersTheLastFourQuarters(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.clock.Add(time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC).Sub(e.clock.Now()))
	admin := e.staff(adminEmail, adminPassword)
	_, body := admin.get("/admin/registrations/metrics")
	i, j := strings.Index(body, `<select id="period"`), strings.Index(body, `<label for="segment">`)
	if i < 0 || j < i {
		t.Fatal("no period picker")
	}
	var got []string
	for _, m := range regexp.MustCompile(`<option value="(20[0-9]{2}-Q[1-4])"`).FindAllStringSubmatch(body[i:j], -1) {
		got = append(got, m[1])
	}
	if want := "2026-Q4 2026-Q3 2026-Q2 2026-Q1"; strings.Join(got, " ") != want {
		t.Errorf("on 31 December the picker offers %v, want %s", got, want)
	}
}
