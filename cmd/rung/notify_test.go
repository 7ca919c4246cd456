package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/notify"
)

// mailSink is an SMTP server in the test process that keeps what it gets.
type mailSink struct {
	mu   sync.Mutex
	msgs []string
}

type sinkSession struct{ s *mailSink }

func (x sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x sinkSession) Reset()                               {}
func (x sinkSession) Logout() error                        { return nil }
func (x sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, string(b))
	x.s.mu.Unlock()
	return err
}

func startSink(t *testing.T) (*mailSink, string) {
	t.Helper()
	sink := &mailSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return sinkSession{sink}, nil }))
	srv.Domain = "127.0.0.1"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sink, ln.Addr().String()
}

func TestServeRefusesABadSMTPURLBeforeTouchingTheDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rung.db")
	_, err := runCmd(t, "serve", "--db", db, "--addr", "127.0.0.1:0", "--smtp", "http://user:topsecret@mail.example.com")
	if rung.ErrorCode(err) != rung.EINVALID || !strings.Contains(err.Error(), "smtp or smtps") || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("serve --smtp http://...: %v", err)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was created before the flags were checked: %v", err)
	}
}

func TestServeMailsASignInLinkThroughTheRelay(t *testing.T) {
	sink, addr := startSink(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "rung.db")
	prog := writeFile(t, dir, "program.yaml", e2eProgram)
	if out, err := runCmd(t, "program", "apply", prog, "--db", db); err != nil {
		t.Fatalf("program apply: %v\n%s", err, out)
	}
	out, err := runCmd(t, "apikey", "create", "--scope", "admin", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	key := lastLine(out)

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--smtp", "smtp://" + addr + "?starttls=none",
			"--smtp-from", "Acme Partners <partners@acme.example>"}, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	var base string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "Rung is serving on "); ok {
			base = u
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		t.Fatal("the server did not start")
	}
	if code, _ := call(t, "PUT", base+"/api/v1/partners/p1", key, `{"name": "Initech"}`); code != 201 {
		t.Fatalf("put partner: %d", code)
	}
	if code, _ := call(t, "PUT", base+"/api/v1/members/m1", key, `{"partner": "p1", "name": "Peter", "email": "peter@initech.example", "attrs": {"language": "de"}}`); code != 200 && code != 201 {
		t.Fatalf("put member: %d", code)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatal("no form on /login")
	}
	res, err = c.PostForm(base+"/login/link", url.Values{"csrf": {string(csrf[1])}, "email": {"peter@initech.example"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	sink.mu.Lock()
	msgs := append([]string(nil), sink.msgs...)
	sink.mu.Unlock()
	if len(msgs) != 1 {
		t.Fatalf("the relay got %d messages", len(msgs))
	}
	subject, text, _ := notify.ReadMail([]byte(msgs[0]))
	if subject != "Ihr Anmeldelink" || !strings.Contains(text, base+"/login/link?token=") {
		t.Fatalf("the sign-in mail: %q\n%s", subject, text)
	}
	// The unsubscribe page is served (a bad token is refused with a page).
	res, err = http.Get(base + "/notify/unsubscribe?t=nope")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /notify/unsubscribe with a bad token: %d", res.StatusCode)
	}
}
