package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/rung-dev/rung/internal/notify"
	"github.com/rung-dev/rung/internal/service"
)

// DemoWindow is the demo's batching window: short, so what one does in
// the demo shows in its mailbox within seconds.
const DemoWindow = 2 * time.Second

// demoNotifications runs the demo's notifications with an in-process
// mailbox (notify.Mailbox) as the mail sender: nothing leaves the
// machine, and the console's Mailbox page shows what would have been
// sent. The demo is one process, so it delivers without a job runner; it
// also enqueues this week's digests at once, so there is mail to look at.
// The returned function stops it.
func demoNotifications(ctx context.Context, svc *service.Service, url string, log *slog.Logger) (*notify.Service, func()) {
	n := notify.New(svc, notify.Options{Mail: &notify.Mailbox{}, From: "Acme Partner Program <partners@acme.example>", BaseURL: url,
		Window: DemoWindow, Logger: log})
	nctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := n.EnqueueDigests(nctx, notify.DigestPeriod(svc.Now())); err != nil && nctx.Err() == nil {
			log.Warn("demo: weekly digests not enqueued", "err", err)
		}
		n.Run(nctx, nil, time.Second)
	}()
	return n, func() {
		cancel()
		<-done
	}
}
