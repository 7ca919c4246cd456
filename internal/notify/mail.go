package notify

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed templates/mail.html templates/mail.txt
var templateFiles embed.FS

var (
	htmlMail = htmltemplate.Must(htmltemplate.ParseFS(templateFiles, "templates/mail.html"))
	textMail = texttemplate.Must(texttemplate.ParseFS(templateFiles, "templates/mail.txt"))
)

// Item is one notification as a message shows it.
type Item struct {
	Kind     string
	Title    string
	Line     string
	Link     string // a button under the line, when set
	LinkText string
	Digest   *DigestView // the weekly standings, for a digest
}

// letter is what the mail templates fill in.
type letter struct {
	Lang            string
	Subject         string
	Items           []Item
	Unsubscribe     string
	UnsubscribeText string
	W               map[string]string
}

// Mail is a message ready to send.
type Mail struct {
	From    string // an address, possibly with a name
	To      string
	Subject string
	Lang    string
	Text    string
	HTML    string
	// Unsubscribe is the one-click unsubscribe URL ("" for messages one
	// cannot unsubscribe from, such as sign-in links).
	Unsubscribe string
	MessageID   string // without angle brackets; made up when empty
	Date        time.Time
	InReplyTo   string // the Message-ID answered, with its angle brackets
}

// render fills the templates for items in a language.
func render(l, subject string, items []Item, unsubscribe, unsubscribeText string) (text, html string, err error) {
	lt := letter{Lang: lang(l), Subject: subject, Items: items, Unsubscribe: unsubscribe, UnsubscribeText: unsubscribeText, W: words[lang(l)]}
	var t, h bytes.Buffer
	if err := textMail.Execute(&t, lt); err != nil {
		return "", "", fmt.Errorf("render text mail: %w", err)
	}
	if err := htmlMail.Execute(&h, lt); err != nil {
		return "", "", fmt.Errorf("render html mail: %w", err)
	}
	return t.String(), h.String(), nil
}

// oneLine removes line breaks, so a value cannot add a header.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

// Bytes returns the message in RFC 5322 form: headers (Subject encoded as
// RFC 2047 when not ASCII, Message-ID, Date, List-Unsubscribe with
// List-Unsubscribe-Post for one-click) and a multipart/alternative body
// with a text and an HTML part, both quoted-printable UTF-8.
func (m Mail) Bytes() ([]byte, error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("sender %q: %w", m.From, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	if m.MessageID == "" {
		b := make([]byte, 12)
		rand.Read(b)
		_, host, _ := strings.Cut(from.Address, "@")
		m.MessageID = hex.EncodeToString(b) + "@" + host
	}
	if m.Date.IsZero() {
		m.Date = time.Now()
	}
	bnd := make([]byte, 12)
	rand.Read(bnd)
	boundary := "rung-" + hex.EncodeToString(bnd)
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", textproto.CanonicalMIMEHeaderKey(k), v) }
	h("From", from.String())
	h("To", to.String())
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	h("Date", m.Date.Format(time.RFC1123Z))
	b.WriteString("Message-ID: <" + oneLine(m.MessageID) + ">\r\n")
	if id := oneLine(m.InReplyTo); strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") {
		h("In-Reply-To", id)
		h("References", id)
	}
	h("MIME-Version", "1.0")
	h("Content-Language", lang(m.Lang))
	h("Auto-Submitted", "auto-generated")
	if m.Unsubscribe != "" {
		h("List-Unsubscribe", "<"+oneLine(m.Unsubscribe)+">")
		h("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	part := func(ctype, body string) error {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, ctype)
		w := quotedprintable.NewWriter(&b)
		if _, err := w.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		b.WriteString("\r\n")
		return nil
	}
	if err := part("text/plain", m.Text); err != nil {
		return nil, err
	}
	if err := part("text/html", m.HTML); err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes(), nil
}
