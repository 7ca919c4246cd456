package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

var start = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// clock is the tests' settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const testProgram = `name: Outbox test
timezone: UTC
points:
  rules:
    - {id: training, on: training.completed, award: 600, to: member}
levels:
  - {name: Rookie, at: 0}
  - {name: Pro, at: 1000}
badges:
  - id: certified
    name: Certified
    on: certification.earned
    evidence: event.attrs.cert_id
`

type fixture struct {
	svc   *service.Service
	st    store.Store
	clock *clock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: start}
	svc, err := service.Open(ctx, st, service.Options{Clock: c.now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	if _, err := svc.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Alpha Consulting", JoinedAt: start.AddDate(-1, 0, 0),
		Attrs: map[string]any{"hubspot_id": "9001", "sf_id": "001Aa000001AbCdEAF"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutMember(ctx, rung.Member{ID: "ann", Partner: "p1", Name: "Ann", Email: "ann@alpha.com", JoinedAt: start.AddDate(-1, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, st: st, clock: c}
}

func (f *fixture) ingest(t testing.TB, evs ...rung.Event) {
	t.Helper()
	in := make([]*service.Incoming, len(evs))
	for i := range evs {
		if evs[i].OccurredAt.IsZero() {
			evs[i].OccurredAt = f.clock.now().Add(-time.Minute)
		}
		in[i] = &service.Incoming{Event: evs[i]}
	}
	res, err := f.svc.Ingest(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != "accepted" {
			t.Fatalf("event %s: %+v", r.ID, r)
		}
	}
}

// messages returns every outbox message, in order.
func messages(t *testing.T, st store.Store) []store.OutboxMessage {
	t.Helper()
	ms, err := st.OutboxMessages(context.Background(), 0, 1000, false)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// receiver is a webhook endpoint that verifies signatures, deduplicates by
// message id and records the order it accepted messages in per subject.
// fail decides, per request, how to misbehave.
type receiver struct {
	secret string
	now    func() time.Time
	mu     sync.Mutex
	seen   map[string]bool
	order  map[string][]string // per subject, the ids first accepted
	calls  int
	bad    []string // what failed verification
	fail   func(call int, env outbox.Envelope) (status int, hang bool)
}

func newReceiver(secret string, now func() time.Time) *receiver {
	return &receiver{secret: secret, now: now, seen: map[string]bool{}, order: map[string][]string{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := make([]byte, 0, 512)
	buf := make([]byte, 512)
	for {
		n, err := r.Body.Read(buf)
		body = append(body, buf[:n]...)
		if err != nil {
			break
		}
	}
	var env outbox.Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		http.Error(w, "bad json", 400)
		return
	}
	rc.mu.Lock()
	rc.calls++
	call := rc.calls
	if err := outbox.Verify(rc.secret, r.Header.Get(outbox.SignatureHeader), body, rc.now(), 5*time.Minute); err != nil {
		rc.bad = append(rc.bad, fmt.Sprintf("%s: %v", env.ID, err))
		rc.mu.Unlock()
		http.Error(w, err.Error(), 401)
		return
	}
	if r.Header.Get("Rung-Message-Id") != env.ID {
		rc.bad = append(rc.bad, env.ID+": Rung-Message-Id header "+r.Header.Get("Rung-Message-Id"))
	}
	status, hang := 200, false
	if rc.fail != nil {
		status, hang = rc.fail(call, env)
	}
	// A receiver that stores first and answers late (or not) is the case
	// that makes deduplication necessary: it is stored either way.
	if status == 200 || status == 299 {
		if !rc.seen[env.ID] {
			rc.seen[env.ID] = true
			rc.order[env.Subject] = append(rc.order[env.Subject], env.ID)
		}
	}
	rc.mu.Unlock()
	if hang {
		<-r.Context().Done()
		return
	}
	if status == 299 { // stored, but the answer says it failed
		status = 500
	}
	w.WriteHeader(status)
}

func (rc *receiver) snapshot() (map[string][]string, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	o := map[string][]string{}
	for k, v := range rc.order {
		o[k] = slices.Clone(v)
	}
	return o, slices.Clone(rc.bad)
}

var storeDead = store.DeliveryFilter{Dead: true}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func storeFilterMessage(id string) store.DeliveryFilter { return store.DeliveryFilter{Message: id} }
