package opsmetrics

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
	"unsafe"
)

// pipelineBounds are the buckets of the ingest pipeline's timings, from
// 100 µs (an fsync here takes about 300) to 2.5 s.
var pipelineBounds = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// Default holds Rung's metrics; /metrics serves it.
var Default = &Registry{}

// Rung's metrics.
var (
	eventsIngested = Default.NewCounterVec("rung_events_ingested_total",
		"Events received for ingestion, by result (accepted, duplicate, corrected, rejected).", "status")
	eventsRejected = Default.NewCounterVec("rung_events_rejected_total",
		"Events rejected, by reason.", "reason")
	httpDuration = Default.NewHistogramVec("rung_http_request_duration_seconds",
		"HTTP request latency, by route, method and status class.",
		[]float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		"route", "method", "code")
	jobRuns = Default.NewCounterVec("rung_job_runs_total",
		"Scheduled job runs, by job and outcome (ok, failed).", "job", "outcome")
	commitDuration = Default.NewHistogramVec("rung_store_commit_seconds",
		"Time to store one group of accepted changes durably (SQLite: its WAL frames and fsync; PostgreSQL: the transaction).",
		pipelineBounds)
	groupEvents = Default.NewHistogramVec("rung_ingest_group_events",
		"Event records stored by one commit: how many events share a commit (and its fsync).",
		[]float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384})
	applyDuration = Default.NewHistogramVec("rung_ingest_apply_seconds",
		"Time from a group's commit to its requests answered: the wait for the engine and the applying of the group.",
		pipelineBounds)
	// OutboxBacklog is the notifications waiting in the outbox; 0 until
	// the outbox sets its function (OutboxBacklog.Set).
	OutboxBacklog = Default.NewGaugeFunc("rung_outbox_backlog",
		"Notifications waiting in the outbox to be sent.", nil)
)

// Handler serves the registry at /metrics.
func Handler(r *Registry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if err := r.Write(w); err != nil {
			slog.Warn("metrics: writing", "err", err)
		}
	})
}

// Committed records one commit of a group of changes: how long the store
// took and how many event records it stored.
func Committed(took time.Duration, records int) {
	commitDuration.Observe(took.Seconds())
	if records > 0 {
		groupEvents.Observe(float64(records))
	}
}

// Applied records how long after its commit a group was applied and its
// requests answered.
func Applied(took time.Duration) { applyDuration.Observe(took.Seconds()) }

// Ingested counts one event's ingestion result: its status and, when
// rejected, the reason read from its error message.
func Ingested(status, errMsg string) {
	eventsIngested.Inc(status)
	if status == "rejected" {
		eventsRejected.Inc(RejectReason(errMsg))
	}
}

// RejectReason sorts a rejection message into a reason with few values,
// fit for a label: parse, id, type, partner, unknown_partner,
// occurred_at, future, member_partner, attrs, other.
func RejectReason(msg string) string {
	switch {
	case strings.HasPrefix(msg, "line ") || strings.HasPrefix(msg, "the event "):
		return "parse"
	case strings.Contains(msg, "NUL characters"):
		return "parse"
	case strings.HasPrefix(msg, "id "):
		return "id"
	case strings.HasPrefix(msg, "type "):
		return "type"
	case strings.HasPrefix(msg, "partner is required"):
		return "partner"
	case strings.HasPrefix(msg, "partner ") && strings.Contains(msg, "does not exist"):
		return "unknown_partner"
	case strings.HasPrefix(msg, "occurred_at ") && strings.Contains(msg, "in the future"):
		return "future"
	case strings.HasPrefix(msg, "occurred_at "):
		return "occurred_at"
	case strings.HasPrefix(msg, "member ") && strings.Contains(msg, "belonged to"):
		return "member_partner"
	case strings.HasPrefix(msg, "attrs "):
		return "attrs"
	}
	return "other"
}

// JobRun counts a scheduled job's run.
func JobRun(job string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	jobRuns.Inc(job, outcome)
}

type ctxKey struct{}

// RequestID returns the id of the request ctx belongs to ("" outside one).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Logger returns log with the request id of ctx, when there is one.
func Logger(ctx context.Context, log *slog.Logger) *slog.Logger {
	if id := RequestID(ctx); id != "" {
		return log.With("request_id", id)
	}
	return log
}

// validID accepts a caller's X-Request-Id: 1 to 128 visible ASCII
// characters, so a log line cannot be forged with a newline.
func validID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// request is what the middleware keeps for one request, in one
// allocation: the context that carries the request's id (the request's own
// context with a Value for the id), the recorder of its status and size, and
// the id's text and header value.
type request struct {
	context.Context
	rec   recorder
	id    string
	hdr   [1]string // X-Request-Id's value in the response header
	idHex [24]byte
}

// Value answers the request id for RequestID and asks the request's own
// context for anything else.
func (q *request) Value(key any) any {
	if key == (ctxKey{}) {
		return q.id
	}
	return q.Context.Value(key)
}

// newID makes a request id: 12 random bytes in hex. They come from the
// runtime's ChaCha8 generator (seeded by the system): an id needs to be
// unique, not secret, and crypto/rand cost a tenth of the middleware.
func (q *request) newID() string {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
	hex.Encode(q.idHex[:], b[:])
	return unsafe.String(&q.idHex[0], len(q.idHex)) // q is never written again
}

// Middleware gives each request an id (the caller's X-Request-Id when it
// is sane, else a new one), returns it in X-Request-Id, logs the request
// with it when it ends, and observes its latency by route. The route is
// the pattern the API's router matched, or for pages the first two path
// segments (/admin/partners/*); requests that match nothing count as
// "unmatched", so scanners cannot grow the label set.
func Middleware(next http.Handler, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	h := log.Handler()
	var writeLine func(slog.Level, []byte) // see accesslog.go
	if th, ok := h.(TextLineHandler); ok {
		writeLine = th.TextLines()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		q := &request{Context: r.Context(), rec: recorder{ResponseWriter: w, code: http.StatusOK}}
		q.id = r.Header.Get("X-Request-Id")
		if !validID(q.id) {
			q.id = q.newID()
		}
		q.hdr[0] = q.id
		w.Header()["X-Request-Id"] = q.hdr[:] // canonical already; nothing changes a header's values in place
		r = r.WithContext(q)
		next.ServeHTTP(&q.rec, r)
		end := time.Now()
		took := end.Sub(start)
		code := q.rec.code
		route := routeOf(r, code)
		httpDuration.Observe(took.Seconds(), route, r.Method, codeClass(code))
		level := slog.LevelInfo
		if code >= 500 {
			level = slog.LevelError
		}
		if r.URL.Path == "/metrics" || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || strings.HasPrefix(r.URL.Path, "/static/") {
			level = slog.LevelDebug
		}
		if !h.Enabled(q, level) {
			return
		}
		took = took.Round(time.Microsecond)
		if writeLine != nil {
			line := accessLine{at: end, level: level, id: q.id, method: r.Method, path: r.URL.Path, route: route,
				status: code, bytes: q.rec.n, took: took}
			bp := lineBufs.Get().(*[]byte)
			b, ok := appendAccessLine((*bp)[:0], &line)
			if ok {
				writeLine(level, b)
			}
			if cap(b) <= 4<<10 { // a long path's line is not kept
				*bp = b[:0]
				lineBufs.Put(bp)
			}
			if ok {
				return
			}
		}
		// The record goes to the handler directly, as LogAttrs would send
		// it but without the caller's program counter (no handler here
		// prints the source; finding it was a sixth of the line's cost).
		rec := slog.NewRecord(end, level, "http request", 0)
		rec.AddAttrs(slog.String("request_id", q.id), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("route", route), slog.Int("status", code), slog.Int64("bytes", q.rec.n),
			slog.Duration("took", took))
		h.Handle(q, rec)
	})
}

// routeOf names the route of a served request for the latency label.
func routeOf(r *http.Request, code int) string {
	if p := r.Pattern; p != "" && p != "/" && !strings.HasSuffix(p, " /") {
		if _, path, ok := strings.Cut(p, " "); ok {
			return path
		}
		return p
	}
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		return "unmatched"
	}
	segs := strings.SplitN(strings.Trim(r.URL.Path, "/"), "/", 3)
	switch len(segs) {
	case 1:
		return "/" + segs[0]
	case 2:
		return "/" + segs[0] + "/" + segs[1]
	}
	return "/" + segs[0] + "/" + segs[1] + "/*"
}

func codeClass(code int) string {
	if c := code / 100; c >= 1 && c <= 5 {
		return codeClasses[c] // every request: no new string
	}
	return string(rune('0'+code/100)) + "xx"
}

var codeClasses = [...]string{"", "1xx", "2xx", "3xx", "4xx", "5xx"}

// recorder keeps the status and size of a response.
type recorder struct {
	http.ResponseWriter
	code        int
	n           int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.code, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the writer's Flush and
// deadlines.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush passes flushes on (streamed feeds).
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// WithRequestID wraps a log handler so that every record logged with a
// request's context (InfoContext, Log(ctx, ...)) carries its request_id.
func WithRequestID(h slog.Handler) slog.Handler { return idHandler{h} }

type idHandler struct{ slog.Handler }

func (h idHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		has := false
		r.Attrs(func(a slog.Attr) bool {
			has = a.Key == "request_id"
			return !has
		})
		if !has {
			r = r.Clone()
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h idHandler) WithAttrs(as []slog.Attr) slog.Handler { return idHandler{h.Handler.WithAttrs(as)} }
func (h idHandler) WithGroup(name string) slog.Handler    { return idHandler{h.Handler.WithGroup(name)} }
