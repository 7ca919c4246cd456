package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// start is a Monday, 09:00 UTC (10:00 in Berlin).
var start = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }

// received is a message the test SMTP server took.
type received struct {
	from string
	to   []string
	data []byte
	user string // who authenticated
	tls  bool
}

// smtpServer is a real SMTP server (go-smtp) in the test process.
type smtpServer struct {
	mu   sync.Mutex
	msgs []received
	fail error // answer DATA with this when set
	// failTo, when set, answers DATA with an error for this recipient
	// only.
	failTo string
	addr   string
}

type session struct {
	srv *smtpServer
	c   *smtp.Conn
	cur received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "rung" || password != "s3cret:pw" {
			return errors.New("bad credentials")
		}
		s.cur.user = username
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.cur.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if s.srv.fail != nil {
		return s.srv.fail
	}
	if s.srv.failTo != "" && slices.Contains(s.cur.to, s.srv.failTo) {
		return &smtp.SMTPError{Code: 451, Message: "mailbox busy"}
	}
	s.cur.data = b
	_, s.cur.tls = s.c.TLSConnectionState()
	s.srv.msgs = append(s.srv.msgs, s.cur)
	return nil
}
func (s *session) Reset()        { s.cur = received{user: s.cur.user} }
func (s *session) Logout() error { return nil }

func (s *smtpServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// startSMTP runs an SMTP server on a free port; with TLS it offers
// STARTTLS and returns a pool trusting its certificate.
func startSMTP(t testing.TB, withTLS bool) (*smtpServer, *x509.CertPool) {
	t.Helper()
	srv := &smtpServer{}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{srv: srv, c: c}, nil }))
	s.Domain = "127.0.0.1"
	s.AllowInsecureAuth = true
	var pool *x509.CertPool
	if withTLS {
		var cert tls.Certificate
		cert, pool = selfSigned(t)
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.addr = ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return srv, pool
}

const testProgram = `name: Notify test
timezone: Europe/Berlin
points:
  rules:
    - {id: won, on: deal.won, award: 300, to: member}
levels:
  - {name: Rookie, at: 0}
  - {name: Pro, at: 500}
  - {name: Expert, at: 2000}
badges:
  - id: big-deal
    name: Größter Abschluss
    on: deal.won
    evidence: event.id
leaderboards:
  - id: points
    name: Points this year
    metric: points
    for: member
    window: year
`

type fixture struct {
	t     testing.TB
	svc   *service.Service
	st    store.Store
	n     *Service
	clock *clock
	smtp  *smtpServer
	web   *httptest.Server
}

func newFixture(t testing.TB, o Options) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: start}
	svc, err := service.Open(ctx, st, service.Options{Clock: c.now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	if _, err := svc.ApplyProgram(ctx, []byte(testProgram), start.AddDate(-1, 0, 0), "test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []rung.Partner{
		{ID: "p1", Name: "Alpha Consulting", JoinedAt: start.AddDate(-1, 0, 0)},
		{ID: "p2", Name: "Beta Systeme", JoinedAt: start.AddDate(-1, 0, 0), Attrs: map[string]any{"language": "de", "notify_email": "partner@beta.example"}},
	} {
		if _, err := svc.PutPartner(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []rung.Member{
		{ID: "m1", Partner: "p1", Name: "Ann Example", Email: "ann@alpha.example", JoinedAt: start.AddDate(-1, 0, 0)},
		{ID: "m2", Partner: "p2", Name: "Jürgen Groß", Email: "juergen@beta.example", JoinedAt: start.AddDate(-1, 0, 0), Attrs: map[string]any{"language": "de"}},
		{ID: "m3", Partner: "p1", Name: "Cy", Email: "cy@alpha.example", JoinedAt: start.AddDate(-1, 0, 0)},
	} {
		if _, err := svc.PutMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{t: t, svc: svc, st: st, clock: c}
	if o.Mail == nil {
		srv, pool := startSMTP(t, true)
		host, port, _ := net.SplitHostPort(srv.addr)
		relay, err := ParseSMTP("smtp://rung:s3cret%3Apw@" + net.JoinHostPort(host, port) + "?starttls=require")
		if err != nil {
			t.Fatal(err)
		}
		relay.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
		o.Mail, f.smtp = relay, srv
	}
	if o.From == "" {
		o.From = "Acme Partners <partners@acme.example>"
	}
	o.Logger = slog.New(slog.DiscardHandler)
	f.n = New(svc, o)
	f.web = httptest.NewServer(f.n.Handler())
	t.Cleanup(f.web.Close)
	f.n.o.BaseURL = f.web.URL
	return f
}

func (f *fixture) enqueue(ts ...Trigger) {
	f.t.Helper()
	if err := f.n.Enqueue(context.Background(), ts...); err != nil {
		f.t.Fatalf("Enqueue: %v", err)
	}
}

// deliverAfter moves the clock on and delivers what is due.
func (f *fixture) deliverAfter(d time.Duration) int {
	f.t.Helper()
	f.clock.add(d)
	n, err := f.n.Deliver(context.Background())
	if err != nil {
		f.t.Fatalf("Deliver: %v", err)
	}
	return n
}

// parsed is a message as a mail client reads it.
type parsed struct {
	header     mail.Header
	subject    string
	text, html string
	media      string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not RFC 5322: %v\n%s", err, raw)
	}
	p := parsed{header: msg.Header}
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("subject %q: %v", msg.Header.Get("Subject"), err)
	}
	media, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	p.media = media
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part) // quoted-printable is decoded by the reader
		ct, ps, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if ps["charset"] != "utf-8" {
			t.Errorf("part %s charset %q", ct, ps["charset"])
		}
		switch ct {
		case "text/plain":
			p.text = string(b)
		case "text/html":
			p.html = string(b)
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	return p
}

func TestEmailOverSMTPCarriesHeadersBothPartsLanguageAndUnsubscribe(t *testing.T) {
	f := newFixture(t, Options{})
	f.enqueue(Trigger{ID: "badge:m2:big-deal:", Kind: KindBadge, Partner: "p2", Member: "m2", Data: map[string]any{"name": "Größter Abschluss"}})
	if n := f.deliverAfter(0); n != 0 {
		t.Fatalf("delivered %d before the batching window ended", n)
	}
	if n := f.deliverAfter(time.Minute); n != 1 {
		t.Fatalf("delivered %d; want 1", n)
	}
	got := f.smtp.messages()
	if len(got) != 1 {
		t.Fatalf("the SMTP server got %d messages", len(got))
	}
	r := got[0]
	if r.user != "rung" || !r.tls || r.from != "partners@acme.example" || len(r.to) != 1 || r.to[0] != "juergen@beta.example" {
		t.Errorf("envelope: user %q tls %v from %q to %v", r.user, r.tls, r.from, r.to)
	}
	m := parse(t, r.data)
	if m.media != "multipart/alternative" {
		t.Errorf("Content-Type %s", m.media)
	}
	if want := "Sie haben Größter Abschluss erreicht"; m.subject != want {
		t.Errorf("subject %q; want %q (German, RFC 2047)", m.subject, want)
	}
	if raw := m.header.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Errorf("raw Subject %q is not encoded", raw)
	}
	if to, err := m.header.AddressList("To"); err != nil || to[0].Name != "Jürgen Groß" || to[0].Address != "juergen@beta.example" {
		t.Errorf("To %v, %v", to, err)
	}
	if from, err := mail.ParseAddress(m.header.Get("From")); err != nil || from.Address != "partners@acme.example" {
		t.Errorf("From %q", m.header.Get("From"))
	}
	if d, err := m.header.Date(); err != nil || !d.Equal(start.Add(time.Minute)) {
		t.Errorf("Date %v, %v", d, err)
	}
	if id := m.header.Get("Message-Id"); !strings.HasPrefix(id, "<rung.") || !strings.HasSuffix(id, "@acme.example>") {
		t.Errorf("Message-ID %q", id)
	}
	if m.header.Get("Content-Language") != "de" || m.header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Content-Language %q, Auto-Submitted %q", m.header.Get("Content-Language"), m.header.Get("Auto-Submitted"))
	}
	for _, part := range []string{m.text, m.html} {
		if !strings.Contains(part, "Glückwunsch: Sie haben das Abzeichen Größter Abschluss erhalten.") || !strings.Contains(part, "Diese E-Mails abbestellen") {
			t.Errorf("a part lacks the German line or the unsubscribe link:\n%s", part)
		}
	}
	if !strings.Contains(m.html, "<a href=") || strings.Contains(m.text, "<a ") {
		t.Errorf("HTML part without a link, or text part with HTML")
	}
	if m.header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", m.header.Get("List-Unsubscribe-Post"))
	}
	lu := m.header.Get("List-Unsubscribe")
	if !strings.HasPrefix(lu, "<"+f.web.URL+"/notify/unsubscribe?t=") || !strings.HasSuffix(lu, ">") {
		t.Fatalf("List-Unsubscribe %q", lu)
	}
	link := strings.Trim(lu, "<>")
	if !strings.Contains(m.text, link) {
		t.Errorf("the text part's unsubscribe link is not the header's")
	}

	// The page the link opens asks; a mail client's one-click POST does it.
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `method="post"`) {
		t.Fatalf("GET unsubscribe: %s\n%s", resp.Status, page)
	}
	if p := f.n.Prefs(context.Background(), "m2"); len(p.Off) != 0 {
		t.Fatalf("opening the link unsubscribed already: %v", p.Off)
	}
	resp, err = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST unsubscribe: %s", resp.Status)
	}
	if p := f.n.Prefs(context.Background(), "m2"); len(p.Off) != 1 || p.Off[0] != "email:badge" {
		t.Fatalf("prefs after unsubscribe: %v", p.Off)
	}
	// Badges no longer mail; levels still do.
	f.enqueue(Trigger{ID: "badge:m2:other", Kind: KindBadge, Member: "m2", Data: map[string]any{"name": "Other"}},
		Trigger{ID: "level:m2:Pro", Kind: KindLevel, Member: "m2", Data: map[string]any{"level": "Pro"}})
	f.deliverAfter(time.Minute)
	got = f.smtp.messages()
	if len(got) != 2 {
		t.Fatalf("%d messages; want 2", len(got))
	}
	if m := parse(t, got[1].data); m.subject != "Sie haben Pro erreicht" || strings.Contains(m.text, "Other") {
		t.Errorf("after unsubscribing from badges: %q\n%s", m.subject, m.text)
	}
	// Both stay in the bell.
	if n, _ := f.st.CountUnread(context.Background(), "m2"); n != 3 {
		t.Errorf("unread in the portal: %d; want 3", n)
	}
	// A tampered token is refused.
	resp, _ = http.Post(link[:len(link)-2]+"xx", "", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("tampered token: %s", resp.Status)
	}
}

// TestDeliverRecordsWhatWentOutAndOnlyThat: a step records its sends
// together at its end; a recipient whose mail failed in the same step is
// not recorded as sent, and the next step sends only that one.
func TestDeliverRecordsWhatWentOutAndOnlyThat(t *testing.T) {
	f := newFixture(t, Options{})
	f.smtp.mu.Lock()
	f.smtp.failTo = "juergen@beta.example"
	f.smtp.mu.Unlock()
	for _, m := range []string{"m1", "m2", "m3"} {
		f.enqueue(Trigger{ID: "level:" + m + ":Pro", Kind: KindLevel, Member: m, Data: map[string]any{"level": "Pro"}})
	}
	if n := f.deliverAfter(time.Minute); n != 2 {
		t.Fatalf("delivered %d; want m1's and m3's", n)
	}
	ctx := context.Background()
	for _, m := range []string{"m1", "m2", "m3"} {
		ns, err := f.st.ListNotifications(ctx, store.NotificationFilter{Member: m})
		if err != nil || len(ns) != 1 {
			t.Fatalf("%s: %v %v", m, ns, err)
		}
		sent := !ns[0].SentAt.IsZero()
		if sent != (m != "m2") || (sent && ns[0].Channels != ChannelEmail) || (!sent && ns[0].Attempts != 1) {
			t.Errorf("%s after the first step: %+v", m, ns[0])
		}
	}
	f.smtp.mu.Lock()
	f.smtp.failTo = ""
	f.smtp.mu.Unlock()
	if n := f.deliverAfter(2 * time.Hour); n != 1 {
		t.Fatalf("delivered %d in the second step; want m2's only", n)
	}
	var to []string
	for _, r := range f.smtp.messages() {
		to = append(to, r.to...)
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"ann@alpha.example", "cy@alpha.example", "juergen@beta.example"}) {
		t.Errorf("mail went to %v; want each member once", to)
	}
}

func TestBatchingSendsOneMessagePerRecipientPerWindow(t *testing.T) {
	f := newFixture(t, Options{})
	var ts []Trigger
	for i := range 20 {
		ts = append(ts, Trigger{ID: "nudge:" + string(rune('a'+i)), Kind: KindNudge, Member: "m1", Data: map[string]any{"next": "Gold", "missing": "one more deal"}})
	}
	ts = append(ts, Trigger{ID: "level:m3:Pro", Kind: KindLevel, Member: "m3", Data: map[string]any{"level": "Pro"}})
	f.clock.add(10 * time.Second)
	f.enqueue(ts[:10]...)
	f.clock.add(30 * time.Second)
	f.enqueue(ts[10:]...)
	if n := f.deliverAfter(20 * time.Second); n != 21 {
		t.Fatalf("delivered %d; want 21", n)
	}
	got := f.smtp.messages()
	if len(got) != 2 {
		t.Fatalf("%d messages; want one for m1 and one for m3", len(got))
	}
	subjects := map[string]string{}
	for _, r := range got {
		subjects[r.to[0]] = parse(t, r.data).subject
	}
	if subjects["ann@alpha.example"] != "20 updates from the partner program" || subjects["cy@alpha.example"] != "You reached Pro" {
		t.Errorf("subjects %v", subjects)
	}
	// A mix of kinds unsubscribes from all e-mail.
	m := parse(t, got[0].data)
	if got[0].to[0] != "ann@alpha.example" {
		m = parse(t, got[1].data)
	}
	tok := strings.TrimPrefix(strings.Trim(m.header.Get("List-Unsubscribe"), "<>"), f.web.URL+"/notify/unsubscribe?t=")
	key, _ := f.n.key(context.Background())
	if member, scope, err := ParseUnsubscribeToken(key, tok); err != nil || member != "m1" || scope != "email:nudge" {
		t.Errorf("token: %s %s %v", member, scope, err)
	}
	if n := f.deliverAfter(time.Hour); n != 0 {
		t.Errorf("delivered %d again", n)
	}
}

func TestEnqueueIsIdempotentAndChecksEveryTrigger(t *testing.T) {
	f := newFixture(t, Options{})
	tr := Trigger{ID: "level:m1:Pro", Kind: KindLevel, Member: "m1", Data: map[string]any{"level": "Pro"}}
	f.enqueue(tr)
	f.enqueue(tr)
	f.deliverAfter(time.Minute)
	f.enqueue(tr)
	f.deliverAfter(time.Minute)
	if got := f.smtp.messages(); len(got) != 1 {
		t.Errorf("%d messages for one trigger enqueued three times", len(got))
	}
	for _, bad := range []Trigger{{Kind: KindLevel}, {ID: "x", Kind: "party"}, {ID: "y", Kind: KindMagicLink, Member: "m1"}} {
		err := f.n.Enqueue(context.Background(), Trigger{ID: "good", Kind: KindBadge, Member: "m1"}, bad)
		if rung.ErrorCode(err) != rung.EINVALID {
			t.Errorf("Enqueue(%+v) = %v; want EINVALID", bad, err)
		}
	}
	if ns, _ := f.st.ListNotifications(context.Background(), store.NotificationFilter{Member: "m1"}); len(ns) != 1 {
		t.Errorf("a refused batch stored something: %d notifications", len(ns))
	}
}

func TestQuietHoursHoldMailUntilMorningInTheMembersZone(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	if err := f.n.SetPrefs(ctx, store.NotificationPrefs{Member: "m1", TimeZone: "Europe/Berlin", QuietFrom: 22 * 60, QuietTo: 7 * 60}); err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	f.clock.set(time.Date(2026, 11, 2, 23, 30, 0, 0, berlin))
	f.enqueue(Trigger{ID: "level:m1:Pro", Kind: KindLevel, Member: "m1", Data: map[string]any{"level": "Pro"}},
		Trigger{ID: "level:m3:Pro", Kind: KindLevel, Member: "m3", Data: map[string]any{"level": "Pro"}})
	if n := f.deliverAfter(time.Minute); n != 1 {
		t.Fatalf("delivered %d at night; want only m3's", n)
	}
	f.clock.set(time.Date(2026, 11, 3, 6, 59, 0, 0, berlin))
	if n := f.deliverAfter(0); n != 0 {
		t.Fatalf("delivered %d at 06:59", n)
	}
	if n := f.deliverAfter(time.Minute); n != 1 {
		t.Fatalf("delivered %d at 07:00; want 1", n)
	}
	// Magic links ignore quiet hours: the member is waiting for them.
	f.clock.set(time.Date(2026, 11, 3, 23, 0, 0, 0, berlin))
	before := len(f.smtp.messages())
	f.enqueue(Trigger{ID: "link:1", Kind: KindMagicLink, Member: "m1", Data: map[string]any{"url": "https://rung.example/login/link?token=abc"}})
	if got := f.smtp.messages(); len(got) != before+1 {
		t.Fatalf("the sign-in link was not sent at once")
	}
}

func TestQuietUntil(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	night := store.NotificationPrefs{QuietFrom: 22 * 60, QuietTo: 7 * 60}
	lunch := store.NotificationPrefs{QuietFrom: 12 * 60, QuietTo: 13 * 60}
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, berlin) }
	for _, tt := range []struct {
		name string
		p    store.NotificationPrefs
		t    time.Time
		want time.Time
	}{
		{"no quiet hours", store.NotificationPrefs{}, at(2, 23, 0), at(2, 23, 0)},
		{"before the night", night, at(2, 21, 59), at(2, 21, 59)},
		{"night starts", night, at(2, 22, 0), at(3, 7, 0)},
		{"after midnight", night, at(3, 2, 0), at(3, 7, 0)},
		{"night ends", night, at(3, 7, 0), at(3, 7, 0)},
		{"daytime", night, at(3, 12, 0), at(3, 12, 0)},
		{"lunch", lunch, at(3, 12, 30), at(3, 13, 0)},
		{"after lunch", lunch, at(3, 13, 0), at(3, 13, 0)},
		{"dst ends in the night", night, time.Date(2026, 10, 25, 1, 0, 0, 0, berlin), time.Date(2026, 10, 25, 7, 0, 0, 0, berlin)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := QuietUntil(tt.p, berlin, tt.t); !got.Equal(tt.want) {
				t.Errorf("QuietUntil(%v) = %v; want %v", tt.t, got.In(berlin), tt.want)
			}
		})
	}
}

func TestQuietUntilNeverEndsInsideQuietHours(t *testing.T) {
	// Property: the result is never earlier than t, and its local time of
	// day is outside the quiet span.
	loc, _ := time.LoadLocation("America/New_York")
	for from := 0; from < 24*60; from += 97 {
		for to := 0; to < 24*60; to += 89 {
			p := store.NotificationPrefs{QuietFrom: from, QuietTo: to}
			for h := 0; h < 48; h += 5 {
				tt := time.Date(2026, 3, 7, 0, 0, 0, 0, loc).Add(time.Duration(h)*time.Hour + 17*time.Minute)
				got := QuietUntil(p, loc, tt)
				if got.Before(tt) {
					t.Fatalf("from %d to %d at %v: %v is earlier", from, to, tt, got)
				}
				l := got.In(loc)
				min := l.Hour()*60 + l.Minute()
				inside := from < to && min >= from && min < to || from > to && (min >= from || min < to)
				if inside {
					t.Fatalf("from %d to %d at %v: %v is inside the quiet hours", from, to, tt, l)
				}
			}
		}
	}
}

func TestSlackWebhookPerPartnerAndForTheTeam(t *testing.T) {
	var mu sync.Mutex
	posts := map[string][]SlackMessage{}
	fail := false
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with %q", r.Method, r.Header.Get("Content-Type"))
		}
		var m SlackMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("payload: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if fail {
			http.Error(w, "invalid_token", http.StatusForbidden)
			return
		}
		posts[r.URL.Path] = append(posts[r.URL.Path], m)
		io.WriteString(w, "ok")
	}))
	defer hook.Close()
	f := newFixture(t, Options{TeamSlack: hook.URL + "/team"})
	ctx := context.Background()
	if _, err := f.svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Alpha Consulting", JoinedAt: start.AddDate(-1, 0, 0),
		Attrs: map[string]any{"slack_webhook_url": hook.URL + "/alpha"}}); err != nil {
		t.Fatal(err)
	}
	f.enqueue(Trigger{ID: "registration:R-1:declined", Kind: KindRegistrationDecision, Partner: "p1", Member: "m1",
		Data: map[string]any{"case": "R-ABCDEFGH", "company": "Globex <Corp>", "status": "declined", "reason": "already a customer"}},
		Trigger{ID: "sla:R-2", Kind: KindSLAWarning, Data: map[string]any{"case": "R-2", "company": "Initech", "what": "review overdue"}})
	f.deliverAfter(time.Minute)
	mu.Lock()
	alpha, team := posts["/alpha"], posts["/team"]
	mu.Unlock()
	if len(alpha) != 1 || len(team) != 1 {
		t.Fatalf("posts: alpha %d, team %d", len(alpha), len(team))
	}
	want := "*[R-ABCDEFGH] Globex &lt;Corp&gt;: declined*\nYour registration R-ABCDEFGH of Globex &lt;Corp&gt; is declined. Reason: already a customer\n<"
	if b := alpha[0].Blocks; len(b) != 1 || b[0].Type != "section" || b[0].Text.Type != "mrkdwn" || !strings.HasPrefix(b[0].Text.Text, want) {
		t.Errorf("alpha's block: %q", alpha[0].Blocks[0].Text.Text)
	}
	if alpha[0].Text != "[R-ABCDEFGH] Globex &lt;Corp&gt;: declined" {
		t.Errorf("alpha's text %q", alpha[0].Text)
	}
	if !strings.Contains(team[0].Blocks[0].Text.Text, "Registration R-2 of Initech: review overdue.") {
		t.Errorf("team's block %q", team[0].Blocks[0].Text.Text)
	}
	ns, _ := f.st.ListNotifications(ctx, store.NotificationFilter{Member: "m1"})
	if len(ns) != 1 || ns[0].Channels != "email slack" {
		t.Errorf("m1's notification went on %q", ns[0].Channels)
	}
	// Slack refusing, with no e-mail sent: tried again later, error kept.
	mu.Lock()
	fail = true
	mu.Unlock()
	f.enqueue(Trigger{ID: "sla:R-3", Kind: KindSLAWarning, Data: map[string]any{"case": "R-3", "what": "review overdue"}})
	f.deliverAfter(time.Minute)
	due, _ := f.st.DueNotifications(ctx, f.clock.now().Add(time.Hour), 10)
	if len(due) != 1 || due[0].Attempts != 1 || !strings.Contains(due[0].LastError, "403") {
		t.Fatalf("after a refused post: %+v", due)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	f.deliverAfter(2 * time.Minute)
	mu.Lock()
	defer mu.Unlock()
	if len(posts["/team"]) != 2 {
		t.Errorf("the retry did not post: %d", len(posts["/team"]))
	}
}

func TestFailingRelayIsRetriedWithBackoffThenGivenUp(t *testing.T) {
	f := newFixture(t, Options{})
	f.smtp.mu.Lock()
	f.smtp.fail = &smtp.SMTPError{Code: 451, Message: "try later"}
	f.smtp.mu.Unlock()
	f.enqueue(Trigger{ID: "level:m1:Pro", Kind: KindLevel, Member: "m1", Data: map[string]any{"level": "Pro"}})
	f.deliverAfter(time.Minute)
	ctx := context.Background()
	ns, _ := f.st.ListNotifications(ctx, store.NotificationFilter{Member: "m1"})
	if ns[0].Attempts != 1 || !strings.Contains(ns[0].LastError, "451") || !ns[0].SentAt.IsZero() {
		t.Fatalf("after a failure: %+v", ns[0])
	}
	if n := f.deliverAfter(30 * time.Second); n != 0 {
		t.Errorf("retried before the backoff ended")
	}
	for range MaxAttempts {
		f.deliverAfter(2 * time.Hour)
	}
	ns, _ = f.st.ListNotifications(ctx, store.NotificationFilter{Member: "m1"})
	if ns[0].SentAt.IsZero() || ns[0].Channels != "failed" {
		t.Errorf("not given up after %d attempts: %+v", MaxAttempts, ns[0])
	}
}

func TestMagicLinkIsSentAtOnceWithoutUnsubscribeAndNotKept(t *testing.T) {
	f := newFixture(t, Options{})
	url := "https://rung.example/login/link?token=SECRET123"
	f.enqueue(Trigger{ID: "link:abc", Kind: KindMagicLink, Member: "m2", Data: map[string]any{"url": url}})
	got := f.smtp.messages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	m := parse(t, got[0].data)
	if m.subject != "Ihr Anmeldelink" || m.header.Get("List-Unsubscribe") != "" || !strings.Contains(m.text, url) || !strings.Contains(m.html, url) {
		t.Errorf("sign-in mail: %q, List-Unsubscribe %q\n%s", m.subject, m.header.Get("List-Unsubscribe"), m.text)
	}
	ns, _ := f.st.ListNotifications(context.Background(), store.NotificationFilter{Member: "m2"})
	if len(ns) != 1 || strings.Contains(string(ns[0].Data), "SECRET") || ns[0].SentAt.IsZero() || ns[0].ReadAt.IsZero() {
		t.Errorf("stored: %+v", ns)
	}
	if n := f.deliverAfter(time.Hour); n != 0 {
		t.Errorf("the link was delivered again")
	}
}

func TestWatchNotifiesBadgesLevelsAndRegistrationDecisions(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	if n, err := f.n.Watch(ctx); err != nil || n != 0 {
		t.Fatalf("first watch = %d, %v; it only sets the cursor", n, err)
	}
	won := func(id string) *service.Incoming {
		return &service.Incoming{Event: rung.Event{ID: id, Type: "deal.won", Partner: "p1", Member: "m1", OccurredAt: f.clock.now()}}
	}
	reg := &service.Incoming{Event: rung.Event{ID: "registration:R-2345ABCD:declined", Type: "registration.declined", Partner: "p2", Member: "m2",
		OccurredAt: f.clock.now(), Source: "registration", Attrs: map[string]any{"registration": "R-2345ABCD", "company": "globex", "reason": "duplicate"}}}
	if _, err := f.svc.Ingest(ctx, []*service.Incoming{won("w1"), won("w2"), reg}); err != nil {
		t.Fatal(err)
	}
	n, err := f.n.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := f.st.ListNotifications(ctx, store.NotificationFilter{})
	kinds := map[string]int{}
	for _, x := range ns {
		kinds[x.ID] = 1
	}
	for _, id := range []string{"badge:m1:big-deal:", "level:m1:Pro", "registration:registration:R-2345ABCD:declined"} {
		if kinds[id] == 0 {
			t.Errorf("no notification %s among %v", id, kinds)
		}
	}
	if n != 3 || len(ns) != 3 {
		t.Errorf("watch enqueued %d, stored %d; want 3", n, len(ns))
	}
	if n, _ := f.n.Watch(ctx); n != 0 {
		t.Errorf("a second watch enqueued %d", n)
	}
	f.deliverAfter(time.Minute)
	for _, r := range f.smtp.messages() {
		if r.to[0] == "juergen@beta.example" {
			m := parse(t, r.data)
			if m.subject != "[R-2345ABCD] globex: abgelehnt" || !strings.Contains(m.text, "Grund: duplicate") {
				t.Errorf("decision mail %q\n%s", m.subject, m.text)
			}
		}
	}
}

func TestWeeklyDigestShowsPlaceMovementAndNextLevel(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	ev := func(id, member string, at time.Time) *service.Incoming {
		return &service.Incoming{Event: rung.Event{ID: id, Type: "deal.won", Partner: "p1", Member: member, OccurredAt: at}}
	}
	// Last week m3 led; this week m1 overtook (m2 has no points, so is
	// not on the board).
	lastWeek := start.AddDate(0, 0, -10)
	if _, err := f.svc.Ingest(ctx, []*service.Incoming{ev("a", "m3", lastWeek), ev("b", "m3", lastWeek), ev("c", "m1", lastWeek),
		ev("d", "m1", start.AddDate(0, 0, -2)), ev("e", "m1", start.AddDate(0, 0, -1))}); err != nil {
		t.Fatal(err)
	}
	period := DigestPeriod(start)
	if !period.Equal(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("DigestPeriod = %v", period)
	}
	n, err := f.n.EnqueueDigests(ctx, period)
	if err != nil || n != 4 { // three members, and p2 with notify_email
		t.Fatalf("EnqueueDigests = %d, %v", n, err)
	}
	if n, _ := f.n.EnqueueDigests(ctx, period); n != 4 {
		t.Fatalf("again: %d", n)
	}
	f.deliverAfter(time.Minute)
	msgs := f.smtp.messages()
	if len(msgs) != 4 {
		t.Fatalf("%d digest mails; want 4 (once each)", len(msgs))
	}
	for _, r := range msgs {
		m := parse(t, r.data)
		switch r.to[0] {
		case "ann@alpha.example":
			if m.subject != "Your week in the program · Ann Example" {
				t.Errorf("subject %q", m.subject)
			}
			for _, want := range []string{"Points: 900", "1100 points to Expert", "Points this year: Place 1/2 ↑ up 1", "No active challenges this week."} {
				if !strings.Contains(m.text, want) {
					t.Errorf("Ann's digest lacks %q:\n%s", want, m.text)
				}
			}
			if !strings.Contains(m.html, "↑") {
				t.Errorf("HTML without the arrow")
			}
		case "cy@alpha.example":
			if !strings.Contains(m.text, "Place 2/2 ↓ down 1") {
				t.Errorf("Cy's digest:\n%s", m.text)
			}
		case "juergen@beta.example":
			if !strings.Contains(m.subject, "Ihre Woche im Programm") || !strings.Contains(m.text, "Punkte: 0") {
				t.Errorf("Jürgen's digest is not German: %q\n%s", m.subject, m.text)
			}
		}
	}
	prev, err := f.n.PreviewDigest(ctx, "member", "m1", start, "de")
	if err != nil || !strings.Contains(prev.Text, "Platz 1/2 ↑ 1 aufwärts") || !strings.Contains(prev.HTML, "Ihre Woche") {
		t.Errorf("preview: %v\n%s", err, prev.Text)
	}
	if _, err := f.n.PreviewDigest(ctx, "member", "nobody", start, ""); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Errorf("preview of an unknown member: %v", err)
	}
}

func TestParseSMTP(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want SMTP
		err  string
	}{
		{url: "smtp://mail.example.com", want: SMTP{Host: "mail.example.com", Port: 587, TLS: "starttls"}},
		{url: "smtp://u%40x:p%3Aw@mail.example.com:25?starttls=none", want: SMTP{Host: "mail.example.com", Port: 25, User: "u@x", Pass: "p:w", TLS: "none"}},
		{url: "smtp://a:b@h:2525?starttls=require", want: SMTP{Host: "h", Port: 2525, User: "a", Pass: "b", TLS: "require"}},
		{url: "smtps://a:b@h", want: SMTP{Host: "h", Port: 465, User: "a", Pass: "b", TLS: "implicit"}},
		{url: "http://h", err: "scheme"},
		{url: "smtp://", err: "no host"},
		{url: "smtp://h:99999", err: "port"},
		{url: "smtp://h?starttls=maybe", err: "starttls must be"},
		{url: "smtp://h?tls=1", err: "unknown parameter"},
		{url: "smtps://h?starttls=require", err: "does not apply"},
		{url: "smtp://user:topsecret@h/path", err: "path"},
	} {
		got, err := ParseSMTP(tt.url)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || rung.ErrorCode(err) != rung.EINVALID {
				t.Errorf("ParseSMTP(%q) = %v; want an error about %q", tt.url, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "topsecret") {
				t.Errorf("the error shows the password: %v", err)
			}
			continue
		}
		if err != nil || *got != tt.want {
			t.Errorf("ParseSMTP(%q) = %+v, %v; want %+v", tt.url, got, err, tt.want)
		}
	}
	s, _ := ParseSMTP("smtp://u:topsecret@h")
	if strings.Contains(s.String(), "topsecret") {
		t.Errorf("String shows the password: %s", s)
	}
}

func TestStartTLSRequiredRefusesAServerWithoutIt(t *testing.T) {
	srv, _ := startSMTP(t, false)
	relay, _ := ParseSMTP("smtp://" + srv.addr + "?starttls=require")
	err := relay.Send(context.Background(), "a@b.example", []string{"c@d.example"}, []byte("Subject: x\r\n\r\nhi\r\n"))
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("Send = %v", err)
	}
	if len(srv.messages()) != 0 {
		t.Error("the message went out in the clear")
	}
	// Optional STARTTLS sends in the clear to such a server.
	relay, _ = ParseSMTP("smtp://" + srv.addr)
	if err := relay.Send(context.Background(), "a@b.example", []string{"c@d.example"}, []byte("Subject: x\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := srv.messages(); len(got) != 1 || got[0].tls {
		t.Errorf("messages %+v", got)
	}
}

func TestMailboxKeepsWhatWasSent(t *testing.T) {
	box := &Mailbox{Keep: 2}
	f := newFixture(t, Options{Mail: box})
	for _, m := range []string{"m1", "m2", "m3"} {
		f.enqueue(Trigger{ID: "level:" + m, Kind: KindLevel, Member: m, Data: map[string]any{"level": "Pro"}})
	}
	f.deliverAfter(time.Minute)
	got := box.Messages()
	if len(got) != 2 || got[0].N != 3 || got[1].N != 2 {
		t.Fatalf("kept %d messages", len(got))
	}
	if c, ok := box.Message(3); !ok || c.Subject != "You reached Pro" || !strings.Contains(c.HTML, "You reached the level Pro") || !strings.Contains(c.Text, "Pro") {
		t.Errorf("message 3: %+v", c)
	}
}

func TestPrefsAreChecked(t *testing.T) {
	for _, p := range []store.NotificationPrefs{
		{}, {Member: "m", Language: "fr"}, {Member: "m", TimeZone: "Mars/Olympus"}, {Member: "m", QuietFrom: 1440},
		{Member: "m", Off: []string{"email"}}, {Member: "m", Off: []string{"fax:badge"}}, {Member: "m", Off: []string{"email:party"}},
	} {
		if err := CheckPrefs(p); rung.ErrorCode(err) != rung.EINVALID {
			t.Errorf("CheckPrefs(%+v) = %v", p, err)
		}
	}
	if err := CheckPrefs(store.NotificationPrefs{Member: "m", Language: "de", TimeZone: "Europe/Berlin", Off: []string{"email:*", "slack:badge"}}); err != nil {
		t.Error(err)
	}
	p := store.NotificationPrefs{Off: []string{"email:badge", "slack:*"}}
	for _, tt := range []struct {
		ch, kind string
		want     bool
	}{{"email", "badge", false}, {"email", "level", true}, {"slack", "level", false}, {"email", KindMagicLink, true}} {
		if Allowed(p, tt.ch, tt.kind) != tt.want {
			t.Errorf("Allowed(%s, %s) != %v", tt.ch, tt.kind, tt.want)
		}
	}
}

func TestSLAWarningsGoOnceToTheTeamAndThePartner(t *testing.T) {
	var mu sync.Mutex
	var posts []SlackMessage
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m SlackMessage
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		posts = append(posts, m)
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer hook.Close()
	f := newFixture(t, Options{TeamSlack: hook.URL, TeamEmail: "channel-team@acme.example"})
	ctx := context.Background()
	reg := func(id, partner, member, status string, review, meeting time.Time) store.Registration {
		return store.Registration{ID: id, Kind: "deal", Partner: partner, Member: member, CompanyName: "Globex " + id, NormalizedName: "globex " + id,
			CompanyKey: "name:globex " + id, ContactEmail: "j@globex.example", Channel: "api", Status: status, SubmittedAt: start.Add(-72 * time.Hour),
			ReviewDue: review, MeetingDue: meeting, UpdatedAt: start, History: []store.Transition{{To: store.RegSubmitted, At: start.Add(-72 * time.Hour)}}}
	}
	if err := f.st.ImportRegistrations(ctx, []store.Registration{
		reg("R-OVERDUE1", "p1", "", store.RegSubmitted, start.Add(-time.Hour), time.Time{}),
		reg("R-INTIME01", "p1", "", store.RegSubmitted, start.Add(time.Hour), time.Time{}),
		reg("R-MEETING1", "p2", "m2", store.RegApproved, start.Add(-48*time.Hour), start.Add(24*time.Hour)),
		reg("R-MEETING2", "p1", "m1", store.RegApproved, start.Add(-48*time.Hour), start.Add(10*24*time.Hour)),
	}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if n, err := f.n.EnqueueSLAWarnings(ctx, start); err != nil || n != 2 {
			t.Fatalf("EnqueueSLAWarnings = %d, %v; want 2", n, err)
		}
	}
	f.deliverAfter(time.Minute)
	got := map[string]parsed{}
	for _, r := range f.smtp.messages() {
		got[r.to[0]] = parse(t, r.data)
	}
	if len(got) != 2 {
		t.Fatalf("mails to %v", got)
	}
	if m := got["channel-team@acme.example"]; m.subject != "[R-OVERDUE1] review overdue" {
		t.Errorf("team mail %q", m.subject)
	}
	if m := got["juergen@beta.example"]; m.subject != "[R-MEETING1] erster Termin bald fällig, sonst endet der Schutz" ||
		!strings.Contains(m.text, "Registrierung R-MEETING1 von Globex R-MEETING1") {
		t.Errorf("partner mail %q\n%s", m.subject, m.text)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "R-OVERDUE1") {
		t.Errorf("team Slack posts %+v", posts)
	}
}

func TestDigestJobSkipsAWeekItWouldSendLate(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	job := f.n.DigestJob()
	f.clock.set(start.AddDate(0, 0, 3)) // Thursday
	if err := job.Run(ctx, job.Period(f.clock.now())); err != nil {
		t.Fatal(err)
	}
	if ns, _ := f.st.ListNotifications(ctx, store.NotificationFilter{}); len(ns) != 0 {
		t.Fatalf("a Thursday start enqueued %d digests", len(ns))
	}
	f.clock.set(start.AddDate(0, 0, 7).Add(time.Hour)) // next Monday, 10:00 UTC
	if err := job.Run(ctx, job.Period(f.clock.now())); err != nil {
		t.Fatal(err)
	}
	if ns, _ := f.st.ListNotifications(ctx, store.NotificationFilter{}); len(ns) != 4 {
		t.Fatalf("Monday enqueued %d digests; want 4", len(ns))
	}
}

func TestConflictOutcomeIsToldToBothPartners(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	f.n.Watch(ctx)
	reg := func(id, partner, member, status string) store.Registration {
		return store.Registration{ID: id, Kind: "deal", Partner: partner, Member: member, CompanyName: "Globex GmbH", NormalizedName: "globex",
			CompanyKey: "globex.com", ContactEmail: "j@globex.com", Channel: "api", Status: status, SubmittedAt: start, ReviewDue: start.Add(48 * time.Hour),
			UpdatedAt: start, History: []store.Transition{{To: store.RegSubmitted, At: start}}}
	}
	if err := f.st.ImportRegistrations(ctx, []store.Registration{reg("R-WINNER01", "p1", "m1", store.RegSubmitted), reg("R-LOSER001", "p2", "m2", store.RegDeclined)}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.ImportConflicts(ctx, []store.Conflict{{First: "R-WINNER01", Second: "R-LOSER001", CreatedAt: start, Winner: "R-WINNER01",
		Reason: "first_submitted: registered first", DecidedBy: "policy", DecidedAt: start}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Ingest(ctx, []*service.Incoming{{Event: rung.Event{ID: "registration:R-LOSER001:declined", Type: "registration.declined",
		Partner: "p2", Member: "m2", OccurredAt: start, Source: "registration",
		Attrs: map[string]any{"registration": "R-LOSER001", "company": "globex", "reason": "conflict: first_submitted: registered first"}}}}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.n.Watch(ctx); err != nil || n != 2 {
		t.Fatalf("Watch = %d, %v; want the decline and the win", n, err)
	}
	f.deliverAfter(time.Minute)
	got := map[string]parsed{}
	for _, r := range f.smtp.messages() {
		got[r.to[0]] = parse(t, r.data)
	}
	if m := got["ann@alpha.example"]; m.subject != "[R-WINNER01] Globex GmbH: confirmed: a conflicting registration of the company was settled in your favour" ||
		strings.Contains(m.text, "R-LOSER001") || strings.Contains(m.text, "Beta") {
		t.Errorf("the winner's mail %q\n%s", m.subject, m.text)
	}
	if m := got["juergen@beta.example"]; m.subject != "[R-LOSER001] Globex GmbH: abgelehnt" || !strings.Contains(m.text, "Grund: conflict: first_submitted") ||
		strings.Contains(m.text, "R-WINNER01") || strings.Contains(m.text, "Alpha") {
		t.Errorf("the loser's mail %q\n%s", m.subject, m.text)
	}
}

func TestOnlyTheLeaderDelivers(t *testing.T) {
	f := newFixture(t, Options{})
	f.enqueue(Trigger{ID: "level:m1:Pro", Kind: KindLevel, Member: "m1", Data: map[string]any{"level": "Pro"}})
	f.clock.add(time.Minute)
	// A follower runs the loop: it never delivers.
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	f.n.Run(ctx, func() bool {
		calls++
		if calls == 3 {
			cancel()
		}
		return false
	}, time.Millisecond)
	if got := f.smtp.messages(); len(got) != 0 {
		t.Fatalf("a follower sent %d messages", len(got))
	}
	// Leading for one round, then losing the lead.
	ctx, cancel = context.WithCancel(context.Background())
	calls = 0
	f.n.Run(ctx, func() bool {
		calls++
		if calls == 2 {
			cancel()
			return false
		}
		return true
	}, time.Millisecond)
	if got := f.smtp.messages(); len(got) != 1 {
		t.Fatalf("the leader sent %d messages; want 1", len(got))
	}
}

// TestUnsubscribeTokenRefusesEveryOtherSpelling changes each character of
// a token's MAC in turn, to every other base64url character, and checks
// none of the results is accepted — not even one that decodes to the same
// bytes through bits a lenient decoder ignores.
func TestUnsubscribeTokenRefusesEveryOtherSpelling(t *testing.T) {
	key := []byte("k3y")
	tok := UnsubscribeToken(key, "m1", "email:badge")
	if m, s, err := ParseUnsubscribeToken(key, tok); err != nil || m != "m1" || s != "email:badge" {
		t.Fatalf("the token itself: %q %q %v", m, s, err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	dot := strings.IndexByte(tok, '.')
	for i := dot + 1; i < len(tok); i++ {
		for _, c := range alphabet {
			if byte(c) == tok[i] {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			if _, _, err := ParseUnsubscribeToken(key, bad); err == nil {
				t.Fatalf("accepted %q (character %d changed to %c)", bad, i, c)
			}
		}
	}
}
