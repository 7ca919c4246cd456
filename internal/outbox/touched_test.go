package outbox_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// The producer compares only the subjects the applied writes touched. These
// tests hold that to what comparing every subject gives, after random
// writes of every kind: new events, corrections that move an event to
// another member or partner, retractions, member moves, partner updates,
// adjustments, and on PostgreSQL writes of a second instance that the
// producer's instance follows.

const touchedProgram = `name: Touched test
timezone: UTC
points:
  rules:
    - {id: training, on: training.completed, award: 600, to: member}
    - {id: regional, on: training.completed, award: 50, to: member, when: partner.region == "emea"}
    - {id: deal, on: deal.won, award: 300, to: partner}
levels:
  - {name: Rookie, at: 0}
  - {name: Pro, at: 1000}
  - {name: Expert, at: 3000}
badges:
  - id: certified
    name: Certified
    on: certification.earned
    evidence: event.attrs.cert_id
`

// touchedWorld drives random writes at one or more instances on one store.
type touchedWorld struct {
	t       *testing.T
	rnd     *mrand.Rand
	svcs    []*service.Service
	st      store.Store // the first instance's
	now     time.Time
	clk     atomic.Int64      // now, for the services' goroutines
	members map[string]string // member -> partner now
	events  map[string]rung.Event
	live    []string // events not retracted, in order
	n       int
}

var touchedPartners = []string{"p1", "p2", "p3"}

func (w *touchedWorld) clock() time.Time { return time.Unix(0, w.clk.Load()).UTC() }

func (w *touchedWorld) setup() {
	ctx := context.Background()
	s := w.svcs[0]
	if _, err := s.ApplyProgram(ctx, []byte(touchedProgram), time.Time{}, "test"); err != nil {
		w.t.Fatal(err)
	}
	for _, p := range touchedPartners {
		if _, err := s.PutPartner(ctx, rung.Partner{ID: p, Name: "Partner " + p, Region: "amer", JoinedAt: start.AddDate(-1, 0, 0)}); err != nil {
			w.t.Fatal(err)
		}
	}
	for i := range 8 {
		id := fmt.Sprintf("m%d", i)
		p := touchedPartners[i%len(touchedPartners)]
		if _, err := s.PutMember(ctx, rung.Member{ID: id, Partner: p, Name: id, JoinedAt: start.AddDate(-1, 0, 0)}); err != nil {
			w.t.Fatal(err)
		}
		w.members[id] = p
	}
}

func (w *touchedWorld) pickMember() string {
	ids := make([]string, 0, len(w.members))
	for id := range w.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids[w.rnd.IntN(len(ids))]
}

func (w *touchedWorld) ingest(s *service.Service, evs ...rung.Event) {
	w.t.Helper()
	in := make([]*service.Incoming, len(evs))
	for i := range evs {
		in[i] = &service.Incoming{Event: evs[i]}
	}
	res, err := s.Ingest(context.Background(), in)
	if err != nil {
		w.t.Fatal(err)
	}
	for i, r := range res {
		if r.Status == "rejected" {
			w.t.Fatalf("event %s: %+v", evs[i].ID, r)
		}
	}
}

// write makes one random write at a random instance.
func (w *touchedWorld) write() string {
	ctx := context.Background()
	s := w.svcs[w.rnd.IntN(len(w.svcs))]
	// A second a write, and events less than that back: each falls after
	// the moves before it, in the membership it names. (All the rounds
	// take less than a Sweep.)
	w.now = w.now.Add(time.Second)
	w.clk.Store(w.now.UnixNano())
	types := []string{"training.completed", "training.completed", "deal.won", "certification.earned"}
	newEvent := func() rung.Event {
		w.n++
		m := w.pickMember()
		ev := rung.Event{ID: fmt.Sprintf("e%d", w.n), Type: types[w.rnd.IntN(len(types))], Partner: w.members[m], Member: m,
			OccurredAt: w.now.Add(-time.Duration(w.rnd.IntN(900)+1) * time.Millisecond)}
		if ev.Type == "certification.earned" {
			ev.Attrs = map[string]any{"cert_id": fmt.Sprintf("c%d", w.n)}
		}
		return ev
	}
	switch op := w.rnd.IntN(10); {
	case op < 4: // new events, a batch
		var evs []rung.Event
		for range w.rnd.IntN(4) + 1 {
			ev := newEvent()
			evs = append(evs, ev)
			w.events[ev.ID] = ev
			w.live = append(w.live, ev.ID)
		}
		w.ingest(s, evs...)
		return fmt.Sprintf("ingest %d", len(evs))
	case op < 6 && len(w.live) > 0: // a correction, often to another member and partner
		id := w.live[w.rnd.IntN(len(w.live))]
		ev := w.events[id]
		m := w.pickMember()
		ev.Member, ev.Partner, ev.OccurredAt = m, w.members[m], w.now.Add(-time.Millisecond)
		if w.rnd.IntN(3) == 0 {
			ev.Type = types[w.rnd.IntN(2)+1] // training or deal
			ev.Attrs = nil
		}
		w.events[id] = ev
		w.ingest(s, ev)
		return "correct " + id + " to " + m
	case op < 7 && len(w.live) > 0:
		i := w.rnd.IntN(len(w.live))
		id := w.live[i]
		if _, err := s.Retract(ctx, id, "test"); err != nil {
			w.t.Fatal(err)
		}
		w.live = slices.Delete(w.live, i, i+1)
		return "retract " + id
	case op < 8: // a member moves
		m := w.pickMember()
		p := touchedPartners[w.rnd.IntN(len(touchedPartners))]
		if _, err := s.PutMember(ctx, rung.Member{ID: m, Partner: p, Name: m}); err != nil {
			w.t.Fatal(err)
		}
		w.members[m] = p
		return "move " + m + " to " + p
	case op < 9: // a partner changes region, which changes what its members earn
		p := touchedPartners[w.rnd.IntN(len(touchedPartners))]
		region := []string{"amer", "emea"}[w.rnd.IntN(2)]
		if _, err := s.PutPartner(ctx, rung.Partner{ID: p, Name: "Partner " + p, Region: region, JoinedAt: start.AddDate(-1, 0, 0)}); err != nil {
			w.t.Fatal(err)
		}
		return "partner " + p + " " + region
	default:
		m := w.pickMember()
		a := rung.Adjustment{Partner: w.members[m], Points: int64(w.rnd.IntN(2000) - 500), Reason: "test", OccurredAt: w.now.Add(-time.Millisecond)}
		if w.rnd.IntN(3) > 0 {
			a.Member = m
		}
		if _, err := s.Adjust(ctx, a, "test"); err != nil {
			w.t.Fatal(err)
		}
		return "adjust " + a.Partner + "/" + a.Member
	}
}

// states returns every subject's state in an instance's engine, as JSON.
func states(s *service.Service) map[string]string {
	out := map[string]string{}
	s.Read(func(e *engine.Engine) error {
		e.EachSubjectState(func(st engine.SubjectState) {
			b, _ := json.Marshal(st)
			out[outbox.Subject(st.Kind, st.ID)] = string(b)
		})
		return nil
	})
	return out
}

// settle waits until every instance has followed the others' writes.
func (w *touchedWorld) settle() {
	w.t.Helper()
	if len(w.svcs) == 1 {
		return
	}
	for range 2000 {
		want := states(w.svcs[0])
		same := true
		for _, s := range w.svcs[1:] {
			if !reflect.DeepEqual(states(s), want) {
				same = false
			}
		}
		if same {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.t.Fatal("the instances did not converge")
}

type producedMessage struct{ ID, Type, Subject, Payload string }

// run makes rounds of random writes with a producer step after each, and
// returns the messages. With full set, every step compares every subject.
func (w *touchedWorld) run(rounds int, full bool) []producedMessage {
	ctx := context.Background()
	p := outbox.NewProducer(w.svcs[0], true)
	if _, err := p.Step(ctx); err != nil {
		w.t.Fatal(err)
	}
	for round := range rounds {
		var did []string
		for range w.rnd.IntN(4) + 1 {
			did = append(did, w.write())
		}
		w.settle()
		if full {
			p.SweepNext()
		}
		if _, err := p.Step(ctx); err != nil {
			w.t.Fatal(err)
		}
		// Whatever a step compared, the stored states are every
		// subject's: a producer that compares them all finds nothing.
		at, err := w.st.OutboxCursor(ctx, outbox.ProducerCursor)
		if err != nil {
			w.t.Fatal(err)
		}
		q := outbox.NewProducer(w.svcs[0], false)
		if n, err := q.Step(ctx); err != nil || n != 0 {
			w.t.Fatalf("round %d (%v): a full comparison after the step found %d messages more (%v)", round, did, n, err)
		}
		if after, err := w.st.OutboxCursor(ctx, outbox.ProducerCursor); err != nil || after != at {
			w.t.Fatalf("round %d (%v): a full comparison after the step stored states (cursor %d → %d, %v)", round, did, at, after, err)
		}
	}
	ms, err := w.st.OutboxMessages(ctx, 0, 100000, false)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []producedMessage
	for _, m := range ms {
		out = append(out, producedMessage{m.ID, m.Type, m.Subject, string(m.Payload)})
	}
	return out
}

func newTouchedWorld(t *testing.T, seed uint64, svcs func(clock func() time.Time) ([]*service.Service, store.Store)) *touchedWorld {
	w := &touchedWorld{t: t, rnd: mrand.New(mrand.NewPCG(seed, 7)), now: start, members: map[string]string{}, events: map[string]rung.Event{}}
	w.clk.Store(start.UnixNano())
	w.svcs, w.st = svcs(w.clock)
	w.setup()
	return w
}

func openSQLite(t *testing.T) func(clock func() time.Time) ([]*service.Service, store.Store) {
	return func(clock func() time.Time) ([]*service.Service, store.Store) {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
		if err != nil {
			t.Fatal(err)
		}
		svc, err := service.Open(ctx, st, service.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close(); st.Close() })
		return []*service.Service{svc}, st
	}
}

func TestProducerComparesWhatWritesTouchedAsAFullComparisonWould(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			got := newTouchedWorld(t, seed, openSQLite(t)).run(25, false)
			want := newTouchedWorld(t, seed, openSQLite(t)).run(25, true)
			if len(want) == 0 {
				t.Fatal("no messages at all: the test writes nothing that changes a state")
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("comparing what was touched gave %d messages, comparing everything %d:\n%v\n%v", len(got), len(want), got, want)
			}
		})
	}
}

// On PostgreSQL, half the writes go to a second instance: the producer's
// instance learns of them by following.
func TestProducerComparesWhatAnotherInstanceTouched(t *testing.T) {
	url := os.Getenv("RUNG_TEST_POSTGRES")
	if url == "" {
		t.Skip("RUNG_TEST_POSTGRES is not set")
	}
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			newTouchedWorld(t, seed, openPostgres(t, url, 2)).run(25, false)
		})
	}
}

func openPostgres(t *testing.T, url string, n int) func(clock func() time.Time) ([]*service.Service, store.Store) {
	return func(clock func() time.Time) ([]*service.Service, store.Store) {
		ctx := context.Background()
		b := make([]byte, 6)
		rand.Read(b)
		schema := "rung_test_" + hex.EncodeToString(b)
		t.Cleanup(func() {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
				return
			}
			defer conn.Close(ctx)
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		})
		var svcs []*service.Service
		var first store.Store
		for range n {
			st, err := postgres.OpenSchema(ctx, url, schema)
			if err != nil {
				t.Fatal(err)
			}
			svc, err := service.Open(ctx, st, service.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler), FollowEvery: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { svc.Close(); st.Close() })
			svcs = append(svcs, svc)
			if first == nil {
				first = st
			}
		}
		return svcs, first
	}
}
