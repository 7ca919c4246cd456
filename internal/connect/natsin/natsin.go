// Package natsin takes events from a NATS JetStream stream: the stream
// intake behind `rung serve --ingest nats://...`.
//
// A durable pull consumer reads the stream in batches, and each batch goes
// through the service's Ingest in one call: the same validation, dedupe and
// corrections as POST /api/v1/events. A message is acknowledged only after
// Ingest returned, that is once its events are durable. A rejected event is
// published, with the reason, on a dead-letter subject, and its message is
// acknowledged. When Ingest fails as a whole (the store is unavailable), the
// batch is negatively acknowledged with a delay so JetStream delivers it
// again later. Delivery is at least once; since events are idempotent, an
// event delivered twice (a crash between commit and ack) counts once.
package natsin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
)

// Defaults for Config.
const (
	DefaultStream     = "RUNG_EVENTS"
	DefaultSubject    = "rung.events"
	DefaultDurable    = "rung"
	DefaultDeadLetter = "rung.events.dead"
	DefaultBatch      = 1000
	DefaultMaxWait    = 500 * time.Millisecond
	DefaultAckWait    = 30 * time.Second
	DefaultNakDelay   = 5 * time.Second
)

// Config says where the events come from. Only URL is required.
type Config struct {
	// URL of the NATS server, e.g. nats://127.0.0.1:4222 (a comma-separated
	// list for a cluster; credentials may be in the URL).
	URL string
	// Stream is the JetStream stream; created with file storage when
	// missing (DefaultStream).
	Stream string
	// Subject the events are published on: the consumer's filter
	// (DefaultSubject). Wildcards are allowed.
	Subject string
	// Durable is the consumer's name; the stream remembers how far it got
	// (DefaultDurable).
	Durable string
	// DeadLetter is the subject rejected events are published on, as JSON
	// DeadLetter records (DefaultDeadLetter). It must not match Subject.
	DeadLetter string
	// Batch is the most messages pulled and ingested at once (DefaultBatch).
	Batch int
	// MaxWait is how long an idle pull waits for a message; it also bounds
	// how long a stop waits for the pull in flight (DefaultMaxWait).
	MaxWait time.Duration
	// AckWait is how long JetStream waits for an ack before it delivers a
	// message again (DefaultAckWait).
	AckWait time.Duration
	// NakDelay is how long a batch waits before it is delivered again after
	// Ingest failed (DefaultNakDelay). Pulling pauses as long.
	NakDelay time.Duration
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// LogValue prints the configuration with the URL's credentials masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redact(c.URL)),
		slog.String("stream", c.Stream),
		slog.String("subject", c.Subject),
		slog.String("durable", c.Durable),
		slog.String("dead_letter", c.DeadLetter),
	)
}

// withDefaults fills what is not set.
func (c Config) withDefaults() Config {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&c.Stream, DefaultStream)
	def(&c.Subject, DefaultSubject)
	def(&c.Durable, DefaultDurable)
	def(&c.DeadLetter, DefaultDeadLetter)
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.MaxWait <= 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.NakDelay <= 0 {
		c.NakDelay = DefaultNakDelay
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// check reports a configuration that cannot work.
func (c Config) check() error {
	switch {
	case strings.TrimSpace(c.URL) == "":
		return rung.Errorf(rung.EINVALID, "the NATS URL is empty: give one like nats://127.0.0.1:4222")
	case strings.ContainsAny(c.Stream, " \t.*>/\\"):
		return rung.Errorf(rung.EINVALID, "stream name %q may not contain spaces, dots, *, > or slashes", c.Stream)
	case strings.ContainsAny(c.Durable, " \t.*>/\\"):
		return rung.Errorf(rung.EINVALID, "durable name %q may not contain spaces, dots, *, > or slashes", c.Durable)
	case !validSubject(c.Subject):
		return rung.Errorf(rung.EINVALID, "subject %q is not a NATS subject like rung.events", c.Subject)
	case !validSubject(c.DeadLetter) || strings.ContainsAny(c.DeadLetter, "*>"):
		return rung.Errorf(rung.EINVALID, "dead-letter subject %q is not a NATS subject without wildcards, like rung.events.dead", c.DeadLetter)
	case subjectMatches(c.Subject, c.DeadLetter):
		return rung.Errorf(rung.EINVALID, "dead-letter subject %q matches the event subject %q: dead letters would be read back as events; choose another", c.DeadLetter, c.Subject)
	}
	return nil
}

// Run connects to NATS, creates the stream when it is missing and the
// durable consumer, and ingests events until ctx ends; then it finishes the
// batch in hand, acknowledges it and returns nil. It returns an error only
// when it cannot start (a bad configuration, NATS unreachable, a stream or
// consumer it cannot create); once running, it rides out NATS and store
// outages, retrying.
func Run(ctx context.Context, cfg Config, svc *service.Service) error {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return err
	}
	log := cfg.Logger
	nc, err := nats.Connect(cfg.URL,
		nats.Name("rung"),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS disconnected; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", "server", nc.ConnectedUrlRedacted())
		}),
	)
	if err != nil {
		return rung.Errorf(rung.EUNAVAILABLE, "cannot connect to NATS at %s: %v (is the server running, with JetStream enabled: nats-server -js?)", redact(cfg.URL), err)
	}
	defer func() {
		nc.Flush() // the last acks
		nc.Close()
	}()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	in := &intake{cfg: cfg, svc: svc, log: log, nc: nc, js: js}
	if err := in.setup(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	log.Info("stream intake running", "intake", cfg, "dead_letters_kept", in.deadStored)
	in.loop(ctx)
	log.Info("stream intake stopped")
	return nil
}

// intake is a running consumer.
type intake struct {
	cfg  Config
	svc  *service.Service
	log  *slog.Logger
	nc   *nats.Conn
	js   jetstream.JetStream
	cons jetstream.Consumer
	// deadStored is set when a stream keeps the dead-letter subject: dead
	// letters are then published with JetStream acks, else on core NATS.
	deadStored bool
}

// setup makes sure the stream and the durable consumer exist.
func (in *intake) setup(ctx context.Context) error {
	cfg := in.cfg
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	deadStream, err := in.js.StreamNameBySubject(ctx, cfg.DeadLetter)
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return rung.Errorf(rung.EUNAVAILABLE, "NATS at %s: JetStream does not answer: %v (is it enabled: nats-server -js?)", redact(cfg.URL), err)
	}
	if _, err := in.js.Stream(ctx, cfg.Stream); errors.Is(err, jetstream.ErrStreamNotFound) {
		// A new stream also keeps the dead letters, unless another
		// stream does already; the consumer's filter leaves them out.
		subjects := []string{cfg.Subject}
		if deadStream == "" {
			subjects = append(subjects, cfg.DeadLetter)
			deadStream = cfg.Stream
		}
		_, err = in.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        cfg.Stream,
			Description: "Events for Rung (dead letters on " + cfg.DeadLetter + ")",
			Subjects:    subjects,
			Storage:     jetstream.FileStorage,
		})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("create stream %s for subjects %s: %w", cfg.Stream, strings.Join(subjects, ", "), err)
		}
		if err == nil {
			in.log.Info("created stream", "stream", cfg.Stream, "subjects", subjects, "storage", "file")
		}
	} else if err != nil {
		return fmt.Errorf("stream %s: %w", cfg.Stream, err)
	}
	in.deadStored = deadStream != ""
	if !in.deadStored {
		in.log.Warn("no stream keeps the dead-letter subject: rejected events go out on core NATS only, to whoever listens; add the subject to a stream to keep them", "subject", cfg.DeadLetter)
	}
	cons, err := in.js.CreateOrUpdateConsumer(ctx, cfg.Stream, jetstream.ConsumerConfig{
		Durable:       cfg.Durable,
		Description:   "Rung stream intake",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		FilterSubject: cfg.Subject,
		MaxDeliver:    -1,
		// Batches NAKed with a delay stay pending; leave room to pull the
		// next ones.
		MaxAckPending: 4 * cfg.Batch,
	})
	if err != nil {
		return fmt.Errorf("create consumer %s on stream %s (does the stream take subject %s?): %w", cfg.Durable, cfg.Stream, cfg.Subject, err)
	}
	in.cons = cons
	return nil
}

// pulled is a batch of messages, read, and the error that ended the pull.
type pulled struct {
	ds  []*delivery
	err error
}

// loop pulls and ingests batches until ctx ends. The next batch is pulled
// and read while the current one is ingested; batches are ingested one at
// a time, in the order of the stream.
func (in *intake) loop(ctx context.Context) {
	want := make(chan struct{})
	got := make(chan pulled)
	go in.puller(want, got)
	defer close(want)
	outstanding := false
	pull := func() {
		want <- struct{}{}
		outstanding = true
	}
	next := func() pulled {
		outstanding = false
		return <-got
	}
	retry := time.Second
	pull()
	for outstanding {
		p := next()
		if p.err == nil && ctx.Err() == nil {
			pull()
		}
		if len(p.ds) > 0 && !in.handle(ctx, p.ds) {
			// Ingest failed and the batch waits for redelivery. Send the
			// batch pulled meanwhile back too, and pause as long, so the
			// redelivered messages come before newer ones.
			if outstanding {
				in.nak(next().ds)
			}
			sleep(ctx, in.cfg.NakDelay)
		}
		if p.err != nil {
			in.log.Warn("pulling from NATS failed; retrying", "err", p.err, "in", retry)
			sleep(ctx, retry)
			retry = min(2*retry, 30*time.Second)
			if err := in.setup(ctx); err != nil && ctx.Err() == nil {
				in.log.Warn("stream intake set-up failed", "err", err)
			}
		} else {
			retry = time.Second
		}
		if !outstanding && ctx.Err() == nil {
			pull()
		}
	}
}

// puller pulls and reads a batch for each request on want.
func (in *intake) puller(want <-chan struct{}, got chan<- pulled) {
	for range want {
		msgs, err := in.fetch()
		p := pulled{ds: make([]*delivery, len(msgs)), err: err}
		for i, m := range msgs {
			p.ds[i] = decode(m)
		}
		got <- p
	}
}

// fetch waits up to MaxWait for a first message, then takes whatever else
// is there without waiting, up to Batch: one event waits no longer than it
// takes to arrive, and a backlog goes in large batches.
func (in *intake) fetch() ([]jetstream.Msg, error) {
	first, err := in.cons.Fetch(1, jetstream.FetchMaxWait(in.cfg.MaxWait))
	if err != nil {
		return nil, err
	}
	msgs := make([]jetstream.Msg, 0, in.cfg.Batch)
	for m := range first.Messages() {
		msgs = append(msgs, m)
	}
	if err := first.Error(); err != nil || len(msgs) == 0 || in.cfg.Batch == 1 {
		return msgs, err
	}
	rest, err := in.cons.FetchNoWait(in.cfg.Batch - 1)
	if err != nil {
		return msgs, err
	}
	for m := range rest.Messages() {
		msgs = append(msgs, m)
	}
	return msgs, rest.Error()
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// validSubject reports whether s is a well-formed NATS subject: dot
// separated tokens, none empty, wildcards only as whole tokens and > last.
func validSubject(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	toks := strings.Split(s, ".")
	for i, t := range toks {
		switch {
		case t == "":
			return false
		case t == ">" && i != len(toks)-1:
			return false
		case t != "*" && t != ">" && strings.ContainsAny(t, "*>"):
			return false
		}
	}
	return true
}

// subjectMatches reports whether subject (no wildcards) matches filter.
func subjectMatches(filter, subject string) bool {
	f, s := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, t := range f {
		if t == ">" {
			return len(s) > i
		}
		if i >= len(s) || (t != "*" && t != s[i]) {
			return false
		}
	}
	return len(f) == len(s)
}

// redact masks the credentials in a NATS URL (or a comma-separated list).
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			continue
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else {
			u.User = url.User("xxxxx") // a token
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
