package outbox

import (
	"context"
	"log/slog"
	"time"
)

// Worker runs the Producer and the Deliverer every Every while Leading
// reports that this instance leads the job runner (jobs.Runner.Leading),
// so that one instance at a time reports and delivers.
type Worker struct {
	Producer  *Producer
	Deliverer *Deliverer
	Every     time.Duration // default 1 s
	Leading   func() bool   // nil: always
	Logger    *slog.Logger
	// Keep is how long delivered messages stay in the outbox (default 7
	// days); the worker prunes older ones every hour. Dead letters stay
	// until replayed and delivered.
	Keep time.Duration

	pruned time.Time
}

// Run works until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	every := w.Every
	if every <= 0 {
		every = time.Second
	}
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if w.Leading == nil || w.Leading() {
			if err := w.Step(ctx); err != nil && ctx.Err() == nil {
				log.Error("outbox step failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Step produces, then delivers, once.
func (w *Worker) Step(ctx context.Context) error {
	if w.Producer != nil {
		// With no CRM to deliver to and no webhook stored, the messages
		// are not stored: nobody could receive them.
		w.Producer.unsubscribed = w.Deliverer != nil && len(w.Deliverer.o.Sinks) == 0
		if _, err := w.Producer.Step(ctx); err != nil {
			return err
		}
	}
	if w.Deliverer != nil {
		if _, err := w.Deliverer.Step(ctx); err != nil {
			return err
		}
		now := w.Deliverer.o.Clock()
		if now.Sub(w.pruned) >= time.Hour {
			keep := w.Keep
			if keep <= 0 {
				keep = 7 * 24 * time.Hour
			}
			n, err := w.Deliverer.st.PruneOutbox(ctx, now.Add(-keep))
			if err != nil {
				return err
			}
			w.pruned = now
			if n > 0 && w.Logger != nil {
				w.Logger.Info("outbox pruned", "messages", n, "before", now.Add(-keep))
			}
		}
	}
	return nil
}
