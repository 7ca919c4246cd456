package natsin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A message whose dead letter cannot be stored is NAKed alone while later
// messages go on; when it comes back, its older version of an event counts
// as a correction of the newer one.
func TestRedeliveryNeverPutsAnOldVersionBehindANewOne(t *testing.T) {
	_, js := connect(t)
	cfg := testConfig(t, js)
	cfg.NakDelay = time.Second
	ctx := context.Background()
	dead := cfg.Stream + "_DEAD"
	ds, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: dead, Subjects: []string{cfg.DeadLetter},
		MaxMsgs: 1, Discard: jetstream.DiscardNew, Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { js.DeleteStream(context.Background(), dead) })
	publish(t, js, cfg.DeadLetter, "filler") // the dead-letter stream is full
	svc, _, _ := setup(t)
	start(t, js, cfg, svc)

	m1 := fmt.Sprintf(`{"events": [%s, %s]}`,
		event("crm:1:deal.won", "deal.won", "p1", `{"amount": 50000}`),
		event("bad", "deal.won", "nope", `{"amount": 1}`))
	publish(t, js, cfg.Subject, m1)
	waitFor(t, "m1 ingested", func() (bool, string) { n := lifetime(t, svc, "m1"); return n == 500, fmt.Sprint(n) })
	// The sender corrects the deal later in the stream.
	publish(t, js, cfg.Subject, event("crm:1:deal.won", "deal.won", "p1", `{"amount": 20000}`))
	waitFor(t, "the correction", func() (bool, string) { n := lifetime(t, svc, "m1"); return n == 200, fmt.Sprint(n) })
	ds.Purge(ctx) // dead letters can be stored again
	waitAllAcked(t, js, cfg, 3)
	if got := lifetime(t, svc, "m1"); got != 200 {
		t.Errorf("lifetime %d, want 200: the redelivered first message reverted the later correction", got)
	}
}
