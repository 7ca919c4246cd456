package notify

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"sync"
	"time"
)

// Mailbox is a Sender that keeps the messages it is given in memory
// instead of sending them: the demo's mailbox, shown in the console. It
// keeps the newest Keep messages (200 when 0).
type Mailbox struct {
	Keep int

	mu   sync.Mutex
	mail []Captured
	seq  int
}

// Captured is a message a Mailbox holds, parsed back from what was sent.
type Captured struct {
	N       int
	At      time.Time
	From    string
	To      []string
	Subject string
	Text    string
	HTML    string
	Raw     []byte
}

// Send keeps the message.
func (b *Mailbox) Send(_ context.Context, from string, to []string, msg []byte) error {
	c := Captured{At: time.Now().UTC(), From: from, To: append([]string(nil), to...), Raw: append([]byte(nil), msg...)}
	c.Subject, c.Text, c.HTML = ReadMail(msg)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	c.N = b.seq
	keep := b.Keep
	if keep <= 0 {
		keep = 200
	}
	b.mail = append(b.mail, c)
	if len(b.mail) > keep {
		b.mail = append([]Captured(nil), b.mail[len(b.mail)-keep:]...)
	}
	return nil
}

// Messages returns the kept messages, newest first.
func (b *Mailbox) Messages() []Captured {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Captured, len(b.mail))
	for i, c := range b.mail {
		out[len(b.mail)-1-i] = c
	}
	return out
}

// Message returns a kept message by its number.
func (b *Mailbox) Message(n int) (Captured, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.mail {
		if c.N == n {
			return c, true
		}
	}
	return Captured{}, false
}

// ReadMail reads back the subject and the text and HTML parts of a
// message such as Mail.Bytes writes; what it cannot read stays empty.
func ReadMail(raw []byte) (subject, text, html string) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", "", ""
	}
	dec := new(mime.WordDecoder)
	subject, err = dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	media, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(media, "multipart/") {
		b, _ := io.ReadAll(io.LimitReader(msg.Body, 1<<20))
		return subject, string(b), ""
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(p)
		}
		b, _ := io.ReadAll(io.LimitReader(r, 1<<20))
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = strings.ReplaceAll(string(b), "\r\n", "\n")
		case "text/html":
			html = strings.ReplaceAll(string(b), "\r\n", "\n")
		}
	}
	return subject, text, html
}
