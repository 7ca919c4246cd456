package registration

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"github.com/rung-dev/rung"
)

// Email is an inbound message reduced to what registration needs.
type Email struct {
	From      string // the sender's address
	Subject   string
	MessageID string
	Text      string // the plain-text body (HTML stripped when there is none)
}

// maxEmail bounds what ParseEmail reads of a message.
const maxEmail = 4 << 20

// ParseEmail reads a raw RFC 5322 message: its sender, subject and plain
// text, decoding MIME multiparts (text/plain preferred over text/html),
// quoted-printable and base64.
func ParseEmail(raw []byte) (Email, error) {
	if len(raw) > maxEmail {
		return Email{}, rung.Errorf(rung.ETOOLARGE, "the message is larger than 4 MiB")
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Email{}, rung.Errorf(rung.EINVALID, "the message is not RFC 5322: %v", err)
	}
	var e Email
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil {
		return e, rung.Errorf(rung.EINVALID, "the message has no valid From address")
	}
	e.From = strings.ToLower(from.Address)
	dec := new(mime.WordDecoder)
	if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		e.Subject = s
	} else {
		e.Subject = msg.Header.Get("Subject")
	}
	e.MessageID = msg.Header.Get("Message-Id")
	plain, htm, err := bodyText(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	if err != nil {
		return e, rung.Errorf(rung.EINVALID, "the message body cannot be read: %v", err)
	}
	e.Text = plain
	if strings.TrimSpace(e.Text) == "" {
		e.Text = StripHTML(htm)
	}
	return e, nil
}

// bodyText returns the first text/plain and text/html parts of a body.
func bodyText(ctype, cte string, body io.Reader, depth int) (plain, htm string, err error) {
	if depth > 10 {
		return "", "", fmt.Errorf("MIME parts nested too deep")
	}
	media, params, perr := mime.ParseMediaType(ctype)
	if ctype == "" || perr != nil {
		media = "text/plain"
	}
	if strings.HasPrefix(media, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			return "", "", fmt.Errorf("a multipart body without a boundary")
		}
		mr := multipart.NewReader(body, boundary)
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return plain, htm, nil
			}
			if err != nil {
				return plain, htm, err
			}
			if strings.HasPrefix(strings.ToLower(p.Header.Get("Content-Disposition")), "attachment") {
				continue
			}
			pl, h, err := bodyText(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
			if err != nil {
				return plain, htm, err
			}
			if plain == "" {
				plain = pl
			}
			if htm == "" {
				htm = h
			}
		}
	}
	if media != "text/plain" && media != "text/html" {
		return "", "", nil
	}
	var r io.Reader = io.LimitReader(body, maxEmail)
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &newlineSkipper{r: r})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", "", err
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if cs := strings.ToLower(params["charset"]); cs == "iso-8859-1" || cs == "latin1" || cs == "windows-1252" {
		s = latin1(b)
	}
	if media == "text/html" {
		return "", s, nil
	}
	return s, "", nil
}

// newlineSkipper drops the line breaks of a base64 body.
type newlineSkipper struct{ r io.Reader }

func (n *newlineSkipper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

func latin1(b []byte) string {
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

var (
	tagRE   = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)
	breakRE = regexp.MustCompile(`(?i)<(br|/p|/div|/li|/tr|/h[1-6])[^>]*>`)
)

// StripHTML turns an HTML body into plain lines.
func StripHTML(s string) string {
	s = breakRE.ReplaceAllString(s, "\n$0")
	return html.UnescapeString(tagRE.ReplaceAllString(s, ""))
}

// Fields reads "Key: value" lines from a message body (case-insensitive
// keys, first occurrence wins), stopping at a quoted reply or a signature
// delimiter.
func Fields(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "--" || strings.HasPrefix(line, ">") || strings.HasPrefix(line, "-----Original Message") {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.Join(strings.Fields(strings.Trim(k, "*_ ")), " "))
		v = strings.TrimSpace(strings.Trim(strings.TrimSpace(v), "*_"))
		if k == "" || len(k) > 30 || v == "" {
			continue
		}
		if _, seen := out[k]; !seen {
			out[k] = v
		}
	}
	return out
}

// InputFromEmail reads a registration from a message's fields: Company
// (required), Domain, Contact ("Name <address>" or an address; also
// Contact e-mail / Email and Contact name), Kind, Amount, Notes, Region,
// Product, Partner, Consent. It reports what is missing or wrong.
func InputFromEmail(e Email) (Input, []string) {
	f := Fields(e.Text)
	get := func(keys ...string) string {
		for _, k := range keys {
			if v := f[k]; v != "" {
				return v
			}
		}
		return ""
	}
	in := Input{
		Kind: strings.ToLower(get("kind", "type")), Partner: get("partner"),
		CompanyName: get("company", "company name", "customer", "account"), CompanyDomain: get("domain", "website", "web", "company domain"),
		Notes: get("notes", "note", "comments"), Region: get("region"), Product: get("product"), Channel: "email", By: e.From,
	}
	var problems []string
	contact := get("contact", "contact email", "contact e-mail", "email", "e-mail")
	if contact != "" {
		if a, err := mail.ParseAddress(contact); err == nil {
			in.ContactEmail, in.ContactName = a.Address, a.Name
		} else {
			in.ContactEmail = contact
		}
	}
	if n := get("contact name", "name"); n != "" && in.ContactName == "" {
		in.ContactName = n
	}
	if in.CompanyName == "" {
		problems = append(problems, `a "Company:" line with the customer company's name`)
	}
	if in.ContactEmail == "" {
		problems = append(problems, `a "Contact:" line with the contact's e-mail address, such as "Contact: Jane Doe <jane@globex.com>"`)
	}
	if a := get("amount", "value", "deal size"); a != "" {
		clean := strings.NewReplacer(",", "", "$", "", "€", "", "£", "", " ", "").Replace(a)
		if v, err := strconv.ParseFloat(clean, 64); err == nil && v >= 0 {
			in.Amount = v
		} else {
			problems = append(problems, fmt.Sprintf("an amount that is a number (%q is not)", a))
		}
	}
	if c := strings.ToLower(get("consent")); c != "" {
		yes := c == "yes" || c == "y" || c == "true" || c == "ja" || c == "oui"
		in.Consent = &yes
	}
	return in, problems
}

// EmailFromForm reads the multipart form that inbound-parse services post
// (SendGrid: from, subject, text, html, email; Mailgun: sender, from,
// subject, body-plain, stripped-text, body-html). A raw message in "email"
// is parsed whole.
func EmailFromForm(get func(string) string) (Email, error) {
	if raw := get("email"); strings.Contains(raw, "\n") {
		return ParseEmail([]byte(raw))
	}
	var e Email
	from := get("sender")
	if from == "" {
		from = get("from")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return e, rung.Errorf(rung.EINVALID, "the form has no valid sender address (from or sender)")
	}
	e.From, e.Subject = strings.ToLower(a.Address), get("subject")
	for _, k := range []string{"stripped-text", "body-plain", "text"} {
		if v := get(k); strings.TrimSpace(v) != "" {
			e.Text = v
			break
		}
	}
	if e.Text == "" {
		for _, k := range []string{"body-html", "html"} {
			if v := get(k); v != "" {
				e.Text = StripHTML(v)
				break
			}
		}
	}
	return e, nil
}

// ReplyText is the new text of a reply: the lines before the quoted
// message, the "On ... wrote:" line or a signature.
func ReplyText(text string) string {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(line)
		if t == "--" || strings.HasPrefix(t, ">") || strings.HasPrefix(t, "-----Original Message") ||
			strings.HasPrefix(t, "On ") && strings.HasSuffix(t, "wrote:") || strings.HasPrefix(t, "Am ") && strings.HasSuffix(t, "schrieb:") {
			break
		}
		out = append(out, line)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
