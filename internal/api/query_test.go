package api

import (
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestQueryValueReadsAsURLQueryDoes(t *testing.T) {
	queries := []string{
		"", "limit=100", "limit=1&around=bm-000001", "around=a%20b&around=c", "lim%69t=5", "limit=5;x=1&limit=6",
		"limit=%zz&limit=7", "%zz=1&limit=8", "&&limit=9&", "limit", "limit=", "a+b=c+d", "limit=1&limit=2",
		"around=bench%3A1%2B2", "x=1&" + strings.Repeat("y=2&", 400) + "limit=3",
	}
	r := rand.New(rand.NewPCG(1, 2))
	parts := []string{"limit", "around", "as_of", "=", "&", ";", "%", "%2", "%41", "+", "x", "1", "%zz", "=="}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		queries = append(queries, b.String())
	}
	for _, q := range queries {
		req := httptest.NewRequest("GET", "/api/v1/leaderboards/x", nil)
		req.URL.RawQuery = q
		for _, name := range []string{"limit", "around", "as_of", "a b", "A", "x"} {
			if got, want := queryValue(req, name), req.URL.Query().Get(name); got != want {
				t.Fatalf("query %q, %s: got %q, want %q", q, name, got, want)
			}
		}
	}
}
