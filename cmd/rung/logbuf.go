package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/rung-dev/rung/internal/opsmetrics"
)

// logFlushEvery is how long a line of rung serve's log may wait in its
// buffer.
const logFlushEvery = 100 * time.Millisecond

// logBufferSize is how much of the log is written in one go at most.
const logBufferSize = 64 << 10

// bufferedLog gathers log lines and writes them together, at most
// logFlushEvery after the first of them, or when logBufferSize fills: a
// server logs a line for every request, and one write(2) a line cost more
// than a leaderboard read's own work. Lines at Warn and above are written at
// once (see flushingHandler), as is everything when the server stops, so
// what a crash can lose is the last 100 ms of Info lines.
type bufferedLog struct {
	mu    sync.Mutex
	w     io.Writer
	buf   []byte
	armed bool // a flush is scheduled
	err   error
}

func newBufferedLog(w io.Writer) *bufferedLog {
	return &bufferedLog{w: w, buf: make([]byte, 0, logBufferSize)}
}

// Write keeps p (a whole line: slog handlers write one record a call) for
// the next flush.
func (b *bufferedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > logBufferSize {
		b.flushLocked()
		if len(p) > logBufferSize {
			_, err := b.w.Write(p)
			return len(p), err
		}
	}
	b.buf = append(b.buf, p...)
	if !b.armed {
		b.armed = true
		time.AfterFunc(logFlushEvery, b.Flush)
	}
	return len(p), nil
}

// Flush writes what the buffer holds.
func (b *bufferedLog) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	b.armed = false
}

func (b *bufferedLog) flushLocked() {
	if len(b.buf) == 0 {
		return
	}
	if _, err := b.w.Write(b.buf); err != nil && b.err == nil {
		b.err = err // nowhere to report it: the log is where errors go
	}
	b.buf = b.buf[:0]
}

// flushingHandler writes the buffer out after every record at Warn or
// above, so problems show at once and in order with what led to them.
type flushingHandler struct {
	slog.Handler
	b *bufferedLog
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.b.Flush()
	}
	return err
}

// TextLines passes lines formatted by the access log middleware on to the
// text handler, flushing after those at Warn and above as Handle does.
func (h flushingHandler) TextLines() func(slog.Level, []byte) {
	th, ok := h.Handler.(opsmetrics.TextLineHandler)
	if !ok {
		return nil
	}
	write := th.TextLines()
	if write == nil {
		return nil
	}
	return func(level slog.Level, line []byte) {
		write(level, line)
		if level >= slog.LevelWarn {
			h.b.Flush()
		}
	}
}

func (h flushingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(as), h.b}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.b}
}
