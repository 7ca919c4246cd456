package h1

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestDoReadsBodiesOfEveryFraming(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer k1" {
			http.Error(w, "auth "+got, http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		case "/chunked": // larger than net/http's buffer, without a length
			io.WriteString(w, big)
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Type", r.Header.Get("Content-Type"))
			w.WriteHeader(http.StatusCreated)
			w.Write(append([]byte(r.Method+" "+r.URL.RequestURI()+" "), b...))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL, "k1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var buf bytes.Buffer
	for round := range 3 { // the same connection serves them all, but for /close
		for _, tc := range []struct {
			method, path string
			body         []byte
			code         int
			want         string
		}{
			{"GET", "/length", nil, 200, "hello"},
			{"GET", "/chunked", nil, 200, big},
			{"POST", "/echo?a=1", []byte(`{"x":1}`), 201, `POST /echo?a=1 {"x":1}`},
			{"PUT", "/echo", []byte{}, 201, "PUT /echo "},
			{"DELETE", "/empty", nil, 204, ""},
			{"GET", "/missing", nil, 404, "404 page not found\n"},
			{"GET", "/close", nil, 200, "bye"},
		} {
			code, err := c.Do(tc.method, tc.path, tc.body, &buf)
			if err != nil {
				t.Fatalf("round %d: %s %s: %v", round, tc.method, tc.path, err)
			}
			if code != tc.code || buf.String() != tc.want {
				t.Fatalf("round %d: %s %s: %d %.80q, want %d %.80q", round, tc.method, tc.path, code, buf.String(), tc.code, tc.want)
			}
		}
	}
	other, _ := New(srv.URL, "")
	if code, err := other.Do("GET", "/length", nil, &buf); err != nil || code != 401 {
		t.Fatalf("without a key: %d %v, want 401", code, err)
	}
}

func TestDoSendsAgainWhenTheServerClosedTheIdleConnection(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		io.WriteString(w, strconv.Itoa(n))
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "")
	defer c.Close()
	var buf bytes.Buffer
	if code, err := c.Do("GET", "/", nil, &buf); err != nil || code != 200 || buf.String() != "1" {
		t.Fatalf("first: %d %q %v", code, buf.String(), err)
	}
	srv.CloseClientConnections()
	if code, err := c.Do("GET", "/", nil, &buf); err != nil || code != 200 || buf.String() != "2" {
		t.Fatalf("after the server closed the connection: %d %q %v", code, buf.String(), err)
	}
}

func TestNewRefusesWhatIsNotAPlainHTTPURL(t *testing.T) {
	for _, u := range []string{"https://127.0.0.1:1", "127.0.0.1:8080", "http://"} {
		if _, err := New(u, ""); err == nil {
			t.Errorf("New(%q) took it", u)
		}
	}
}
