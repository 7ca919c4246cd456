package api

import (
	"strings"
	"testing"

	"github.com/rung-dev/rung/internal/notify"
)

func TestInboundEmailIsAnsweredByEmail(t *testing.T) {
	c := regServer(t)
	box := &notify.Mailbox{}
	c.api.WithReplies(notify.New(c.svc, notify.Options{Mail: box, From: "Registrations <deals@vendor.example>"}))
	raw := "From: Gavin <gavin@hooli.xyz>\r\nSubject: New deal\r\nMessage-ID: <abc@hooli.xyz>\r\n\r\nCompany: Pied Piper Inc.\r\nDomain: piedpiper.com\r\nContact: Richard <richard@piedpiper.com>\r\n"
	_, out := c.email("message/rfc822", raw)
	if out["sent"] != true {
		t.Fatalf("reply not sent: %v", out)
	}
	_, bad := c.email("message/rfc822", "From: gavin@hooli.xyz\r\nSubject: x\r\n\r\nDomain: piedpiper.com\r\n")
	mail := box.Messages()
	if len(mail) != 2 {
		t.Fatalf("%d replies", len(mail))
	}
	ok, missing := mail[1], mail[0]
	if ok.To[0] != "gavin@hooli.xyz" || ok.Subject != out["subject"] || !strings.Contains(ok.Text, out["case"].(string)) ||
		!strings.Contains(string(ok.Raw), "In-Reply-To: <abc@hooli.xyz>") {
		t.Errorf("the accepted reply: %+v", ok)
	}
	if missing.To[0] != "gavin@hooli.xyz" || !strings.Contains(missing.Text, `"Company:"`) || missing.Text != bad["text"] {
		t.Errorf("the reply saying what is missing: %q", missing.Text)
	}
}
