package api

import "testing"

func TestSimpleTakesTheHotReadsAndIngestOnly(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/api/v1/leaderboards/quarter-points", true},
		{"HEAD", "/api/v1/leaderboards/quarter-points", true},
		{"GET", "/api/v1/leaderboards", true},
		{"GET", "/api/v1/members/m-1/scorecard", true},
		{"GET", "/api/v1/partners/p-1", true},
		{"GET", "/api/v1/events/e-1", true},
		{"GET", "/healthz", true},
		{"GET", "/readyz", true},
		{"POST", "/api/v1/leaderboards/quarter-points", false},
		{"POST", "/api/v1/events", true},
		{"POST", "/api/v1/events/", false},
		{"POST", "/api/v1/events/e-1", false},
		{"POST", "/api/v1/registrations", false},
		{"PUT", "/api/v1/members/m-1", false},
		{"DELETE", "/api/v1/events/e-1", false},
		{"GET", "/api/v1/partners", false},
		{"GET", "/api/v1/partners/", false},
		{"GET", "/api/v1/feed", false},
		{"GET", "/api/v1/ledger", false},
		{"GET", "/metrics", false},
		{"GET", "/", false},
		{"GET", "/portal/leaderboards", false},
	} {
		if got := Simple(tc.method, tc.path); got != tc.want {
			t.Errorf("Simple(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}
