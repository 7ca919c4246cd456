package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/opsmetrics"
)

// lockedBuffer is a bytes.Buffer safe for the flush timer's goroutine.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

func TestBufferedLogWritesInBatchesAndProblemsAtOnce(t *testing.T) {
	out := &lockedBuffer{}
	b := newBufferedLog(out)
	log := slog.New(flushingHandler{slog.NewTextHandler(b, nil), b}).With("component", "test")
	for i := range 100 {
		log.Info("http request", "n", i)
	}
	if s, _ := out.String(); s != "" {
		t.Fatalf("info lines were written at once:\n%s", s)
	}
	// a warning goes out at once, after what came before it
	log.Warn("disk almost full")
	s, writes := out.String()
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) != 101 || !strings.Contains(lines[0], "n=0") || !strings.Contains(lines[100], "disk almost full") ||
		!strings.Contains(lines[100], "component=test") {
		t.Fatalf("after a warning: %d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	if writes != 1 {
		t.Errorf("101 lines took %d writes, want 1", writes)
	}
	// an info line alone goes out within the flush interval
	log.Info("later")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s, _ := out.String(); strings.Contains(s, "msg=later") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an info line was never written")
		}
		time.Sleep(logFlushEvery / 4)
	}
	// a full buffer is written without waiting, and a line longer than
	// the buffer goes out whole
	b.Write(bytes.Repeat([]byte("x"), logBufferSize-10))
	b.Write([]byte("overflow\n"))
	b.Write(bytes.Repeat([]byte("y"), 2*logBufferSize))
	if s, _ := out.String(); !strings.Contains(s, "xxxxx") || !strings.Contains(s, "yyyyy") {
		t.Error("a full buffer waited for the timer")
	}
	b.Flush()
	if s, _ := out.String(); !strings.HasSuffix(s, "xoverflow\n"+strings.Repeat("y", 2*logBufferSize)) {
		t.Error("the writes around a full buffer came out of order or were lost")
	}
	if err := (flushingHandler{slog.NewTextHandler(b, nil), b}).Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelError, "boom", 0)); err != nil {
		t.Fatal(err)
	}
	if s, _ := out.String(); !strings.HasSuffix(s, "msg=boom\n") {
		t.Errorf("an error was not written at once: ...%q", s[max(0, len(s)-40):])
	}
}

// The access log middleware's own lines (opsmetrics.NewTextHandler) wait
// in the buffer like any other Info line, and an Error line goes out at
// once, after what came before it.
func TestBufferedLogTakesAccessLinesInOrder(t *testing.T) {
	out := &lockedBuffer{}
	b := newBufferedLog(out)
	log := slog.New(opsmetrics.WithRequestID(flushingHandler{opsmetrics.NewTextHandler(b), b}))
	if log.Handler().(opsmetrics.TextLineHandler).TextLines() == nil {
		t.Fatal("the middleware would format its lines through slog") // as serve's handlers are stacked
	}
	h := opsmetrics.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}), log)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/a", nil))
	log.Info("between")
	if s, _ := out.String(); s != "" {
		t.Fatalf("info lines were written at once:\n%s", s)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/fail", nil))
	s, writes := out.String()
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "path=/api/v1/a route=/api/v1/* status=200") || !strings.Contains(lines[1], "msg=between") ||
		!strings.Contains(lines[2], "level=ERROR") || !strings.Contains(lines[2], "path=/fail route=/fail status=500") || writes != 1 {
		t.Fatalf("after an error line, %d writes:\n%s", writes, s)
	}
	b.Flush()
}
