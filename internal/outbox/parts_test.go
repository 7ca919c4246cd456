package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/outbox"
)

// A step reads the members it was told of a few at a time, letting ingest
// run between the reads. Whatever a read sees beyond what the step was told
// of, each member's points messages still form one chain, each starting
// from the balance the one before ended at, and end at the member's final
// balance: nothing told twice, nothing lost. So do the partner's, read
// after the parts.
func TestProducerReadingInPartsTellsEachChangeOnce(t *testing.T) {
	defer outbox.SetReadPart(3)()
	f := newFixture(t)
	ctx := context.Background()
	const members = 40
	for i := range members {
		id := fmt.Sprintf("m%02d", i)
		if _, err := f.svc.PutMember(ctx, rung.Member{ID: id, Partner: "p1", Name: id, JoinedAt: start.AddDate(-1, 0, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	p := outbox.NewProducer(f.svc, false)
	step(t, p) // the state as it is: no messages
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		defer close(stop)
		r := rand.New(rand.NewPCG(1, 2))
		for b := range 60 {
			evs := make([]rung.Event, 1+r.IntN(8))
			for i := range evs {
				evs[i] = rung.Event{ID: fmt.Sprintf("e%d-%d", b, i), Type: "training.completed", Partner: "p1",
					Member: fmt.Sprintf("m%02d", r.IntN(members))}
			}
			f.ingest(t, evs...)
		}
	})
	steps := 0
	for done := false; !done; steps++ {
		select {
		case <-stop:
			done = true
		default:
		}
		if _, err := p.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	step(t, p) // after the last batch
	if n := step(t, p); n != 0 {
		t.Fatalf("a step with nothing new told %d messages", n)
	}
	ms, err := f.st.OutboxMessages(ctx, 0, 100000, false)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]int64{} // subject → the balance its last message told
	for _, m := range ms {
		if m.Type != outbox.PointsChanged {
			continue
		}
		var pl outbox.PointsPayload
		if err := json.Unmarshal(m.Payload, &pl); err != nil {
			t.Fatal(err)
		}
		k := outbox.Subject(pl.Kind, pl.Subject)
		if pl.PreviousBalance != last[k] || pl.Balance == pl.PreviousBalance {
			t.Fatalf("%s: %s tells %d → %d after a message that ended at %d", m.ID, k, pl.PreviousBalance, pl.Balance, last[k])
		}
		last[k] = pl.Balance
	}
	ids := make([]string, members)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%02d", i)
	}
	f.svc.Read(func(e *engine.Engine) error {
		n := 0
		e.SubjectStates(ids, []string{"p1"}, func(s engine.SubjectState) {
			n++
			if k := outbox.Subject(s.Kind, s.ID); last[k] != s.Balance {
				t.Errorf("%s: balance %d, its messages end at %d", k, s.Balance, last[k])
			}
		})
		if n != members+1 {
			t.Errorf("%d states read, want %d", n, members+1)
		}
		return nil
	})
	t.Logf("%d steps beside 60 batches, %d messages", steps, len(ms))
}
