package natsin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/api"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

const testProgram = `
name: Stream Test
timezone: UTC
points:
  rules:
    - id: win
      on: deal.won
      award: min(1000, event.attrs.amount / 100)
    - id: training
      on: training.completed
      when: event.attrs.score >= 80
      award: 50
`

// natsURL is the server the tests use: RUNG_TEST_NATS, else the local one.
func natsURL() string {
	if u := os.Getenv("RUNG_TEST_NATS"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// connect reaches NATS with JetStream, or skips the test.
func connect(t testing.TB) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(natsURL(), nats.Timeout(time.Second))
	if err != nil {
		t.Skipf("NATS is not reachable at %s (%v): run nats-server -js, or set RUNG_TEST_NATS", natsURL(), err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Skipf("NATS at %s has no JetStream (%v): run nats-server -js", natsURL(), err)
	}
	return nc, js
}

// testConfig names a stream, subjects and consumer of the test's own, and
// deletes the stream afterwards.
func testConfig(t testing.TB, js jetstream.JetStream) Config {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	tag := strings.ToLower(strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())) + "_" + hex.EncodeToString(b)
	cfg := Config{
		URL:        natsURL(),
		Stream:     "TEST_" + tag,
		Subject:    "test." + tag + ".events",
		Durable:    "d_" + tag,
		DeadLetter: "test." + tag + ".dead",
		MaxWait:    200 * time.Millisecond,
		NakDelay:   200 * time.Millisecond,
		Logger:     slog.New(slog.DiscardHandler),
	}
	t.Cleanup(func() {
		js.DeleteStream(context.Background(), cfg.Stream)
	})
	return cfg
}

// openService opens a service on the SQLite file at path.
func openService(t testing.TB, path string) (*service.Service, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.Open(context.Background(), st, service.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return svc, st
}

// setup opens a service on a new database, with the program, partner p1
// and its member m1. It returns its store and the database's path too.
func setup(t testing.TB) (*service.Service, *sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rung.db")
	svc, st := openService(t, path)
	t.Cleanup(func() {
		svc.Close()
		st.Close()
	})
	ctx := context.Background()
	if _, err := svc.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Partner One"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutMember(ctx, rung.Member{ID: "m1", Partner: "p1", Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	return svc, st, path
}

// start runs the intake until the test ends (or stop is called), and waits
// until its consumer exists.
func start(t testing.TB, js jetstream.JetStream, cfg Config, svc *service.Service) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, cfg, svc) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not stop within 5 s of its context ending")
		}
	}
	t.Cleanup(stop)
	waitFor(t, "the consumer to exist", func() (bool, string) {
		select {
		case err := <-errc:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		_, err := js.Consumer(context.Background(), cfg.Stream, cfg.Durable)
		return err == nil, fmt.Sprint(err)
	})
	return stop
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitAllAcked waits until the consumer has taken want messages or more
// and acked every delivery, and returns its info.
func waitAllAcked(t testing.TB, js jetstream.JetStream, cfg Config, want uint64) *jetstream.ConsumerInfo {
	t.Helper()
	var info *jetstream.ConsumerInfo
	waitFor(t, "every message to be acked", func() (bool, string) {
		var err error
		info, err = consumerInfo(js, cfg)
		if err != nil {
			return false, err.Error()
		}
		ok := info.NumPending == 0 && info.NumAckPending == 0 &&
			info.Delivered.Consumer >= want && info.AckFloor.Consumer == info.Delivered.Consumer
		return ok, fmt.Sprintf("pending %d, ack pending %d, delivered %d, ack floor %d, want %d messages acked",
			info.NumPending, info.NumAckPending, info.Delivered.Consumer, info.AckFloor.Consumer, want)
	})
	return info
}

func consumerInfo(js jetstream.JetStream, cfg Config) (*jetstream.ConsumerInfo, error) {
	c, err := js.Consumer(context.Background(), cfg.Stream, cfg.Durable)
	if err != nil {
		return nil, err
	}
	return c.Info(context.Background())
}

func publish(t testing.TB, js jetstream.JetStream, subject string, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if _, err := js.Publish(context.Background(), subject, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
}

// event is an event as JSON, an hour old.
func event(id, typ, partner string, attrs string) string {
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"id": %q, "type": %q, "partner": %q, "member": "m1", "occurred_at": %q, "attrs": %s}`, id, typ, partner, at, attrs)
}

func lifetime(t testing.TB, svc *service.Service, member string) int64 {
	t.Helper()
	var n int64
	err := svc.Read(func(e *engine.Engine) error {
		sc, err := e.MemberScorecard(member, time.Now())
		if err != nil {
			return err
		}
		n = sc.Points.Lifetime
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStreamEventsCountOnceAndRejectsGoToDeadLetters(t *testing.T) {
	nc, js := connect(t)
	cfg := testConfig(t, js)
	svc, _, _ := setup(t)

	dead, err := nc.SubscribeSync(cfg.DeadLetter)
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	start(t, js, cfg, svc)

	win := event("crm:1:deal.won", "deal.won", "p1", `{"amount": 50000}`) // 500
	publish(t, js, cfg.Subject,
		win,
		event("lms:1:training.completed", "training.completed", "p1", `{"score": 90}`), // 50
		win, // duplicate
		event("crm:2:deal.won", "deal.won", "p1", `{"amount": 10000}`), // 100 ...
		event("crm:2:deal.won", "deal.won", "p1", `{"amount": 20000}`), // ... corrected to 200
		event("crm:3:deal.won", "deal.won", "nobody", `{"amount": 10000}`),
		`{"id": "broken", "type": `,
		`{"events": [`+event("lms:2:training.completed", "training.completed", "p1", `{"score": 85}`)+`, `+ // 50
			event("lms:3:training.completed", "training.completed", "ghost", `{"score": 85}`)+`]}`,
	)
	info := waitAllAcked(t, js, cfg, 8)
	if info.Delivered.Consumer != 8 {
		t.Errorf("consumer delivered %d messages, want each of the 8 once", info.Delivered.Consumer)
	}
	if got, want := lifetime(t, svc, "m1"), int64(500+50+200+50); got != want {
		t.Errorf("lifetime points %d, want %d (each good event once, the correction's amount)", got, want)
	}
	ef, _, err := svc.EventEffects(context.Background(), "crm:2:deal.won")
	if err != nil {
		t.Fatal(err)
	}
	if len(ef.Versions) != 2 {
		t.Errorf("crm:2:deal.won has %d versions, want 2 (accepted, then corrected)", len(ef.Versions))
	}

	want := map[string]string{
		"crm:3:deal.won":           `partner "nobody" does not exist`,
		"":                         "not valid JSON", // broken: its id cannot be read
		"lms:3:training.completed": `partner "ghost" does not exist`,
	}
	for n := len(want); n > 0; n-- {
		m, err := dead.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("dead letters: %v (want %d)", err, len(want))
		}
		var dl DeadLetter
		if err := json.Unmarshal(m.Data, &dl); err != nil {
			t.Fatalf("dead letter %s: %v", m.Data, err)
		}
		reason, ok := want[dl.ID]
		if !ok {
			t.Errorf("unexpected dead letter %s", m.Data)
			continue
		}
		delete(want, dl.ID)
		if !strings.Contains(dl.Error, reason) {
			t.Errorf("dead letter %q: error %q, want it to say %q", dl.ID, dl.Error, reason)
		}
		if dl.Stream != cfg.Stream || dl.Subject != cfg.Subject || dl.Seq == 0 || dl.At.IsZero() {
			t.Errorf("dead letter %s: stream %q subject %q seq %d at %v, want where the message came from", dl.ID, dl.Stream, dl.Subject, dl.Seq, dl.At)
		}
		switch dl.ID {
		case "":
			if string(dl.Raw) != `{"id": "broken", "type": ` || dl.Event != nil {
				t.Errorf("dead letter of broken JSON: raw %q, event %s; want the message's bytes in raw", dl.Raw, dl.Event)
			}
		default:
			if in := api.DecodeEvent(dl.Event); in.Err != "" || in.Event.ID != dl.ID {
				t.Errorf("dead letter %s: event %s is not the original event", dl.ID, dl.Event)
			}
		}
	}
	if m, err := dead.NextMsg(100 * time.Millisecond); err == nil {
		t.Errorf("more dead letters than expected: %s", m.Data)
	}
	// The stream the intake created keeps the dead letters too.
	s, err := js.Stream(context.Background(), cfg.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.CachedInfo().State.Msgs; n != 8+3 {
		t.Errorf("stream holds %d messages, want the 8 events and 3 dead letters", n)
	}
}

func TestRedeliveryAfterCrashBeforeAckCountsOnce(t *testing.T) {
	_, js := connect(t)
	cfg := testConfig(t, js)
	cfg.AckWait = time.Second
	svc, _, _ := setup(t)
	ctx := context.Background()

	// Create the stream and consumer, then stop.
	stop := start(t, js, cfg, svc)
	stop()
	publish(t, js, cfg.Subject, event("crm:1:deal.won", "deal.won", "p1", `{"amount": 50000}`))

	// A consumer takes the message and commits its event, then dies
	// before it acks.
	c, err := js.Consumer(ctx, cfg.Stream, cfg.Durable)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 1 {
		t.Fatalf("fetched %d messages, want 1 (%v)", len(msgs), b.Error())
	}
	res, err := svc.Ingest(ctx, []*service.Incoming{api.DecodeEvent(msgs[0].Data())})
	if err != nil || res[0].Status != "accepted" {
		t.Fatalf("ingest: %v %+v", err, res)
	}

	// The restarted intake gets it again after AckWait: a duplicate, acked.
	start(t, js, cfg, svc)
	info := waitAllAcked(t, js, cfg, 1)
	if info.Delivered.Consumer != 2 {
		t.Errorf("the message was delivered %d times, want 2", info.Delivered.Consumer)
	}
	if got := lifetime(t, svc, "m1"); got != 500 {
		t.Errorf("lifetime points %d, want 500: the redelivered event counted once", got)
	}
}

func TestIngestFailureNaksAndTheEventComesBack(t *testing.T) {
	_, js := connect(t)
	cfg := testConfig(t, js)
	svc, st, path := setup(t)

	// The store goes away under the running service: Ingest fails as a
	// whole, and the message is NAKed and delivered again, never acked.
	stop := start(t, js, cfg, svc)
	st.Close()
	publish(t, js, cfg.Subject, event("crm:1:deal.won", "deal.won", "p1", `{"amount": 50000}`))
	waitFor(t, "the message to be delivered again", func() (bool, string) {
		info, err := consumerInfo(js, cfg)
		if err != nil {
			return false, err.Error()
		}
		if info.AckFloor.Stream != 0 {
			t.Fatalf("the message was acked although Ingest failed: %+v", info.AckFloor)
		}
		return info.Delivered.Consumer >= 2, fmt.Sprintf("delivered %d", info.Delivered.Consumer)
	})
	stop()
	if got := lifetime(t, svc, "m1"); got != 0 {
		t.Errorf("lifetime points %d with the store down, want 0", got)
	}
	svc.Close()

	// The server comes back: the message is delivered again and counts.
	svc2, st2 := openService(t, path)
	t.Cleanup(func() {
		svc2.Close()
		st2.Close()
	})
	start(t, js, cfg, svc2)
	waitAllAcked(t, js, cfg, 1)
	if got := lifetime(t, svc2, "m1"); got != 500 {
		t.Errorf("lifetime points %d, want 500", got)
	}
}

func TestRunFailsFastWhenNATSIsUnreachable(t *testing.T) {
	svc, _, _ := setup(t)
	cfg := Config{URL: "nats://user:secret@127.0.0.1:1", Logger: slog.New(slog.DiscardHandler)}
	err := Run(context.Background(), cfg, svc)
	if rung.ErrorCode(err) != rung.EUNAVAILABLE || !strings.Contains(err.Error(), "cannot connect to NATS") {
		t.Fatalf("Run: %v, want an unavailable error that says it cannot connect", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

func TestConfigCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // part of the error; empty: valid
	}{
		{"defaults", func(c *Config) {}, ""},
		{"wildcard subject", func(c *Config) { c.Subject = "crm.*.events" }, ""},
		{"no URL", func(c *Config) { c.URL = "" }, "URL is empty"},
		{"dotted stream", func(c *Config) { c.Stream = "rung.events" }, "stream name"},
		{"empty token", func(c *Config) { c.Subject = "rung..events" }, "not a NATS subject"},
		{"wildcard dead letters", func(c *Config) { c.DeadLetter = "rung.dead.*" }, "without wildcards"},
		{"dead letters read back", func(c *Config) { c.Subject = "rung.events.>" }, "matches the event subject"},
		{"dead letters read back by *", func(c *Config) { c.Subject = "rung.events.*" }, "matches the event subject"},
		{"dead letters on the event subject", func(c *Config) { c.DeadLetter = c.Subject }, "matches the event subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{URL: "nats://127.0.0.1:4222"}.withDefaults()
			tc.change(&c)
			err := c.check()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("check: %v, want valid", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("check: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestRedactMasksCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                        "nats://127.0.0.1:4222",
		"nats://ann:secret@h:4222":                     "nats://ann:xxxxx@h:4222",
		"nats://s3cr3ttoken@h:4222,nats://a:b@h2:4222": "nats://xxxxx@h:4222,nats://a:xxxxx@h2:4222",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkStreamIntake measures events per second from a JetStream
// backlog into SQLite: b.N events are published first, then the intake
// takes them all.
func BenchmarkStreamIntake(b *testing.B) {
	_, js := connect(b)
	cfg := testConfig(b, js)
	svc, _, _ := setup(b)
	stop := start(b, js, cfg, svc)
	stop()
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for i := range b.N {
		body := fmt.Sprintf(`{"id": "crm:%d:deal.won", "type": "deal.won", "partner": "p1", "member": "m%d", "occurred_at": %q, "attrs": {"amount": %d}}`, i, i%500, at, 1000+i%9000)
		if _, err := js.PublishAsync(cfg.Subject, []byte(body)); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("publishing took over a minute")
	}
	b.ResetTimer()
	began := time.Now()
	start(b, js, cfg, svc)
	for {
		info, err := consumerInfo(js, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if info.AckFloor.Consumer >= uint64(b.N) {
			break
		}
		if time.Since(began) > 5*time.Minute {
			b.Fatalf("only %d of %d acked after 5 minutes", info.AckFloor.Consumer, b.N)
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(began)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/took.Seconds(), "events/s")
}
