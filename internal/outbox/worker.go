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
		if _, err := w.Producer.Step(ctx); err != nil {
			return err
		}
	}
	if w.Deliverer != nil {
		if _, err := w.Deliverer.Step(ctx); err != nil {
			return err
		}
	}
	return nil
}
