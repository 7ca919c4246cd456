package notify

import (
	"strings"
	"testing"
)

func FuzzParseSMTP(f *testing.F) {
	for _, s := range []string{"smtp://mail.example.com", "smtp://u:p@h:25?starttls=none", "smtps://a:b@h", "smtp://h?starttls=require",
		"smtp://[::1]:587", "smtp://%zz@h", "smtp://h:0", "smtp://h?starttls=optional&starttls=none", "mailto:x@y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := ParseSMTP(raw)
		if err != nil {
			if s != nil {
				t.Fatal("a relay and an error")
			}
			return
		}
		if s.Host == "" || s.Port < 1 || s.Port > 65535 {
			t.Fatalf("accepted %q as %+v", raw, s)
		}
		switch s.TLS {
		case "starttls", "require", "none", "implicit":
		default:
			t.Fatalf("tls %q", s.TLS)
		}
		if s.Pass != "" && len(s.Pass) > 3 && strings.Contains(s.String(), s.Pass) {
			t.Fatalf("String shows the password: %s", s)
		}
	})
}

func FuzzParseUnsubscribeToken(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	f.Add(UnsubscribeToken(key, "m1", "email:badge"))
	f.Add(UnsubscribeToken(key, "member with spaces", "email:*"))
	f.Add(UnsubscribeToken([]byte("another key, sixteen+"), "m1", "email:*"))
	f.Add("bTEKZW1haWw6Kg.")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		member, scope, err := ParseUnsubscribeToken(key, tok)
		if err != nil {
			return
		}
		// Whatever parses was signed with the key: signing it again gives
		// a token that parses the same.
		if member == "" || !strings.HasPrefix(scope, "email:") {
			t.Fatalf("accepted %q as %q %q", tok, member, scope)
		}
		again := UnsubscribeToken(key, member, scope)
		if m2, s2, err := ParseUnsubscribeToken(key, again); err != nil || m2 != member || s2 != scope {
			t.Fatalf("round trip of %q %q: %q %q %v", member, scope, m2, s2, err)
		}
	})
}

func FuzzReadMail(f *testing.F) {
	m := Mail{From: "a@b.example", To: "c@d.example", Subject: "Grüße", Text: "hi", HTML: "<p>hi</p>", Unsubscribe: "https://x/u"}
	raw, _ := m.Bytes()
	f.Add(raw)
	f.Add([]byte("Subject: x\r\n\r\nbody"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ReadMail(raw) // must not panic or hang
	})
}
