package lane

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pair is a plain net/http server and a lane in front of another, with
// the same handler: what a client gets from both must be the same.
type pair struct {
	plain, lane string // addresses
	served      *atomic.Int64
	ls          *Server
	srv         *http.Server
}

func startPair(t testing.TB, h http.Handler, serves func(method, path string) bool, opts ...func(*http.Server)) *pair {
	t.Helper()
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	quiet := log.New(io.Discard, "", 0)
	plainLn, laneLn := listen(), listen()
	plain := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second, ErrorLog: quiet}
	go plain.Serve(plainLn)
	p := &pair{plain: plainLn.Addr().String(), lane: laneLn.Addr().String(), served: new(atomic.Int64)}
	p.srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second, ErrorLog: quiet}
	for _, o := range opts {
		o(p.srv)
	}
	ls, rest := New(laneLn, p.srv, func(method, path string) bool {
		ok := serves(method, path)
		if ok {
			p.served.Add(1)
		}
		return ok
	})
	p.ls = ls
	go p.srv.Serve(rest)
	go ls.Serve()
	t.Cleanup(func() {
		plain.Close()
		ls.Close()
		p.srv.Close()
	})
	return p
}

// exchange sends raw on a new connection, closes the sending side and
// returns everything the server sends until it closes the connection.
func exchange(t testing.TB, addr string, raw []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(raw); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	out, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("reading the answer: %v", err)
	}
	return out
}

func isReset(err error) bool { return strings.Contains(err.Error(), "connection reset") }

var dateLine = regexp.MustCompile(`(?m)^Date: [^\r]*\r\n`)

// same fails t unless a and b are the same answers, Date aside.
func same(t testing.TB, input []byte, plain, lane []byte) {
	t.Helper()
	a, b := dateLine.ReplaceAll(plain, nil), dateLine.ReplaceAll(lane, nil)
	if !bytes.Equal(a, b) {
		t.Fatalf("for %q\nnet/http answered %q\nthe lane answered %q", input, a, b)
	}
}

// echo answers with what it saw of the request.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if len(body) > 64 {
		// A long body is told by its length and hash, which keeps the
		// answer under net/http's buffer: longer, net/http would stream
		// it in chunks where a lane sends it whole.
		body = fmt.Appendf(nil, "%d bytes, sha256 %x", len(body), sha256.Sum256(body))
	}
	var hs []string
	for k, v := range r.Header {
		hs = append(hs, fmt.Sprintf("%s=%q", k, v))
	}
	slices.Sort(hs)
	ctx := r.Context()
	fmt.Fprintf(w, "%s|%s|%q|%q|%q|%q|%s|%s|%d.%d|%v|%d|%q|remote:%v|server:%v|local:%v|tls:%v|%s\n",
		r.Method, r.RequestURI, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.URL.Host, r.Host,
		r.Proto, r.ProtoMajor, r.ProtoMinor, r.Close, r.ContentLength, body, r.RemoteAddr != "",
		ctx.Value(http.ServerContextKey) != nil, ctx.Value(http.LocalAddrContextKey) != nil,
		r.TLS != nil, strings.Join(hs, ","))
})

func everything(string, string) bool { return true }

func TestLaneAnswersAsNetHTTPDoes(t *testing.T) {
	p := startPair(t, echo, everything)
	for _, tc := range []struct {
		name   string
		raw    string
		served int64 // requests the lane serves itself
	}{
		{"get", "GET /api/v1/leaderboards/q?limit=100 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nUser-Agent: t\r\n\r\n", 1},
		{"head", "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1},
		{"escaped path", "GET /a%20b/%2Fc?x=%41 HTTP/1.1\r\nHost: x\r\n\r\n", 1},
		{"repeated and lower-case headers", "GET / HTTP/1.1\r\nhost: x\r\naccept: a\r\nACCEPT: b\r\nx-custom-thing:  v  \r\n\r\n", 1},
		{"connection close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n", 1},
		{"pipelined", "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n", 2},
		// A connection's requests are made anew in one place: nothing of
		// one may show in the next.
		{"pipelined, each its own", "GET /1/a-b?x=1&y HTTP/1.1\r\nHost: x\r\nX-One: 1\r\nAccept: a\r\nAccept: b\r\n\r\n" +
			"HEAD /2%41?z HTTP/1.1\r\nHost: y\r\nX-Two: 2\r\n\r\nGET /3? HTTP/1.1\r\nHost: z\r\nConnection: close\r\n\r\n", 3},
		{"post", "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Type: application/json\r\n\r\nabc", 1},
		{"get, post, get", "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\nHost: x\r\n\r\n", 3},
		{"post, empty body", "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n", 2},
		{"post, body with a head in it", "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 28\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n", 1},
		{"post, body cut short", "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 0},
		{"post, longest body", "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n" + strings.Repeat("b", 65536), 1},
		{"post, body too long for the lane", "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n" + strings.Repeat("b", 65537) + "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n", 0},
		{"post without a length", "POST /e HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n", 0},
		{"post, two lengths", "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi", 0},
		{"post, signed length", "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\nhi", 0},
		{"post, chunked", "POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", 0},
		{"post, expect", "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi", 0},
		{"get with a length", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", 0},
		{"put", "PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", 0},
		{"chunked body", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", 0},
		{"http/1.0", "GET / HTTP/1.0\r\n\r\n", 0},
		{"no host", "GET / HTTP/1.1\r\n\r\n", 0},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0},
		{"bad host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 0},
		{"bare lf", "GET / HTTP/1.1\nHost: x\n\n", 0},
		{"folded header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n", 0},
		{"space in name", "GET / HTTP/1.1\r\nHost: x\r\nX A: 1\r\n\r\n", 0},
		{"control in value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: \x01\r\n\r\n", 0},
		{"cut short", "GET / HTTP/1.1\r\nHost: x\r\n", 0},
		{"empty", "", 0},
		{"garbage", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 0},
		{"absolute form", "GET http://x/y HTTP/1.1\r\nHost: x\r\n\r\n", 0},
		{"asterisk", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 0},
		{"upgrade", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", 0},
		{"expect", "GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n", 0},
		{"head too long", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 9000) + "\r\n\r\n", 0},
		{"leading empty line", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := p.served.Load()
			same(t, []byte(tc.raw), exchange(t, p.plain, []byte(tc.raw)), exchange(t, p.lane, []byte(tc.raw)))
			if got := p.served.Load() - before; got != tc.served {
				t.Errorf("the lane served %d requests itself, want %d", got, tc.served)
			}
		})
	}
}

func TestLaneWritesAnswersAsNetHTTPDoes(t *testing.T) {
	handlers := map[string]http.HandlerFunc{
		"/plain":   func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") },
		"/html":    func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html><body>hi</body></html>") },
		"/nothing": func(w http.ResponseWriter, r *http.Request) {},
		"/json": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Request-Id", "abc")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"a":1}`)
		},
		"/length": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		},
		"/too-long": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "3")
			if _, err := io.WriteString(w, "hello"); err != http.ErrContentLength {
				panic("want ErrContentLength")
			}
		},
		"/204": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusNoContent)
			if _, err := io.WriteString(w, "x"); err != http.ErrBodyNotAllowed {
				panic("want ErrBodyNotAllowed")
			}
		},
		"/304": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Etag", `"1"`)
			w.WriteHeader(http.StatusNotModified)
		},
		"/close": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		},
		"/encoded": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write([]byte{0x1f, 0x8b})
		},
		"/newline": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Odd", "a\r\nb")
			w.Header()["bad name"] = []string{"v"}
			io.WriteString(w, "ok")
		},
		"/odd-status": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599) },
		"/error": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no such board", http.StatusNotFound)
		},
		"/twice": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "a")
		},
	}
	mux := http.NewServeMux()
	for path, h := range handlers {
		mux.HandleFunc(path, h)
	}
	p := startPair(t, mux, everything)
	for path := range handlers {
		for _, method := range []string{"GET", "HEAD"} {
			t.Run(method+path, func(t *testing.T) {
				raw := []byte(method + " " + path + " HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
				same(t, raw, exchange(t, p.plain, raw), exchange(t, p.lane, raw))
			})
		}
	}
}

func TestLaneSendsALongAnswerAsItComesAndCloses(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), (MaxBuffered+MaxBuffered/2)/16)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for b := big; len(b) > 0; b = b[min(len(b), 4096):] {
			w.Write(b[:min(len(b), 4096)])
		}
	})
	p := startPair(t, h, everything)
	raw := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	out := exchange(t, p.lane, raw)
	head, body, ok := bytes.Cut(out, []byte("\r\n\r\n"))
	if !ok || !bytes.Contains(head, []byte("Connection: close")) || bytes.Contains(head, []byte("Content-Length")) {
		t.Fatalf("head %q: want Connection: close and no Content-Length", head)
	}
	if !bytes.Equal(body, big) {
		t.Fatalf("body: %d bytes, want %d", len(body), len(big))
	}
}

func TestLaneSurvivesAPanickingHandler(t *testing.T) {
	var logged lockedBuffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		io.WriteString(w, "fine")
	})
	p := startPair(t, h, everything, func(s *http.Server) { s.ErrorLog = log.New(&logged, "", 0) })
	if out := exchange(t, p.lane, []byte("GET /panic HTTP/1.1\r\nHost: x\r\n\r\n")); len(out) != 0 {
		t.Fatalf("a panicking handler's connection answered %q; want it closed", out)
	}
	if !strings.Contains(logged.String(), "panic serving") || !strings.Contains(logged.String(), "boom") {
		t.Errorf("log %q does not report the panic", logged.String())
	}
	if out := exchange(t, p.lane, []byte("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")); !bytes.HasSuffix(out, []byte("fine")) {
		t.Fatalf("after the panic: %q", out)
	}
}

// lockedBuffer is a log's output read by the test while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestShutdownClosesIdleConnectionsAndFinishesBusyOnes(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			started <- struct{}{}
			<-release
		}
		io.WriteString(w, "done")
	})
	p := startPair(t, h, everything)
	dial := func() net.Conn {
		c, err := net.Dial("tcp", p.lane)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		return c
	}
	idle, busy := dial(), dial()
	defer idle.Close()
	defer busy.Close()
	io.WriteString(idle, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, 4096)
	if n, err := idle.Read(buf); err != nil || !bytes.HasSuffix(buf[:n], []byte("done")) {
		t.Fatalf("first answer: %q, %v", buf[:n], err)
	}
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	shut := make(chan error, 1)
	go func() { shut <- p.ls.Shutdown(context.Background()) }()
	if n, err := idle.Read(buf); err != io.EOF {
		t.Fatalf("the idle connection read %q, %v; want it closed", buf[:n], err)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a request was being served", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	out, _ := io.ReadAll(busy)
	if !bytes.Contains(out, []byte("Connection: close")) || !bytes.HasSuffix(out, []byte("done")) {
		t.Fatalf("the busy connection got %q; want its answer, saying the connection closes", out)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", p.lane); err == nil {
		t.Fatal("the listener still accepts after Shutdown")
	}
}

func TestShutdownGivesUpWhenItsContextEnds(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{}, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
	})
	p := startPair(t, h, everything)
	c, err := net.Dial("tcp", p.lane)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.ls.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the context's deadline", err)
	}
}

func TestAnIdleConnectionIsClosedAfterIdleTimeout(t *testing.T) {
	p := startPair(t, echo, everything, func(s *http.Server) { s.IdleTimeout = 100 * time.Millisecond })
	c, err := net.Dial("tcp", p.lane)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	start := time.Now()
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("HTTP/1.1 200 OK")) {
		t.Fatalf("answer %q", out)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("the idle connection stayed open %v", waited)
	}
}

// FuzzLaneAnswersAsNetHTTPDoes sends the same bytes to net/http and to a
// lane with the same handler: the answers must be the same, Date aside.
func FuzzLaneAnswersAsNetHTTPDoes(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /api/v1/leaderboards/q?limit=1&around=m-1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Bearer k\r\n\r\n",
		"HEAD /%7e?%zz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nzGET /c HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: b=2\r\nConnection: close\r\n\r\n",
		"GET /\x80 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: [::1]:80\r\nX: \t a \t\r\n\r\n",
		"GET //x/../y HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"id\":\"e1\"}POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
		"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nab",
		"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\n\r\n1234567",
	} {
		f.Add([]byte(s))
	}
	p := startPair(f, echo, everything)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 12<<10 {
			return
		}
		same(t, raw, exchange(t, p.plain, raw), exchange(t, p.lane, raw))
	})
}

func TestANewConnectionMustSendItsRequestWithinReadHeaderTimeout(t *testing.T) {
	p := startPair(t, echo, everything, func(s *http.Server) {
		s.ReadHeaderTimeout = 100 * time.Millisecond
		s.IdleTimeout = time.Minute
	})
	c, err := net.Dial("tcp", p.lane)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read %d bytes, %v; want the connection closed", n, err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("a silent new connection stayed open %v", waited)
	}
}

// A body that comes after the head, later than ReadHeaderTimeout, is
// waited for as net/http waits for it (ReadTimeout is not set), and the
// answers are the same.
func TestABodyThatComesLaterIsWaitedFor(t *testing.T) {
	p := startPair(t, echo, everything, func(s *http.Server) {
		s.ReadHeaderTimeout = 100 * time.Millisecond
	})
	send := func(addr string) []byte {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nab"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if _, err := io.WriteString(c, "cde"); err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(c)
		if err != nil && !isReset(err) {
			t.Fatal(err)
		}
		return out
	}
	before := p.served.Load()
	plain, lane := send(p.plain), send(p.lane)
	same(t, []byte("a slow body"), plain, lane)
	if !bytes.Contains(lane, []byte(`"abcde"`)) {
		t.Errorf("the lane's answer does not hold the whole body: %q", lane)
	}
	if got := p.served.Load() - before; got != 1 {
		t.Errorf("the lane served %d requests itself, want 1", got)
	}
}
