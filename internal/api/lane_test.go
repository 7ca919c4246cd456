package api

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/lane"
)

// TestIngestThroughALaneAnswersAsNetHTTPDoes sends the same requests to two
// servers set up alike, one behind net/http and one behind a lane with
// Simple, as `rung serve` has it, and compares what comes back, byte for
// byte but the Date: event ingest that a lane serves (single events,
// batches, NDJSON, duplicates, corrections, errors) answers as net/http
// does.
func TestIngestThroughALaneAnswersAsNetHTTPDoes(t *testing.T) {
	plain, viaLane := newServer(t), newServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: viaLane.api, ErrorLog: log.New(io.Discard, "", 0)}
	var served atomic.Int64
	ls, rest := lane.New(ln, srv, func(method, path string) bool {
		ok := Simple(method, path)
		if ok {
			served.Add(1)
		}
		return ok
	})
	go srv.Serve(Listen(srv, rest))
	go ls.Serve()
	t.Cleanup(func() { ls.Close(); srv.Close() })

	ev := func(id, at string, amount int) string {
		return `{"id": "` + id + `", "type": "deal.won", "partner": "p1", "member": "m1", "occurred_at": "` + at + `", "attrs": {"amount": ` + strconv.Itoa(amount) + `}}`
	}
	type req struct {
		scope       rung.Scope
		ctype, body string
	}
	reqs := []req{
		{rung.ScopeIngest, "application/json", ev("e1", "2026-11-02T10:00:00Z", 50000)},
		{rung.ScopeIngest, "application/json", ev("e1", "2026-11-02T10:00:00Z", 50000)}, // duplicate
		{rung.ScopeIngest, "application/json", ev("e1", "2026-11-02T10:00:00Z", 70000)}, // corrected
		{rung.ScopeIngest, "application/json", `{"events": [` + ev("e2", "2026-11-03T10:00:00Z", 1000) + `, {"id": 5}]}`},
		{rung.ScopeIngest, "application/x-ndjson", ev("e3", "2026-11-04T10:00:00Z", 2000) + "\n" + ev("e4", "2026-11-05T10:00:00Z", 3000) + "\n"},
		{rung.ScopeIngest, "application/json", `{"id": "e5", "type": "deal.won"`},    // malformed
		{rung.ScopeIngest, "application/json", ``},                                   // empty
		{rung.ScopeRead, "application/json", ev("e6", "2026-11-06T10:00:00Z", 1000)}, // wrong scope
		{"", "application/json", ev("e7", "2026-11-06T10:00:00Z", 1000)},             // no key
		{rung.ScopeIngest, "application/json", ev("e8", "2026-11-07T10:00:00Z", 100)},
	}
	talk := func(c *client, addr string) [][]byte {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(conn)
		var out [][]byte
		for _, q := range reqs {
			var b bytes.Buffer
			fmt.Fprintf(&b, "POST /api/v1/events HTTP/1.1\r\nHost: rung\r\nContent-Type: %s\r\nContent-Length: %d\r\n", q.ctype, len(q.body))
			if q.scope != "" {
				fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", c.keys[q.scope])
			}
			b.WriteString("\r\n" + q.body)
			if _, err := conn.Write(b.Bytes()); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("%s: reading the answer to %q: %v", addr, q.body, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Header.Del("Date")
			var h bytes.Buffer
			resp.Header.Write(&h)
			out = append(out, fmt.Appendf(nil, "%d %v\n%s\n%s", resp.StatusCode, resp.TransferEncoding, h.Bytes(), body))
		}
		return out
	}
	want := talk(plain, strings.TrimPrefix(plain.url, "http://"))
	got := talk(viaLane, ln.Addr().String())
	for i := range reqs {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("request %d (%q):\nnet/http answered %s\nthe lane answered %s", i, reqs[i].body, want[i], got[i])
		}
	}
	if n := served.Load(); n != int64(len(reqs)) {
		t.Errorf("the lane served %d of %d requests itself", n, len(reqs))
	}
	if !regexp.MustCompile(`"accepted"`).Match(got[0]) || !regexp.MustCompile(`"duplicate"`).Match(got[1]) || !regexp.MustCompile(`"corrected"`).Match(got[2]) {
		t.Errorf("the first three answers should be accepted, duplicate, corrected: %s\n%s\n%s", got[0], got[1], got[2])
	}
	// What the lane accepted is stored: the event reads back.
	out := viaLane.do("GET", "/api/v1/events/e8", rung.ScopeRead, "", "", 200)
	if e, _ := out["event"].(map[string]any); e["id"] != "e8" {
		t.Errorf("GET /api/v1/events/e8 after ingest through the lane: %v", out)
	}
}
