package registration

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

// The example of Slack's documentation, "Verifying requests from Slack".
const (
	slackSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	slackTimestamp = "1531420618"
	slackBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestVerifySlackAgainstTheDocumentedExample(t *testing.T) {
	at := time.Unix(1531420618, 0).Add(30 * time.Second)
	if err := VerifySlack(slackSecret, slackTimestamp, slackSignature, []byte(slackBody), at); err != nil {
		t.Fatalf("the documented example does not verify: %v", err)
	}
	tests := []struct {
		name, secret, ts, sig, body string
		at                          time.Time
	}{
		{"another secret", "x" + slackSecret[1:], slackTimestamp, slackSignature, slackBody, at},
		{"a changed body", slackSecret, slackTimestamp, slackSignature, slackBody + "&x=1", at},
		{"a changed timestamp", slackSecret, "1531420619", slackSignature, slackBody, at},
		{"older than 5 minutes", slackSecret, slackTimestamp, slackSignature, slackBody, time.Unix(1531420618, 0).Add(5*time.Minute + time.Second)},
		{"from the future", slackSecret, slackTimestamp, slackSignature, slackBody, time.Unix(1531420618, 0).Add(-6 * time.Minute)},
		{"no v0 prefix", slackSecret, slackTimestamp, strings.TrimPrefix(slackSignature, "v0="), slackBody, at},
		{"not hex", slackSecret, slackTimestamp, "v0=zz", slackBody, at},
		{"no timestamp", slackSecret, "", slackSignature, slackBody, at},
	}
	for _, tt := range tests {
		if err := VerifySlack(tt.secret, tt.ts, tt.sig, []byte(tt.body), tt.at); rung.ErrorCode(err) != rung.EUNAUTHORIZED {
			t.Errorf("%s: %v, want EUNAUTHORIZED", tt.name, err)
		}
	}
	if err := VerifySlack("", slackTimestamp, slackSignature, []byte(slackBody), at); rung.ErrorCode(err) != rung.EUNAVAILABLE {
		t.Errorf("without a secret: %v", err)
	}
}

func TestParseSlackText(t *testing.T) {
	in, err := ParseSlackText("deal Globex, globex.com, jane@globex.com, 40 seats, maybe 60")
	if err != nil || in.Kind != KindDeal || in.CompanyName != "Globex" || in.CompanyDomain != "globex.com" ||
		in.ContactEmail != "jane@globex.com" || in.Notes != "40 seats, maybe 60" {
		t.Fatalf("ParseSlackText = %+v, %v", in, err)
	}
	for _, bad := range []string{"", "help", "Globex", "Globex, globex.com"} {
		if _, err := ParseSlackText(bad); err == nil || !strings.Contains(rung.ErrorMessage(err), "/register") {
			t.Errorf("ParseSlackText(%q) = %v, want the usage", bad, err)
		}
	}
}

const rawEmail = "From: Ann Partner <ann@alpha.com>\r\n" +
	"To: register@vendor.example\r\n" +
	"Subject: =?UTF-8?Q?Registrierung_M=C3=BCller?=\r\n" +
	"Message-ID: <1@alpha.com>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Hi team,\r\n\r\n" +
	"Company: M=C3=BCller GmbH\r\n" +
	"Domain: www.mueller-maschinen.de\r\n" +
	"Contact: Jens M=C3=BCller <jens@mueller-maschinen.de>\r\n" +
	"Kind: deal\r\n" +
	"Amount: 25,000\r\n" +
	"Notes: Two plants, decision in March\r\n" +
	"\r\n" +
	"-- \r\n" +
	"Ann | Alpha Consulting\r\n" +
	"Company: Alpha Consulting\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"\r\n" +
	"<p>Company: Wrong</p>\r\n" +
	"--b1--\r\n"

func TestParseEmailReadsFieldsFromThePlainPart(t *testing.T) {
	e, err := ParseEmail([]byte(rawEmail))
	if err != nil {
		t.Fatal(err)
	}
	if e.From != "ann@alpha.com" || e.Subject != "Registrierung Müller" {
		t.Fatalf("email = %+v", e)
	}
	in, problems := InputFromEmail(e)
	if len(problems) != 0 || in.CompanyName != "Müller GmbH" || in.CompanyDomain != "www.mueller-maschinen.de" ||
		in.ContactEmail != "jens@mueller-maschinen.de" || in.ContactName != "Jens Müller" || in.Kind != "deal" || in.Amount != 25000 ||
		in.Notes != "Two plants, decision in March" {
		t.Fatalf("input = %+v, problems %v", in, problems)
	}
}

func TestParseEmailHTMLOnlyAndBase64(t *testing.T) {
	raw := "From: bob@beta.de\r\nSubject: reg\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"PHA+Q29tcGFueTogR2xvYmV4PC9wPjxwPkNvbnRhY3Q6IGphbmVAZ2xvYmV4LmNvbTwvcD4=\r\n"
	e, err := ParseEmail([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	in, problems := InputFromEmail(e)
	if len(problems) != 0 || in.CompanyName != "Globex" || in.ContactEmail != "jane@globex.com" {
		t.Fatalf("input = %+v, %v (text %q)", in, problems, e.Text)
	}
}

func TestInputFromEmailSaysWhatIsMissing(t *testing.T) {
	in, problems := InputFromEmail(Email{From: "a@alpha.com", Text: "Domain: globex.com\nAmount: lots\n"})
	if len(problems) != 3 || !strings.Contains(problems[0], "Company:") || !strings.Contains(problems[1], "Contact:") || !strings.Contains(problems[2], "amount") {
		t.Fatalf("problems = %q (input %+v)", problems, in)
	}
	if _, err := ParseEmail([]byte("no headers at all")); err == nil {
		t.Fatal("a message without headers was read")
	}
	if _, err := ParseEmail([]byte("From: nobody\r\n\r\nbody")); err == nil {
		t.Fatal("a message without a valid From was read")
	}
}

func TestEmailFromFormOfInboundParseServices(t *testing.T) {
	sendgrid := map[string]string{"from": "Ann <ann@alpha.com>", "subject": "Reg", "text": "Company: Globex\nContact: jane@globex.com"}
	e, err := EmailFromForm(func(k string) string { return sendgrid[k] })
	if err != nil || e.From != "ann@alpha.com" || !strings.Contains(e.Text, "Globex") {
		t.Fatalf("sendgrid = %+v, %v", e, err)
	}
	mailgun := map[string]string{"sender": "ann@alpha.com", "from": "Ann <x@y.z>", "body-html": "<div>Company: Hooli</div><div>Contact: g@hooli.xyz</div>"}
	e, err = EmailFromForm(func(k string) string { return mailgun[k] })
	in, problems := InputFromEmail(e)
	if err != nil || e.From != "ann@alpha.com" || in.CompanyName != "Hooli" || len(problems) != 0 {
		t.Fatalf("mailgun = %+v, %v, %+v %v", e, err, in, problems)
	}
	raw := map[string]string{"email": rawEmail}
	if e, err = EmailFromForm(func(k string) string { return raw[k] }); err != nil || e.From != "ann@alpha.com" {
		t.Fatalf("raw in a form = %+v, %v", e, err)
	}
}

func TestReadCSV(t *testing.T) {
	file := "\uFEFFCompany,Domain,Contact_Email,partner,amount,consent\n" +
		"Globex,globex.com,jane@globex.com,p1,100,yes\n" +
		"\n" +
		"Initech,initech.com,bill@initech.com,p1,lots,\n" +
		"Hooli,hooli.xyz\n" +
		"\"Acme, Inc.\",acme.com,wile@acme.com,p2,,no\n"
	rows, err := ReadCSV(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("rows = %+v", rows)
	}
	if r := rows[0]; r.Line != 2 || r.Err != "" || r.Input.CompanyName != "Globex" || r.Input.Amount != 100 || r.Input.Consent == nil || !*r.Input.Consent {
		t.Errorf("row 0 = %+v", r)
	}
	if r := rows[1]; r.Line != 4 || !strings.Contains(r.Err, "amount") {
		t.Errorf("row 1 = %+v", r)
	}
	if r := rows[2]; r.Line != 5 || !strings.Contains(r.Err, "2 fields") {
		t.Errorf("row 2 = %+v", r)
	}
	if r := rows[3]; r.Input.CompanyName != "Acme, Inc." || r.Input.Consent == nil || *r.Input.Consent {
		t.Errorf("row 3 = %+v", r)
	}
	for _, bad := range []string{"", "company,colour\nx,y\n", "company,company\n"} {
		if _, err := ReadCSV(strings.NewReader(bad)); rung.ErrorCode(err) != rung.EINVALID {
			t.Errorf("ReadCSV(%q) = %v, want EINVALID", bad, err)
		}
	}
	var buf bytes.Buffer
	WriteResultsCSV(&buf, []RowResult{{Line: 2, Status: "rejected", Error: "=cmd()"}})
	if !strings.Contains(buf.String(), "'=cmd()") {
		t.Errorf("a formula was not defused: %s", buf.String())
	}
}

func FuzzParseEmail(f *testing.F) {
	f.Add([]byte(rawEmail))
	f.Add([]byte("From: a@b.com\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n--y\r\n\r\nCompany: A\r\n--y--\r\n--x--\r\n"))
	f.Add([]byte("From: a@b.com\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := ParseEmail(raw)
		if err != nil {
			return
		}
		if e.From == "" || !strings.Contains(e.From, "@") {
			t.Fatalf("parsed a message without a sender: %+v", e)
		}
		in, problems := InputFromEmail(e)
		if len(problems) == 0 && (in.CompanyName == "" || in.ContactEmail == "") {
			t.Fatalf("no problems reported for %+v", in)
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add("company,domain,contact_email\nGlobex,globex.com,jane@globex.com\n")
	f.Add("company,notes\n\"a\"\"b\",\"x\ny\"\n")
	f.Add("company\n\"unterminated\n")
	f.Fuzz(func(t *testing.T, s string) {
		rows, err := ReadCSV(strings.NewReader(s))
		if err != nil {
			if rung.ErrorCode(err) == rung.EINTERNAL {
				t.Fatalf("ReadCSV: an internal error: %v", err)
			}
			return
		}
		last := 1
		for _, r := range rows {
			if r.Line <= 1 || r.Line < last {
				t.Fatalf("row lines out of order: %+v", rows)
			}
			last = r.Line
		}
	})
}

func FuzzParseSlackText(f *testing.F) {
	f.Add("deal Globex, globex.com, jane@globex.com, notes")
	f.Fuzz(func(t *testing.T, s string) {
		in, err := ParseSlackText(s)
		if err == nil && (in.CompanyName == "" && in.CompanyDomain == "" && in.ContactEmail == "" && strings.Count(s, ",") < 2) {
			t.Fatalf("ParseSlackText(%q) = %+v", s, in)
		}
	})
}
