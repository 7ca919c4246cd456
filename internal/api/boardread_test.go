package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
)

// A leaderboard read answers, byte for byte, what encoding/json makes of
// the engine's page, with its Content-Type and Content-Length, whatever
// the reads before it left in the reused buffers: big pages after small
// ones and back, around, offsets, as_of, and errors in between.
func TestLeaderboardReadIsEncodingJSONOfThePage(t *testing.T) {
	c := newServer(t)
	var body bytes.Buffer
	for i := range 60 {
		m := fmt.Sprintf("x%d", i)
		c.do("PUT", "/api/v1/members/"+m, rung.ScopeIngest, "", fmt.Sprintf(`{"partner": "p1", "name": "Member \"%d\" <é>"}`, i), 200)
		body.Reset()
		fmt.Fprintf(&body, `{"id": "w%d", "type": "deal.won", "partner": "p1", "member": "%s", "occurred_at": "2026-11-%02dT10:00:00Z", "attrs": {"amount": %d}}`, i, m, 1+i%19, (i%7+1)*1234+i%3*50)
		c.do("POST", "/api/v1/events", rung.ScopeIngest, "", body.String(), 200)
	}
	queries := []struct {
		q    string
		code int
	}{
		{"?limit=100", 200}, {"?limit=1&around=x7", 200}, {"", 200}, {"?limit=100", 200}, {"?limit=5&offset=58", 200},
		{"?limit=1&around=nobody", 404}, {"?limit=3&around=x0", 200}, {"?offset=1000", 200},
		{"?as_of=2026-11-05T00:00:00Z&limit=100", 200}, {"?limit=2000", 200}, {"?limit=1&around=x59", 200},
	}
	for _, tc := range queries {
		for _, id := range []string{"q", "nope"} {
			req, _ := http.NewRequest("GET", c.url+"/api/v1/leaderboards/"+id+tc.q, nil)
			req.Header.Set("Authorization", "Bearer "+c.keys[rung.ScopeRead])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code := tc.code
			if id == "nope" {
				code = 404
			}
			if resp.StatusCode != code {
				t.Fatalf("%s%s: status %d, want %d: %s", id, tc.q, resp.StatusCode, code, got)
			}
			if code != 200 {
				continue
			}
			r, _ := http.NewRequest("GET", "/x"+tc.q, nil)
			at, limit, offset, err := pageQuery(r)
			if err != nil {
				t.Fatal(err)
			}
			var page engine.BoardPage
			c.svc.Read(func(e *engine.Engine) error {
				page, err = e.Leaderboard(id, engine.BoardQuery{Limit: limit, Offset: offset, Around: queryValue(r, "around"), AsOf: at})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(page); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("%s%s:\n got  %s\n want %s", id, tc.q, got, want.Bytes())
			}
			if ct, cl := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Length"); ct != "application/json" || cl != strconv.Itoa(want.Len()) {
				t.Fatalf("%s%s: Content-Type %q, Content-Length %q (body %d bytes)", id, tc.q, ct, cl, want.Len())
			}
			if len(page.Entries) == 0 && tc.q != "?offset=1000" {
				t.Fatalf("%s%s: an empty page tests little", id, tc.q)
			}
		}
	}
}
