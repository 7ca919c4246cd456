package opsmetrics

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"
)

// slogLine is the line slog's text handler writes for l.
func slogLine(t testing.TB, l *accessLine) string {
	var out bytes.Buffer
	rec := slog.NewRecord(l.at, l.level, "http request", 0)
	rec.AddAttrs(slog.String("request_id", l.id), slog.String("method", l.method),
		slog.String("path", l.path), slog.String("route", l.route), slog.Int("status", l.status), slog.Int64("bytes", l.bytes),
		slog.Duration("took", l.took))
	if err := slog.NewTextHandler(&out, nil).Handle(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// checkLine fails unless the hand-made line for l is slog's, or l is one
// appendAccessLine leaves to slog.
func checkLine(t testing.TB, l *accessLine) (handMade bool) {
	t.Helper()
	prefix := []byte("earlier line\n")
	got, ok := appendAccessLine(prefix, l)
	if !ok {
		if string(got) != string(prefix) {
			t.Fatalf("%+v: refused but wrote %q", l, got[len(prefix):])
		}
		return false
	}
	if want := slogLine(t, l); string(got[len(prefix):]) != want {
		t.Fatalf("%+v:\ngot  %q\nwant %q", l, got[len(prefix):], want)
	}
	return true
}

func TestAccessLineIsWhatSlogWrites(t *testing.T) {
	at := time.Date(2026, 11, 23, 20, 35, 47, 123456789, time.UTC)
	berlin := time.FixedZone("CET", 3600)
	india := time.FixedZone("IST", 5*3600+1800)
	westOfUTC := time.FixedZone("NST", -(3*3600 + 1800))
	base := accessLine{at: at, level: slog.LevelInfo, id: "0123456789abcdef01234567", method: "GET",
		path: "/api/v1/leaderboards/quarter-points", route: "/api/v1/leaderboards/{id}", status: 200, bytes: 12345, took: 45 * time.Microsecond}
	cases := []struct {
		name     string
		change   func(l *accessLine)
		handMade bool
	}{
		{"plain", func(l *accessLine) {}, true},
		{"error", func(l *accessLine) { l.level, l.status = slog.LevelError, 500 }, true},
		{"warn", func(l *accessLine) { l.level = slog.LevelWarn }, true},
		{"debug", func(l *accessLine) { l.level = slog.LevelDebug }, true},
		{"other level", func(l *accessLine) { l.level = slog.LevelInfo + 2 }, false},
		{"whole second", func(l *accessLine) { l.at = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }, true},
		{"zone east", func(l *accessLine) { l.at = at.In(berlin) }, true},
		{"zone half hour", func(l *accessLine) { l.at = at.In(india) }, true},
		{"zone west", func(l *accessLine) { l.at = at.In(westOfUTC) }, true},
		{"zone with seconds", func(l *accessLine) { l.at = at.In(time.FixedZone("LMT", 561)) }, false},
		{"monotonic", func(l *accessLine) { l.at = time.Now() }, true},
		{"year 10000", func(l *accessLine) { l.at = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, false},
		{"year 1", func(l *accessLine) { l.at = time.Date(1, 1, 1, 0, 0, 0, 999999999, time.UTC) }, true},
		{"space in path", func(l *accessLine) { l.path = "/api/v1/x y" }, true},
		{"quote in id", func(l *accessLine) { l.id = `a"b` }, true},
		{"equals in id", func(l *accessLine) { l.id = "a=b" }, true},
		{"backslash", func(l *accessLine) { l.path = `/a\b` }, true},
		{"control", func(l *accessLine) { l.path = "/a\x01\n\t" }, true},
		{"delete", func(l *accessLine) { l.path = "/a\x7f" }, true},
		{"empty", func(l *accessLine) { l.method, l.route = "", "" }, true},
		{"unicode", func(l *accessLine) { l.path = "/partners/müller" }, false},
		{"bad utf-8", func(l *accessLine) { l.path = "/\xff" }, false},
		{"zero took", func(l *accessLine) { l.took = 0 }, true},
		{"nanoseconds", func(l *accessLine) { l.took = 999 }, true},
		{"micro fraction", func(l *accessLine) { l.took = 1500 }, true},
		{"micro fraction long", func(l *accessLine) { l.took = 1234 }, true},
		{"one ms", func(l *accessLine) { l.took = time.Millisecond }, true},
		{"ms fraction", func(l *accessLine) { l.took = 1500 * time.Microsecond }, true},
		{"ms fraction long", func(l *accessLine) { l.took = 999999999 }, true},
		{"ms trailing zeros", func(l *accessLine) { l.took = 12340 * time.Microsecond }, true},
		{"second", func(l *accessLine) { l.took = time.Second }, false},
		{"negative", func(l *accessLine) { l.took = -time.Microsecond }, false},
		{"large counts", func(l *accessLine) { l.status, l.bytes = 999, 1<<62 }, true},
		{"negative counts", func(l *accessLine) { l.status, l.bytes = -1, -5 }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := base
			c.change(&l)
			if got := checkLine(t, &l); got != c.handMade {
				t.Errorf("made by hand: %v, want %v", got, c.handMade)
			}
		})
	}
}

func FuzzAccessLine(f *testing.F) {
	f.Add(int64(1795467347123456789), 0, "0123456789abcdef01234567", "GET", "/api/v1/leaderboards/q", "/api/v1/leaderboards/{id}", 200, int64(312), int64(45000), 0)
	f.Add(int64(0), 8, "r-1", "POST", "/a b", "unmatched", 500, int64(0), int64(1500000), 3600)
	f.Add(int64(-62135596800000000), -4, "", "", "", "", 0, int64(-1), int64(999999999), -12600)
	f.Fuzz(func(t *testing.T, unixNano int64, level int, id, method, path, route string, status int, n, took int64, offset int) {
		loc := time.UTC
		if offset != 0 {
			loc = time.FixedZone("Z", offset%(24*3600))
		}
		l := accessLine{at: time.Unix(0, unixNano).In(loc), level: slog.Level(level), id: id, method: method, path: path,
			route: route, status: status, bytes: n, took: time.Duration(took)}
		checkLine(t, &l)
	})
}

// TestMiddlewareWritesItsLineToATextHandler: with NewTextHandler (and
// WithRequestID over it) the middleware writes the line itself, in the
// same order and format as through slog.
func TestMiddlewareWritesItsLineToATextHandler(t *testing.T) {
	var out bytes.Buffer
	th := NewTextHandler(&out)
	if th.(TextLineHandler).TextLines() == nil {
		t.Fatal("NewTextHandler takes no lines")
	}
	if _, ok := th.WithAttrs([]slog.Attr{slog.String("a", "b")}).(TextLineHandler); ok {
		t.Fatal("a handler with attributes takes lines without them")
	}
	log := slog.New(WithRequestID(th))
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slog.New(log.Handler()).InfoContext(r.Context(), "inside")
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.Write([]byte("hello"))
		}
	}), log)
	stamp := regexp.MustCompile(`time=\S+ `)
	took := regexp.MustCompile(` took=\S+\n`)
	for _, c := range []struct{ path, want string }{
		{"/api/v1/x y", `level=INFO msg=inside request_id=r-1` + "\n" + `level=INFO msg="http request" request_id=r-1 method=GET path="/api/v1/x y" route=/api/v1/* status=200 bytes=5` + "\n"},
		{"/fail", `level=INFO msg=inside request_id=r-1` + "\n" + `level=ERROR msg="http request" request_id=r-1 method=GET path=/fail route=/fail status=500 bytes=0` + "\n"},
		{"/müller", `level=INFO msg=inside request_id=r-1` + "\n" + `level=INFO msg="http request" request_id=r-1 method=GET path=/müller route=/müller status=200 bytes=5` + "\n"},
		{"/healthz", `level=INFO msg=inside request_id=r-1` + "\n"},
	} {
		out.Reset()
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = c.path
		r.Header.Set("X-Request-Id", "r-1")
		h.ServeHTTP(httptest.NewRecorder(), r)
		got := took.ReplaceAllString(stamp.ReplaceAllString(out.String(), ""), "\n")
		if got != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.path, got, c.want)
		}
	}
}

func BenchmarkAccessLine(b *testing.B) {
	l := accessLine{at: time.Now(), level: slog.LevelInfo, id: "0123456789abcdef01234567", method: "GET",
		path: "/api/v1/leaderboards/quarter-points", route: "/api/v1/leaderboards/{id}", status: 200, bytes: 12345, took: 45 * time.Microsecond}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = appendAccessLine(buf[:0], &l)
	}
}

// A request without an id of its own gets 24 hex digits, a new one each
// time.
func TestNewRequestIDsAreHexAndDistinct(t *testing.T) {
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), slog.New(slog.DiscardHandler))
	hexID := regexp.MustCompile(`^[0-9a-f]{24}$`)
	seen := map[string]bool{}
	for range 10000 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
		id := w.Header().Get("X-Request-Id")
		if !hexID.MatchString(id) || seen[id] {
			t.Fatalf("id %q: not 24 hex digits, or seen before", id)
		}
		seen[id] = true
	}
}
