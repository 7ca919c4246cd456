package api

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/postgres"
)

// proxy forwards TCP connections to PostgreSQL and can play a database
// that goes away: cut closes every connection and refuses new ones until
// restore.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	go p.serve()
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = true, true
		p.mu.Unlock()
		go func() { io.Copy(s, c); s.Close() }()
		go func() { io.Copy(c, s); c.Close() }()
	}
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// The database goes away while events are being sent: requests that need
// it fail with 503 and a message, the server serves again when it comes
// back, and every event that was acknowledged is kept and counted.
func TestDatabaseGoesAwayAndComesBack(t *testing.T) {
	base := os.Getenv("RUNG_TEST_POSTGRES")
	if base == "" {
		t.Skip("RUNG_TEST_POSTGRES is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the database fault test")
	}
	ctx := context.Background()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Host
	if !strings.Contains(host, ":") {
		host += ":5432"
	}
	px := newProxy(t, host)
	u.Host = px.ln.Addr().String()
	b := make([]byte, 6)
	crand.Read(b)
	schema := "rung_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err == nil {
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			conn.Close(ctx)
		}
	})
	st, err := postgres.OpenSchema(ctx, u.String(), schema)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(svc, slog.New(slog.DiscardHandler)))
	defer func() {
		srv.Close()
		svc.Close()
		st.Close()
	}()
	_, key, err := svc.CreateAPIKey(ctx, "admin", rung.ScopeAdmin, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "P"}); err != nil {
		t.Fatal(err)
	}
	send := func(path, body string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		if path != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	acked := map[string]bool{}
	sendBatch := func(n int) (int, string) {
		var evs []string
		var ids []string
		for k := range 20 {
			id := fmt.Sprintf("crm:%d-%d:deal.won", n, k)
			ids = append(ids, id)
			evs = append(evs, fmt.Sprintf(`{"id": %q, "type": "deal.won", "partner": "p1", "member": "m%d", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 10000}}`, id, k))
		}
		code, body := send("/api/v1/events", `{"events": [`+strings.Join(evs, ",")+`]}`)
		if code == 200 {
			for _, id := range ids {
				acked[id] = true
			}
		}
		return code, body
	}
	for n := range 5 {
		if code, body := sendBatch(n); code != 200 {
			t.Fatalf("batch %d before the outage: %d %s", n, code, body)
		}
	}

	px.cut()
	code, body := sendBatch(100)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"unavailable"`) || !strings.Contains(body, "send it again") {
		t.Fatalf("a batch while the database is away: %d %s; want 503 with a message", code, body)
	}
	t.Logf("while the database is away: %d %s", code, body)
	req, _ := http.NewRequest("GET", srv.URL+"/readyz", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz while the database is away: %v %v", resp, err)
	}
	// Reads are served from memory meanwhile.
	req, _ = http.NewRequest("GET", srv.URL+"/api/v1/leaderboards/q", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("a read while the database is away: %v %v", resp, err)
	}

	px.restore()
	var back time.Duration
	start := time.Now()
	for n := 200; ; n++ {
		code, body := sendBatch(n)
		if code == 200 {
			back = time.Since(start)
			break
		}
		if code != http.StatusServiceUnavailable || time.Since(start) > 10*time.Second {
			t.Fatalf("after the database came back: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("served again %v after the database came back", back.Round(time.Millisecond))
	for n := 300; n < 305; n++ {
		if code, body := sendBatch(n); code != 200 {
			t.Fatalf("batch %d after the outage: %d %s", n, code, body)
		}
	}

	// Every acknowledged event is stored and counted: 100 points each.
	var total int64
	svc.Read(func(e *engine.Engine) error {
		sc, err := e.PartnerScorecard("p1", now)
		total = sc.Points.Lifetime
		return err
	})
	logged := map[string]bool{}
	st.Records(ctx, 0, func(r *rung.Record) error {
		logged[r.Event.ID] = true
		return nil
	})
	for id := range acked {
		if !logged[id] {
			t.Errorf("acknowledged event %s is not in the log", id)
		}
	}
	if want := int64(100 * len(logged)); total != want {
		t.Errorf("p1 has %d points, want %d for %d logged events", total, want, len(logged))
	}
	var resp struct{ Status string }
	req, _ = http.NewRequest("GET", srv.URL+"/readyz", nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(r.Body).Decode(&resp)
	r.Body.Close()
	if resp.Status != "ready" {
		t.Errorf("readyz after the outage: %+v", resp)
	}
}
