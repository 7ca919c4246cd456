package api

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// writeLog records the writes made to the connections a listener accepts.
type writeLog struct {
	mu     sync.Mutex
	writes [][]byte
}

func (l *writeLog) take() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.writes
	l.writes = nil
	return w
}

type loggingListener struct {
	net.Listener
	log *writeLog
}

func (l loggingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return loggingConn{c, l.log}, nil
}

type loggingConn struct {
	net.Conn
	log *writeLog
}

func (c loggingConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	c.log.writes = append(c.log.writes, bytes.Clone(p))
	c.log.mu.Unlock()
	return c.Conn.Write(p)
}

// serveLogged serves h through Listen on a loopback listener whose
// connections log their writes.
func serveLogged(t *testing.T, h http.Handler) (string, *writeLog) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := &writeLog{}
	srv := &http.Server{Handler: h}
	go srv.Serve(Listen(srv, loggingListener{ln, log}))
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), log
}

func TestLongAnswerLeavesInOneWrite(t *testing.T) {
	long := []byte(`{"entries":[` + strings.Repeat(`{"rank":1,"subject":"m-000001","value":12.5},`, 300) + `{}]}` + "\n")
	short := []byte(`{"rank":1}` + "\n")
	huge := bytes.Repeat([]byte("x"), maxHeldBody+1)
	url, log := serveLogged(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/long":
			writeJSONBody(w, r, long)
		case "/huge":
			writeJSONBody(w, r, huge)
		default:
			writeJSONBody(w, r, short)
		}
	}))
	for _, c := range []struct {
		path string
		want []byte
	}{{"/long", long}, {"/short", short}, {"/huge", huge}, {"/long", long}} {
		res, err := http.Get(url + c.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK || !bytes.Equal(got, c.want) {
			t.Fatalf("GET %s: %d, %d bytes, want 200 and the %d bytes written", c.path, res.StatusCode, len(got), len(c.want))
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET %s: Content-Type %q", c.path, ct)
		}
		if c.path == "/long" && res.Header.Get("Content-Length") != strconv.Itoa(len(long)) {
			t.Errorf("GET %s: Content-Length %q, want %d", c.path, res.Header.Get("Content-Length"), len(long))
		}
		writes := log.take()
		if c.path == "/huge" {
			// Not held: net/http writes it as it would without Listen.
			if got := bytes.Join(writes, nil); !bytes.HasSuffix(got, huge) {
				t.Errorf("GET /huge: the connection did not get the body")
			}
			continue
		}
		if len(writes) != 1 || !bytes.HasPrefix(writes[0], []byte("HTTP/1.1 200 OK\r\n")) || !bytes.HasSuffix(writes[0], c.want) {
			t.Errorf("GET %s: %d writes to the connection, want one with the header and the whole body", c.path, len(writes))
		}
	}
}

func TestReleaseThatFailsClosesTheConnection(t *testing.T) {
	a, b := net.Pipe()
	b.Close()
	c := &heldConn{Conn: a}
	c.hold = true
	if n, err := c.Write([]byte("held")); n != 4 || err != nil {
		t.Fatalf("held write: %d, %v", n, err)
	}
	if err := c.release(); err == nil {
		t.Fatal("release to a closed peer succeeded")
	}
	if _, err := a.Read(make([]byte, 1)); err == nil {
		t.Error("the connection is still open after a failed release")
	}
	if c.hold || c.held != nil {
		t.Error("the connection still holds writes after release")
	}
}
