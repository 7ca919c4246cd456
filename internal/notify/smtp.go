package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
)

// SMTP sends mail to an SMTP server: the relay of `rung serve --smtp`.
type SMTP struct {
	Host string
	Port int
	User string // with Pass: AUTH PLAIN, only over TLS or to localhost
	Pass string
	// TLS is how the connection is secured: "starttls" (upgrade when the
	// server offers it; the default), "require" (refuse a server that does
	// not), "none" (never), or "implicit" (TLS from the first byte, the
	// smtps:// scheme, usually port 465).
	TLS string
	// TLSConfig overrides the TLS settings (tests trust their own CA).
	TLSConfig *tls.Config
	// Timeout bounds one delivery (30 s when 0).
	Timeout time.Duration
}

// ParseSMTP reads an SMTP URL: smtp://user:pass@host:port (STARTTLS when
// offered), with ?starttls=require or ?starttls=none, or
// smtps://user:pass@host:port for implicit TLS. The port defaults to 587
// (smtp) or 465 (smtps). User and password are URL-encoded.
func ParseSMTP(raw string) (*SMTP, error) {
	bad := func(why string) error {
		return rung.Errorf(rung.EINVALID, "--smtp %q: %s; use smtp://user:password@host:587 (add ?starttls=require to insist on TLS) or smtps://user:password@host:465", redactURL(raw), why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("not a URL")
	}
	s := &SMTP{Host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		s.Port, s.TLS = 587, "starttls"
	case "smtps":
		s.Port, s.TLS = 465, "implicit"
	default:
		return nil, bad("the scheme must be smtp or smtps")
	}
	if s.Host == "" {
		return nil, bad("it names no host")
	}
	if strings.ContainsAny(s.Host, " \r\n/") {
		return nil, bad("the host is not valid")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, bad("the port is not a number from 1 to 65535")
		}
		s.Port = n
	}
	if u.User != nil {
		s.User = u.User.Username()
		s.Pass, _ = u.User.Password()
	}
	if u.Path != "" && u.Path != "/" {
		return nil, bad("it must not have a path")
	}
	q := u.Query()
	for k := range q {
		if k != "starttls" {
			return nil, bad(fmt.Sprintf("unknown parameter %q (only starttls)", k))
		}
	}
	if v := q.Get("starttls"); v != "" {
		if u.Scheme == "smtps" {
			return nil, bad("starttls does not apply to smtps")
		}
		switch v {
		case "require", "none":
			s.TLS = v
		case "optional":
			s.TLS = "starttls"
		default:
			return nil, bad("starttls must be require, optional or none")
		}
	}
	return s, nil
}

// String describes the relay with the password masked.
func (s *SMTP) String() string {
	user := ""
	if s.User != "" {
		user = s.User + ":***@"
	}
	return fmt.Sprintf("smtp://%s%s (tls %s)", user, net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), s.TLS)
}

// redactURL hides the password of a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			return "***" + raw[i:]
		}
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	return u.String()
}

// Send delivers one message through the relay.
func (s *SMTP) Send(ctx context.Context, from string, to []string, msg []byte) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	tc := s.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: s.Host}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if s.TLS == "implicit" {
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("smtp %s: tls: %w", addr, err)
		}
		conn = tconn
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	defer c.Close()
	if s.TLS == "starttls" || s.TLS == "require" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tc); err != nil {
				return fmt.Errorf("smtp %s: starttls: %w", addr, err)
			}
		} else if s.TLS == "require" {
			return fmt.Errorf("smtp %s: the server does not offer STARTTLS, and starttls=require", addr)
		}
	}
	if s.User != "" {
		if err := c.Auth(smtp.PlainAuth("", s.User, s.Pass, s.Host)); err != nil {
			return fmt.Errorf("smtp %s: auth: %w", addr, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM: %w", addr, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("smtp %s: RCPT TO %s: %w", addr, rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", addr, err)
	}
	return c.Quit()
}
