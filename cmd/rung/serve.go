package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/api"
	"github.com/rung-dev/rung/internal/service"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("serve", stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite path or postgres:// URL (RUNG_DB)")
	addr := fs.String("addr", env("RUNG_ADDR", "127.0.0.1:8080"), "listen address (RUNG_ADDR)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	log.Info("starting", "db", redact(*db), "addr", *addr)
	svc, st, err := openService(ctx, *db, log)
	if err != nil {
		return err
	}
	defer st.Close()
	defer svc.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return rung.Errorf(rung.EUNAVAILABLE, "cannot listen on %s: %v (is another server running? choose another --addr)", *addr, err)
	}
	fmt.Fprintf(stdout, "Rung is serving on http://%s\n", ln.Addr())
	return serve(ctx, ln, svc, log)
}

// serve runs the HTTP server until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, svc *service.Service, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           api.New(svc, log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
