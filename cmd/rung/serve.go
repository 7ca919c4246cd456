package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/api"
	"github.com/rung-dev/rung/internal/connect/natsin"
	"github.com/rung-dev/rung/internal/credential"
	"github.com/rung-dev/rung/internal/issuance"
	"github.com/rung-dev/rung/internal/jobs"
	"github.com/rung-dev/rung/internal/lane"
	"github.com/rung-dev/rung/internal/notify"
	"github.com/rung-dev/rung/internal/opsmetrics"
	"github.com/rung-dev/rung/internal/registration"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/web"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("serve", stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite path or postgres:// URL (RUNG_DB)")
	addr := fs.String("addr", env("RUNG_ADDR", "127.0.0.1:8080"), "listen address (RUNG_ADDR)")
	intake := natsin.Config{}
	fs.StringVar(&intake.URL, "ingest", env("RUNG_INGEST", ""), "also take events from NATS JetStream at this URL, e.g. nats://127.0.0.1:4222 (RUNG_INGEST)")
	fs.StringVar(&intake.Stream, "ingest-stream", env("RUNG_INGEST_STREAM", natsin.DefaultStream), "JetStream stream of events, created when missing (RUNG_INGEST_STREAM)")
	fs.StringVar(&intake.Subject, "ingest-subject", env("RUNG_INGEST_SUBJECT", natsin.DefaultSubject), "subject the events are published on (RUNG_INGEST_SUBJECT)")
	fs.StringVar(&intake.Durable, "ingest-durable", env("RUNG_INGEST_DURABLE", natsin.DefaultDurable), "durable consumer name (RUNG_INGEST_DURABLE)")
	fs.StringVar(&intake.DeadLetter, "ingest-dead-letter", env("RUNG_INGEST_DEAD_LETTER", natsin.DefaultDeadLetter), "subject rejected events go to, with the reason (RUNG_INGEST_DEAD_LETTER)")
	followDefault, err := envDuration("RUNG_FOLLOW_EVERY", 100*time.Millisecond)
	if err != nil {
		return err
	}
	followEvery := fs.Duration("follow-every", followDefault, "on PostgreSQL, how often to poll for what other instances wrote, besides listening for it (RUNG_FOLLOW_EVERY)")
	snapDefault, err := envDuration("RUNG_SNAPSHOT_EVERY", 10*time.Minute)
	if err != nil {
		return err
	}
	useLane := fs.Bool("lane", envOn("RUNG_LANE"), "serve the API's hot reads (leaderboards, scorecards, members, partners, events, health) with Rung's own HTTP/1.1 lane, the rest with net/http; false leaves every request to net/http (RUNG_LANE=off)")
	snapshotEvery := fs.Duration("snapshot-every", snapDefault, "how often the leading instance may store a snapshot of the derived state for fast starts, once 100,000 records came after the last; ingest waits while it is taken (about 1.5 s per million events); 0 never (RUNG_SNAPSHOT_EVERY)")
	var cred credentialFlags
	if err := cred.register(fs); err != nil {
		return err
	}
	var nf notifyFlags
	nf.register(fs)
	var ob outboxFlags
	if err := ob.register(fs); err != nil {
		return err
	}
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := nf.check(); err != nil {
		return err
	}
	if *followEvery <= 0 {
		return rung.Errorf(rung.EINVALID, "--follow-every must be positive, such as 100ms")
	}
	if err := cred.check(); err != nil {
		return err
	}
	crm, err := ob.sinks()
	if err != nil {
		return err
	}
	logBuf := newBufferedLog(stderr)
	defer logBuf.Flush()
	log := slog.New(flushingHandler{opsmetrics.NewTextHandler(logBuf), logBuf}) // NewTextHandler: access log lines formatted by hand
	gc := tuneGC()
	log.Info("starting", "db", redact(*db), "addr", *addr, "gogc", gc, "memory_limit_mib", debug.SetMemoryLimit(-1)>>20, "follow_every", *followEvery, "lane", *useLane)
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	prepareHeap()
	svc, err := service.Open(ctx, st, service.Options{Logger: log, FollowEvery: *followEvery})
	if err != nil {
		return err
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return rung.Errorf(rung.EUNAVAILABLE, "cannot listen on %s: %v (is another server running? choose another --addr)", *addr, err)
	}
	defer ln.Close()
	iss, err := cred.issuer(ctx, svc, publicURL(ln), log)
	if err != nil {
		return err
	}
	// The scheduler: every instance runs one; the one that leads runs the
	// jobs. It stops before the service and the store close.
	runner := jobs.New(st, jobs.Options{Logger: log})
	if err := runner.Add(registration.New(svc, registration.Options{Logger: log}).SweepJob()); err != nil {
		return err
	}
	if err := runner.Add(issuance.New(svc, iss, log).Job(cred.every)); err != nil {
		return err
	}
	notes, err := nf.service(svc, runner, publicURL(ln), log)
	if err != nil {
		return err
	}
	rl := &relay{svc: svc, notes: notes, log: log}
	// A snapshot of the derived state makes the next start load it and
	// replay only the log after it (service/snapshot.go).
	jobsToAdd := append(svc.TierJobs(), rl.job())
	if *snapshotEvery > 0 {
		jobsToAdd = append(jobsToAdd, svc.SnapshotJob(*snapshotEvery, 100_000))
	}
	for _, j := range jobsToAdd {
		if err := runner.Add(j); err != nil {
			return err
		}
	}
	jctx, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{}, 2)
	go func() {
		defer func() { jobsDone <- struct{}{} }()
		runner.Run(jctx)
	}()
	go func() {
		defer func() { jobsDone <- struct{}{} }()
		notes.Run(jctx, runner.Leading, time.Second)
	}()
	defer func() {
		stopJobs()
		<-jobsDone
		<-jobsDone
	}()
	defer ob.start(ctx, svc, crm, runner.Leading, rl.afterProduce, log)()
	opsmetrics.OutboxBacklog.Set(func() float64 { return outboxBacklog(st) })
	fmt.Fprintf(stdout, "Rung is serving on http://%s\n", ln.Addr())
	if intake.URL != "" {
		// The intake runs beside the HTTP server; if it cannot start, the
		// server stops too. It stops before the service closes.
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		intake.Logger = log
		log.Info("stream intake starting", "intake", intake)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := natsin.Run(ctx, intake, svc); err != nil {
				log.Error("stream intake failed", "err", err)
				cancel(err)
			}
		}()
		defer func() {
			cancel(nil)
			<-done
		}()
	}
	if err := serve(ctx, ln, svc, iss, notes, *useLane, log); err != nil {
		return err
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// publicURL is how browsers and verifiers reach the server: RUNG_URL, or
// the listen address.
func publicURL(ln net.Listener) string { return env("RUNG_URL", "http://"+ln.Addr().String()) }

// serve runs the HTTP server until ctx ends, then shuts down gracefully.
// With useLane, the API's hot reads are served by a lane (internal/lane)
// and the rest by net/http.
func serve(ctx context.Context, ln net.Listener, svc *service.Service, iss *credential.Issuer, notes *notify.Service, useLane bool, log *slog.Logger) error {
	log = slog.New(opsmetrics.WithRequestID(log.Handler())) // records logged with a request's context carry its id
	wh, err := web.New(svc, web.Options{Logger: log, BaseURL: publicURL(ln), SecureCookies: os.Getenv("RUNG_SECURE_COOKIES") == "1", Notify: notes})
	if err != nil {
		return err
	}
	defer wh.Close()
	ah := api.New(svc, log)
	ah.UseAnalytics(wh.Analytics()) // one analytics snapshot for pages and API
	srv := &http.Server{
		Handler:           opsmetrics.Middleware(front(ah.WithReplies(notes), handler(wh.Mount(ah), credential.NewHandler(iss, log), notes.Handler())), log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	var ls *lane.Server
	rest := ln
	if useLane {
		ls, rest = lane.New(ln, srv, api.Simple)
	}
	go func() { errc <- srv.Serve(api.Listen(srv, rest)) }()
	if ls != nil {
		go func() { errc <- ls.Serve() }()
	}
	select {
	case err := <-errc:
		if ls != nil {
			ls.Close()
		}
		srv.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var lerr error
	if ls != nil {
		lerr = ls.Shutdown(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return lerr
}

// front passes the API's requests (and the health checks) straight to the
// API, and everything else to rest: the API's reads are the requests that
// come most often, and matching them against the outer mux's patterns first
// was a few per cent of a leaderboard read's CPU. rest routes them the same
// way (web.Handler.Mount).
func front(api, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" {
			api.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}

// handler routes the credential URLs (SPEC: docs/credentials.md) to the
// credential handler and everything else to the web and the API.
func handler(app, cred, notes http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/notify/", notes)
	mux.Handle("/", app)
	mux.Handle("/credentials/", cred)
	mux.Handle("/.well-known/did.json", cred)
	mux.Handle("/.well-known/jwks.json", cred)
	mux.Handle("GET /metrics", opsmetrics.Handler(opsmetrics.Default))
	return mux
}

// tuneGC makes the collector less eager than Go's default unless GOGC is
// set: the server holds its whole state in memory, and with GOGC=100 the
// collector took about 30% of the CPU under ingest (BENCHMARKS.md). It
// returns the setting in force.
func tuneGC() string {
	if v := os.Getenv("GOGC"); v != "" {
		return v
	}
	debug.SetGCPercent(300)
	return "300"
}

// envOn reads a switch that is on unless the environment sets it to off,
// false or 0.
func envOn(name string) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "off", "false", "0":
		return false
	}
	return true
}

// envDuration reads a duration from the environment, or returns def when
// it is unset.
func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, rung.Errorf(rung.EINVALID, "%s=%q is not a duration: use one such as 100ms", name, v)
	}
	return d, nil
}
