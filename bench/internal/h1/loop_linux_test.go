package h1

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var answers = []struct {
	name    string
	raw     string
	code    int
	body    string
	closing bool
}{
	{"length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}", 200, `{"a":1}`, false},
	{"empty length", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 404, "", false},
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n", 200, "hello, world", false},
	{"chunked trailers", "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", 200, "0123456789", false},
	{"no content", "HTTP/1.1 204 No Content\r\nX: y\r\n\r\n", 204, "", false},
	{"not modified", "HTTP/1.1 304 Not Modified\r\nContent-Length: 12\r\n\r\n", 304, "", false},
	{"close", "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno", 503, "no", true},
	{"http/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok", true},
	{"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 200, "ok", false},
}

func TestParseAnswerReadsWhatNetHTTPReads(t *testing.T) {
	for _, tc := range answers {
		t.Run(tc.name, func(t *testing.T) {
			// With the next answer's bytes behind it, it takes only its own.
			b := []byte(tc.raw + "HTTP/1.1 200 OK\r\n")
			a, n, err := ParseAnswer(b, nil)
			if err != nil || n != len(tc.raw) {
				t.Fatalf("ParseAnswer = n %d, %v; want %d", n, err, len(tc.raw))
			}
			if a.Code != tc.code || string(a.Body) != tc.body || a.Closing != tc.closing {
				t.Errorf("got code %d body %q closing %v; want %d %q %v", a.Code, a.Body, a.Closing, tc.code, tc.body, tc.closing)
			}
			// net/http reads the same code and body.
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(tc.raw)), &http.Request{Method: http.MethodGet})
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != a.Code || string(body) != string(a.Body) || resp.Close != a.Closing {
				t.Errorf("net/http read %d %q close %v; ParseAnswer %d %q %v", resp.StatusCode, body, resp.Close, a.Code, a.Body, a.Closing)
			}
			// Every part of it is "read more".
			for k := range len(tc.raw) {
				if _, n, err := ParseAnswer([]byte(tc.raw[:k]), nil); n != 0 || err != nil {
					t.Fatalf("the first %d bytes: n %d, %v; want 0, nil", k, n, err)
				}
			}
		})
	}
}

func TestParseAnswerRejectsWhatItCannotRead(t *testing.T) {
	for _, raw := range []string{
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\r\nto the end of the connection",
		"HTTP/1.1 100 Continue\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
	} {
		if _, n, err := ParseAnswer([]byte(raw), nil); err == nil {
			t.Errorf("ParseAnswer(%q) = n %d, no error; want an error", raw, n)
		}
	}
}

func FuzzParseAnswer(f *testing.F) {
	for _, tc := range answers {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, n, err := ParseAnswer(b, nil)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) {
			t.Fatalf("n %d past the %d bytes given", n, len(b))
		}
		// The answer alone reads the same; any part of it is "read more"
		// or an error found in its head, never a different answer.
		again, m, err := ParseAnswer(b[:n], nil)
		if err != nil || m != n || again.Code != a.Code || !bytes.Equal(again.Body, a.Body) || again.Closing != a.Closing {
			t.Fatalf("the answer alone: %+v n %d %v; with what follows: %+v n %d", again, m, err, a, n)
		}
		for _, k := range []int{n - 1, n / 2, n / 3} {
			if _, m, err := ParseAnswer(b[:k], nil); m != 0 && err == nil {
				t.Fatalf("the first %d of %d bytes read as a whole answer of %d", k, n, m)
			}
		}
	})
}

// exchange builds an Exchange of per clients requests each to paths in
// turn, and keeps what came back.
type recorded struct {
	mu      sync.Mutex
	answers map[string]int // "code body" → count
	errs    []error
}

func exchange(per int, path func(client, i int) string) (Exchange, *recorded) {
	rec := &recorded{answers: map[string]int{}}
	sent := map[int]int{}
	return Exchange{
		Next: func(cl int, req *Request) bool {
			if sent[cl] == per {
				return false
			}
			req.Method, req.Path, req.Body = http.MethodGet, path(cl, sent[cl]), nil
			if strings.HasPrefix(req.Path, "/echo") {
				req.Method = http.MethodPost
				req.Body = strconv.AppendInt(req.Body[:0], int64(cl*1000+sent[cl]), 10)
			}
			sent[cl]++
			return true
		},
		Done: func(cl, code int, body []byte, took time.Duration, err error) {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if err != nil {
				rec.errs = append(rec.errs, err)
				return
			}
			if took <= 0 {
				rec.errs = append(rec.errs, fmt.Errorf("took %v", took))
			}
			rec.answers[fmt.Sprintf("%d %s", code, body)]++
		},
	}, rec
}

func TestLoopDrivesARealServer(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	var served sync.Map                              // connection → requests served on it
	mux := http.NewServeMux()
	mux.HandleFunc("/len", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("short")) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(big)) })
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("part one,"))
		w.(http.Flusher).Flush()
		w.Write([]byte(" part two"))
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Write([]byte("bye"))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "bad headers", 400)
			return
		}
		w.Write(b)
	})
	// The second request on a connection finds it closed before an answer:
	// the loop sends it again on a new one.
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		key := r.Context().Value(http.LocalAddrContextKey).(net.Addr).String() + r.RemoteAddr
		n, _ := served.LoadOrStore(key, new(int))
		*n.(*int)++
		if *n.(*int) == 2 {
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
			return
		}
		w.Write([]byte("steady"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	paths := []string{"/len", "/chunked", "/big", "/close", "/echo", "/flaky"}
	const clients, per = 6, 60
	ex, rec := exchange(per, func(cl, i int) string { return paths[(cl+i)%len(paths)] })
	took, err := Loop(srv.URL, "k", clients, ex)
	if err != nil || took <= 0 {
		t.Fatalf("Loop = %v, %v", took, err)
	}
	if len(rec.errs) > 0 {
		t.Fatalf("%d requests failed, the first: %v", len(rec.errs), rec.errs[0])
	}
	n := clients * per / len(paths)
	for _, want := range []string{"200 short", "200 part one, part two", "200 " + big, "200 bye", "200 steady"} {
		if got := rec.answers[want]; got != n {
			t.Errorf("%.20q… came back %d times; want %d", want, got, n)
		}
	}
	echoes := 0
	for k, v := range rec.answers {
		if code, body, _ := strings.Cut(k, " "); code == "200" && body != big && len(body) > 0 && body[0] >= '0' && body[0] <= '9' {
			echoes += v
		}
	}
	if echoes != n {
		t.Errorf("%d echoes; want %d", echoes, n)
	}
}

func TestLoopEndsWhenTheServerIsGone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ex, rec := exchange(50, func(int, int) string { return "/" })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Loop("http://"+addr, "", 4, ex)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("Loop did not end")
	}
	if len(rec.errs) != 200 || len(rec.answers) != 0 {
		t.Fatalf("%d errors, %d answers; want 200 refused connections", len(rec.errs), len(rec.answers))
	}
	if !strings.Contains(rec.errs[0].Error(), "connect") {
		t.Errorf("error %q does not say the connection failed", rec.errs[0])
	}
}

func TestLoopClosesAConnectionAnsweredBeforeItsRequestWentOut(t *testing.T) {
	// A server that answers as soon as it has a request's head and never
	// reads its body: the rest of the request cannot be sent, so the next
	// request must go on a new connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	accepted := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted++
			mu.Unlock()
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				c.Write([]byte("HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 8\r\n\r\ntoo long"))
				time.Sleep(time.Minute) // and reads nothing more
			}()
		}
	}()
	body := bytes.Repeat([]byte("x"), 32<<20) // more than the socket buffers take
	const per = 3
	var codes []int
	sent := 0
	ex := Exchange{
		Next: func(cl int, req *Request) bool {
			if sent == per {
				return false
			}
			sent++
			req.Method, req.Path, req.Body = http.MethodPost, "/", body
			return true
		},
		Done: func(cl, code int, b []byte, took time.Duration, err error) {
			if err != nil {
				t.Errorf("request failed: %v", err)
			}
			codes = append(codes, code)
		},
	}
	done := make(chan error, 1)
	go func() {
		_, err := Loop("http://"+ln.Addr().String(), "", 1, ex)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Loop hung on a request the server would not read")
	}
	if len(codes) != per || codes[0] != 413 || codes[per-1] != 413 {
		t.Fatalf("answers %v; want %d × 413", codes, per)
	}
	mu.Lock()
	defer mu.Unlock()
	if accepted != per {
		t.Errorf("%d connections for %d requests each answered early; want a new one each", accepted, per)
	}
}
