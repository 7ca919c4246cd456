package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
)

// A kept page is answered only while nothing changed: after an event, a
// member's new name or a correction, the next read of the same page is the
// engine's new page, byte for byte, and reads in between give the same
// bytes as the first.
func TestKeptLeaderboardPageFollowsEveryWrite(t *testing.T) {
	c := newServer(t)
	for i := range 5 {
		c.do("PUT", fmt.Sprintf("/api/v1/members/x%d", i), rung.ScopeIngest, "", `{"partner": "p1", "name": "X"}`, 200)
		c.do("POST", "/api/v1/events", rung.ScopeIngest, "", fmt.Sprintf(`{"id": "k%d", "type": "deal.won", "partner": "p1", "member": "x%d", "occurred_at": "2026-11-10T10:00:00Z", "attrs": {"amount": %d}}`, i, i, 1000*(i+1)), 200)
	}
	writes := []func(){
		func() {}, // a second read of an unchanged page
		func() {
			c.do("POST", "/api/v1/events", rung.ScopeIngest, "", `{"id": "k9", "type": "deal.won", "partner": "p1", "member": "x0", "occurred_at": "2026-11-11T10:00:00Z", "attrs": {"amount": 90000}}`, 200)
		},
		func() {
			c.do("PUT", "/api/v1/members/x0", rung.ScopeIngest, "", `{"partner": "p1", "name": "Renamed"}`, 200)
		},
		func() { c.do("DELETE", "/api/v1/events/k9", rung.ScopeIngest, "", "", 200) },
	}
	var prev []byte
	for step, write := range writes {
		write()
		for range 2 {
			got := c.read(t, "/api/v1/leaderboards/q?limit=3")
			want := c.enginePage(t, "q", engine.BoardQuery{Limit: 3})
			if !bytes.Equal(got, want) {
				t.Fatalf("step %d:\n got  %s\n want %s", step, got, want)
			}
			if step == 0 && prev != nil && !bytes.Equal(got, prev) {
				t.Fatalf("an unchanged page read twice differs:\n%s\n%s", prev, got)
			}
			prev = got
		}
	}
}

// read GETs path with the read key and returns the body of a 200.
func (c *client) read(t *testing.T, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", c.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.keys[rung.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	return body
}

// enginePage is what encoding/json makes of the engine's page now.
func (c *client) enginePage(t *testing.T, id string, q engine.BoardQuery) []byte {
	t.Helper()
	var page engine.BoardPage
	err := c.svc.Read(func(e *engine.Engine) (err error) {
		page, err = e.Leaderboard(id, q)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(page)
	return b.Bytes()
}

// The cache keeps the page of the latest generation it was given, a copy
// of the bytes, and never more than maxCachedPages keys.
func TestPageCacheKeepsLatestGenerationWithinItsBound(t *testing.T) {
	var c pageCache
	k := pageKey{board: "q", limit: 100}
	body := []byte("one")
	c.put(k, 2, body)
	body[0] = 'X' // the caller reuses its buffer
	if got, length, ok := c.get(k, 2); !ok || string(got) != "one" || len(length) != 1 || length[0] != "3" {
		t.Fatalf("get at 2: %q %q %v", got, length, ok)
	}
	if _, _, ok := c.get(k, 3); ok {
		t.Fatal("a page of generation 2 answered at 3")
	}
	c.put(k, 1, []byte("old")) // a slower reader's older page
	if got, _, _ := c.get(k, 2); string(got) != "one" {
		t.Fatalf("an older generation replaced a newer one: %q", got)
	}
	for i := range 3 * maxCachedPages {
		c.put(pageKey{board: "q", limit: i}, 5, []byte("x"))
		if len(c.pages) > maxCachedPages {
			t.Fatalf("%d pages kept", len(c.pages))
		}
	}
	c.put(pageKey{board: "big"}, 5, make([]byte, maxCachedPageBytes+1))
	if _, _, ok := c.get(pageKey{board: "big"}, 5); ok {
		t.Fatal("an answer over maxCachedPageBytes was kept")
	}
}

// A page longer than net/http's buffer is answered with its length, not
// chunked, both when it is encoded and when it comes from the cache.
func TestKeptLongPageCarriesItsLength(t *testing.T) {
	c := newServer(t)
	for i := range 30 {
		c.do("PUT", fmt.Sprintf("/api/v1/members/long%d", i), rung.ScopeIngest, "", `{"partner": "p1", "name": "A member with a long enough name"}`, 200)
		c.do("POST", "/api/v1/events", rung.ScopeIngest, "", fmt.Sprintf(`{"id": "l%d", "type": "deal.won", "partner": "p1", "member": "long%d", "occurred_at": "2026-11-10T10:00:00Z", "attrs": {"amount": %d}}`, i, i, 1000*(i+1)), 200)
	}
	var first []byte
	for read := range 3 {
		req, _ := http.NewRequest("GET", c.url+"/api/v1/leaderboards/q?limit=100", nil)
		req.Header.Set("Authorization", "Bearer "+c.keys[rung.ScopeRead])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) < 2048 || resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
			t.Fatalf("read %d: status %d, %d bytes, Content-Length %d, Transfer-Encoding %v", read, resp.StatusCode, len(body), resp.ContentLength, resp.TransferEncoding)
		}
		if read == 0 {
			first = body
		} else if !bytes.Equal(body, first) {
			t.Fatalf("read %d differs from the first", read)
		}
	}
}
