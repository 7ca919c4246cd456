package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/rung-dev/rung/internal/store"
)

// Sink is an endpoint messages are delivered to: a webhook subscription or
// a CRM.
type Sink interface {
	// Endpoint names the sink in the deliveries: a subscription's ID, or
	// crm:hubspot, crm:salesforce.
	Endpoint() string
	// Wants reports whether the sink takes messages of type t.
	Wants(t string) bool
	// Send delivers one message; nil means the endpoint took it.
	Send(ctx context.Context, c *http.Client, m store.OutboxMessage, now time.Time) error
}

// Options configure a Deliverer.
type Options struct {
	// MaxAttempts is the retry budget: a delivery that has failed this
	// many times is dead-lettered (default 10).
	MaxAttempts int
	// Backoff is the wait after the first failure; it doubles with each
	// further one, up to MaxBackoff (defaults 10 s and 1 h). Each wait is
	// drawn between half and all of that, so retries spread out.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// Client sends the requests (default: a client with Timeout).
	Client *http.Client
	// Sinks are endpoints besides the webhook subscriptions: the CRMs.
	Sinks []Sink
	// Clock returns the current time; time.Now when nil.
	Clock func() time.Time
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Deliverer delivers the outbox's messages. Its Step is run by one
// instance at a time (the job runner's leader, see Worker); were two to run
// at once for a moment, a message could be sent twice, never lost, and
// receivers deduplicate by its ID.
type Deliverer struct {
	st  store.Store
	o   Options
	rnd func() float64
}

// NewDeliverer returns a Deliverer over st.
func NewDeliverer(st store.Store, o Options) *Deliverer {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Backoff <= 0 {
		o.Backoff = 10 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Deliverer{st: st, o: o, rnd: rand.Float64}
}

// Backoff returns the wait after the n-th failed attempt (n ≥ 1) before
// jitter: Backoff·2^(n-1), at most MaxBackoff.
func (d *Deliverer) Backoff(n int) time.Duration {
	w := d.o.Backoff
	for i := 1; i < n && w < d.o.MaxBackoff; i++ {
		w *= 2
	}
	return min(w, d.o.MaxBackoff)
}

// sinks returns every endpoint by name: the enabled webhook subscriptions
// and the configured CRMs.
func (d *Deliverer) sinks(ctx context.Context) (map[string]Sink, []Sink, error) {
	subs, err := d.st.Subscriptions(ctx)
	if err != nil {
		return nil, nil, err
	}
	var all []Sink
	for _, s := range subs {
		all = append(all, Webhook{Sub: s})
	}
	all = append(all, d.o.Sinks...)
	by := make(map[string]Sink, len(all))
	for _, s := range all {
		by[s.Endpoint()] = s
	}
	return by, all, nil
}

// Step dispatches new messages to the endpoints that want them, then
// makes every attempt that is due, until none is. It returns how many
// messages were delivered.
func (d *Deliverer) Step(ctx context.Context) (int, error) {
	by, all, err := d.sinks(ctx)
	if err != nil {
		return 0, err
	}
	if err := d.dispatch(ctx, all); err != nil {
		return 0, err
	}
	delivered := 0
	for ctx.Err() == nil {
		due, err := d.st.DueDeliveries(ctx, d.o.Clock(), 200)
		if err != nil || len(due) == 0 {
			return delivered, err
		}
		n, err := d.attempt(ctx, by, due)
		delivered += n
		if err != nil {
			return delivered, err
		}
	}
	return delivered, ctx.Err()
}

// dispatch gives each undispatched message a delivery for every sink that
// wants it, in one transaction per batch of messages. With no sink at all,
// that is marking every message dispatched, which one statement does
// without reading them.
func (d *Deliverer) dispatch(ctx context.Context, sinks []Sink) error {
	if len(sinks) == 0 {
		_, err := d.st.DispatchOutboxNowhere(ctx, math.MaxInt64)
		return err
	}
	for {
		msgs, err := d.st.OutboxMessages(ctx, 0, 500, true)
		if err != nil || len(msgs) == 0 {
			return err
		}
		now := d.o.Clock()
		seqs := make([]int64, 0, len(msgs))
		var ds []store.Delivery
		for _, m := range msgs {
			seqs = append(seqs, m.Seq)
			for _, s := range sinks {
				if s.Wants(m.Type) {
					ds = append(ds, store.Delivery{Message: m, Endpoint: s.Endpoint(), NextAttemptAt: now})
				}
			}
		}
		if err := d.st.DispatchOutbox(ctx, seqs, ds); err != nil {
			return err
		}
	}
}

// attempt makes the due attempts, endpoints in parallel, each endpoint's
// in order, and stores their outcomes.
func (d *Deliverer) attempt(ctx context.Context, by map[string]Sink, due []store.Delivery) (int, error) {
	per := map[string][]store.Delivery{}
	var order []string
	for _, x := range due {
		if _, ok := per[x.Endpoint]; !ok {
			order = append(order, x.Endpoint)
		}
		per[x.Endpoint] = append(per[x.Endpoint], x)
	}
	var mu sync.Mutex
	var firstErr error
	delivered := 0
	var wg sync.WaitGroup
	for _, ep := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, x := range per[ep] {
				ok, err := d.one(ctx, by[ep], x)
				mu.Lock()
				if ok {
					delivered++
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return delivered, firstErr
}

// one makes one attempt and stores its outcome; the error is the store's.
func (d *Deliverer) one(ctx context.Context, s Sink, x store.Delivery) (bool, error) {
	var err error
	if s == nil {
		err = fmt.Errorf("endpoint %s is not configured any more", x.Endpoint)
	} else {
		actx, cancel := context.WithTimeout(ctx, d.o.Timeout)
		err = s.Send(actx, d.o.Client, x.Message, d.o.Clock())
		cancel()
	}
	if ctx.Err() != nil {
		return false, ctx.Err() // stopping: the attempt does not count
	}
	now := d.o.Clock()
	x.Attempts++
	if err == nil {
		x.DeliveredAt, x.LastError = now, ""
		return true, d.st.UpdateDelivery(ctx, x)
	}
	x.LastError = err.Error()
	if x.Attempts >= d.o.MaxAttempts || s == nil {
		x.Dead = true
		d.o.Logger.Warn("outbox: delivery dead-lettered", "message", x.Message.ID, "endpoint", x.Endpoint, "attempts", x.Attempts, "err", err)
	} else {
		w := d.Backoff(x.Attempts)
		x.NextAttemptAt = now.Add(w/2 + time.Duration(d.rnd()*float64(w/2)))
		d.o.Logger.Info("outbox: delivery failed, will retry", "message", x.Message.ID, "endpoint", x.Endpoint, "attempts", x.Attempts, "next", x.NextAttemptAt, "err", err)
	}
	return false, d.st.UpdateDelivery(ctx, x)
}

// Envelope is the JSON body of a webhook delivery.
type Envelope struct {
	ID        string          `json:"id"` // the message's: deduplicate by it
	Type      string          `json:"type"`
	Subject   string          `json:"subject"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// Webhook delivers to a webhook subscription: a signed POST of the
// message's Envelope.
type Webhook struct{ Sub store.Subscription }

// Endpoint is the subscription's ID.
func (w Webhook) Endpoint() string { return w.Sub.ID }

// Wants reports whether the subscription takes type t.
func (w Webhook) Wants(t string) bool { return Public(t) && w.Sub.Wants(t) }

// Send POSTs the message, signed; any 2xx answer is a delivery.
func (w Webhook) Send(ctx context.Context, c *http.Client, m store.OutboxMessage, now time.Time) error {
	body, err := json.Marshal(Envelope{ID: m.ID, Type: m.Type, Subject: m.Subject, CreatedAt: m.CreatedAt, Data: m.Payload})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Sub.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Rung-Webhooks/1")
	req.Header.Set("Rung-Message-Id", m.ID)
	req.Header.Set("Rung-Message-Type", m.Type)
	req.Header.Set(SignatureHeader, Sign(w.Sub.Secret, now, body))
	return do(c, req)
}

// do sends req and turns an answer other than 2xx into an error that
// quotes the start of the answer.
func do(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return fmt.Errorf("%s %s answered %s: %s", req.Method, req.URL.Redacted(), resp.Status, bytes.TrimSpace(b))
}
