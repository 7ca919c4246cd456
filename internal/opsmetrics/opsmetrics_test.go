package opsmetrics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestExpositionFormat(t *testing.T) {
	r := &Registry{}
	c := r.NewCounterVec("t_total", "A counter.\nSecond line.", "reason")
	c.Inc(`say "hi"\now`)
	c.Add(2, "b")
	h := r.NewHistogramVec("t_seconds", "A histogram.", []float64{0.1, 1}, "route")
	h.Observe(0.1, "/x") // le is inclusive: in the 0.1 bucket
	h.Observe(0.5, "/x")
	h.Observe(7, "/x")
	r.NewGaugeFunc("t_gauge", "A gauge.", func() float64 { return 3.5 })
	r.NewGaugeFunc("t_unset", "Not wired.", nil)
	var b bytes.Buffer
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP t_gauge A gauge.
# TYPE t_gauge gauge
t_gauge 3.5
# HELP t_seconds A histogram.
# TYPE t_seconds histogram
t_seconds_bucket{route="/x",le="0.1"} 1
t_seconds_bucket{route="/x",le="1"} 2
t_seconds_bucket{route="/x",le="+Inf"} 3
t_seconds_sum{route="/x"} 7.6
t_seconds_count{route="/x"} 3
# HELP t_total A counter.\nSecond line.
# TYPE t_total counter
t_total{reason="b"} 2
t_total{reason="say \"hi\"\\now"} 1
# HELP t_unset Not wired.
# TYPE t_unset gauge
t_unset 0
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestRejectReasons(t *testing.T) {
	cases := map[string]string{
		`partner "x" does not exist: create it first with PUT /api/v1/partners/x`:      "unknown_partner",
		"occurred_at 2027-01-01T00:00:00Z is in the future (the server's time is ...)": "future",
		`occurred_at "yesterday" is not an RFC 3339 time`:                              "occurred_at",
		"id is required: give every event a unique id":                                 "id",
		`type "Deal Won" is not valid`:                                                 "type",
		"partner is required: the id of the partner the event is for":                  "partner",
		`member "m" belonged to p1 at 2026-01-01, not to partner "p2"`:                 "member_partner",
		"the event is not valid JSON: unexpected end":                                  "parse",
		"line 3: the event is not valid JSON":                                          "parse",
		"attrs cannot be stored: too deep":                                             "attrs",
		"something new":                                                                "other",
	}
	for msg, want := range cases {
		if got := RejectReason(msg); got != want {
			t.Errorf("%q: %s, want %s", msg, got, want)
		}
	}
}

func TestJobRunsCountByOutcome(t *testing.T) {
	// Default is the process's registry: a job of its own for each run,
	// so that -count=N counts from zero each time.
	testJobRuns++
	job := fmt.Sprintf("test-job-%d", testJobRuns)
	JobRun(job, nil)
	JobRun(job, errors.New("boom"))
	JobRun(job, nil)
	var b bytes.Buffer
	Default.Write(&b)
	for _, line := range []string{`rung_job_runs_total{job="` + job + `",outcome="ok"} 2`, `rung_job_runs_total{job="` + job + `",outcome="failed"} 1`} {
		if !strings.Contains(b.String(), line+"\n") {
			t.Errorf("missing %s", line)
		}
	}
}

var testJobRuns int // TestJobRunsCountByOutcome's runs in this process

func TestRoutesOfPagesAreBounded(t *testing.T) {
	cases := []struct {
		path    string
		pattern string
		code    int
		want    string
	}{
		{"/api/v1/events/crm:1", "GET /api/v1/events/{id...}", 200, "/api/v1/events/{id...}"},
		{"/admin/partners/acct-0001", "/", 200, "/admin/partners/*"},
		{"/admin/partners", "/", 200, "/admin/partners"},
		{"/login", "/", 200, "/login"},
		{"/wp-admin/setup.php", "/", 404, "unmatched"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", c.path, nil)
		r.Pattern = c.pattern
		if got := routeOf(r, c.code); got != c.want {
			t.Errorf("%s: %s, want %s", c.path, got, c.want)
		}
	}
}

// FuzzRequestID: whatever a caller sends as X-Request-Id, the id returned
// is one the server accepts (visible ASCII, at most 128), and a sane one is
// kept as it is.
func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"", "abc-123", "bad\nline", strings.Repeat("x", 200), "ünïcode", "a b"} {
		f.Add(s)
	}
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(RequestID(r.Context())))
	}), slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, id string) {
		r := httptest.NewRequest("GET", "/x", nil)
		r.Header["X-Request-Id"] = []string{id}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		got := w.Header().Get("X-Request-Id")
		if !validID(got) {
			t.Fatalf("returned id %q is not valid", got)
		}
		if w.Body.String() != got {
			t.Fatalf("the handler saw id %q, the response says %q", w.Body.String(), got)
		}
		if validID(id) && got != id {
			t.Fatalf("sane id %q replaced by %q", id, got)
		}
	})
}

// Observations with the same label values land in one series, with
// different ones in another, whatever the values hold; status classes are
// the code's first digit and "xx".
func TestHistogramSeriesByLabelValuesAndCodeClasses(t *testing.T) {
	r := &Registry{}
	h := r.NewHistogramVec("t_seconds", "test", []float64{1}, "route", "method")
	h.Observe(0.5, "/a", "GET")
	h.Observe(2, "/a", "GET")
	h.Observe(0.5, "/a\xffGET", "")
	h.Observe(0.5, "/b", "GET")
	if got := len(h.series); got != 3 {
		t.Fatalf("%d series, want 3", got)
	}
	for _, vs := range [][]string{{"/a", "GET"}, {"/a\xffGET", ""}, {"/b", "GET"}} {
		if string(appendKey(nil, vs)) != key(vs) {
			t.Fatalf("appendKey(%q) differs from key", vs)
		}
	}
	if s := h.series[key([]string{"/a", "GET"})]; s == nil || s.count != 2 || s.counts[0] != 1 || s.counts[1] != 1 {
		t.Fatalf("series /a GET: %+v", s)
	}
	for code, want := range map[int]string{101: "1xx", 200: "2xx", 204: "2xx", 302: "3xx", 404: "4xx", 500: "5xx", 503: "5xx", 600: "6xx", 99: "0xx"} {
		if got := codeClass(code); got != want {
			t.Errorf("codeClass(%d) = %q, want %q", code, got, want)
		}
	}
}

// BenchmarkMiddleware measures what the middleware adds to a request
// (id, header, context, latency histogram, the log line through a text
// handler) around a handler that writes a small answer: the part of every
// API request's CPU that is not the handler's own.
func BenchmarkMiddleware(b *testing.B) {
	for _, c := range []struct {
		name, path string
		log        slog.Handler
	}{
		{"logged", "/api/v1/leaderboards/q", NewTextHandler(io.Discard)}, // the line made by hand
		{"logged-slog", "/api/v1/leaderboards/q", slog.NewTextHandler(io.Discard, nil)},
		{"healthz", "/healthz", NewTextHandler(io.Discard)}, // logged at Debug: not written
	} {
		b.Run(c.name, func(b *testing.B) {
			body := []byte(`{"status":"ok"}` + "\n")
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = []string{"application/json"}
				w.WriteHeader(http.StatusOK)
				w.Write(body)
			})
			h := Middleware(next, slog.New(WithRequestID(c.log)))
			r := httptest.NewRequest("GET", c.path, nil)
			r.Pattern = "GET /api/v1/leaderboards/{id}"
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

func TestAccessLogLineHasEveryFieldInOrder(t *testing.T) {
	var out bytes.Buffer
	// Time and duration vary: the test fixes them.
	fixed := func(_ []string, a slog.Attr) slog.Attr {
		switch a.Key {
		case slog.TimeKey:
			return slog.Attr{}
		case "took":
			return slog.Duration("took", 1500*time.Microsecond)
		}
		return a
	}
	log := slog.New(WithRequestID(slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: fixed})))
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.Write([]byte("hello"))
		}
	}), log)
	for _, c := range []struct{ path, want string }{
		{"/api/v1/x y", `level=INFO msg="http request" request_id=r-1 method=GET path="/api/v1/x y" route=/api/v1/* status=200 bytes=5 took=1.5ms` + "\n"},
		{"/fail", `level=ERROR msg="http request" request_id=r-1 method=GET path=/fail route=/fail status=500 bytes=0 took=1.5ms` + "\n"},
		{"/healthz", ""}, // at Debug: not written
	} {
		out.Reset()
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = c.path
		r.Header.Set("X-Request-Id", "r-1")
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got := out.String(); got != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.path, got, c.want)
		}
	}
}
