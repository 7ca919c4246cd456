package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rung-dev/rung"
)

const regBody = `{"kind": "deal", "partner": "p1", "company": {"name": "Globex Corporation", "domain": "https://www.globex.com/"},
	"contact": {"name": "Jane", "email": "jane@globex.com"}, "notes": "40 seats", "amount": 48000}`

// regServer is newServer with a second partner, domains, and a Slack
// signing secret.
func regServer(t *testing.T) *client {
	t.Setenv("RUNG_SLACK_SIGNING_SECRET", "s3cret")
	c := newServer(t)
	c.do("PUT", "/api/v1/partners/p1", rung.ScopeIngest, "", `{"name": "Initech", "size": "smb", "domains": ["initech.com"]}`, 200)
	c.do("PUT", "/api/v1/partners/p2", rung.ScopeIngest, "", `{"name": "Hooli", "size": "enterprise", "domains": ["hooli.xyz"], "attrs": {"slack_team_id": "T1"}}`, 201)
	return c
}

func TestRegistrationAPIFollowsSPEC(t *testing.T) {
	c := regServer(t)
	out := c.do("POST", "/api/v1/registrations", rung.ScopeIngest, "", regBody, 201)
	id, _ := out["id"].(string)
	co, _ := out["company"].(map[string]any)
	if id == "" || out["status"] != "submitted" || out["partner"] != "p1" || co["normalized_name"] != "globex" ||
		co["registrable_domain"] != "globex.com" || co["name"] != "Globex Corporation" || out["protected_until"] != nil {
		t.Fatalf("created = %v", out)
	}
	if cs, ok := out["conflicts"].([]any); !ok || len(cs) != 0 {
		t.Fatalf("conflicts = %v", out["conflicts"])
	}
	// The same partner and company again: 200 with the existing one.
	again := c.do("POST", "/api/v1/registrations", rung.ScopeIngest, "", strings.Replace(regBody, "www.globex.com", "shop.globex.com", 1), 200)
	if again["id"] != id {
		t.Fatalf("again = %v", again)
	}
	// Another partner: a conflict, settled by first_submitted (the default).
	other := c.do("POST", "/api/v1/registrations", rung.ScopeIngest, "", strings.Replace(regBody, `"p1"`, `"p2"`, 1), 201)
	if cs := other["conflicts"].([]any); len(cs) != 1 || cs[0] != id || other["status"] != "declined" {
		t.Fatalf("the other partner's = %v", other)
	}
	c.do("GET", "/api/v1/registrations/"+id, rung.ScopeIngest, "", "", 403)
	got := c.do("GET", "/api/v1/registrations/"+id, rung.ScopeRead, "", "", 200)
	if cs := got["conflicts"].([]any); len(cs) != 1 || cs[0] != other["id"] {
		t.Fatalf("got = %v", got)
	}
	c.do("GET", "/api/v1/registrations/R-NOPE", rung.ScopeRead, "", "", 404)

	c.do("POST", "/api/v1/registrations/"+id+"/decision", rung.ScopeIngest, "", `{"decision": "approve"}`, 403)
	c.do("POST", "/api/v1/registrations/"+id+"/decision", rung.ScopeAdmin, "", `{"decision": "maybe"}`, 400)
	ap := c.do("POST", "/api/v1/registrations/"+id+"/decision", rung.ScopeAdmin, "", `{"decision": "approve"}`, 200)
	if ap["status"] != "approved" || ap["protected_until"] == nil {
		t.Fatalf("approved = %v", ap)
	}
	c.do("POST", "/api/v1/registrations/"+id+"/meeting", rung.ScopeIngest, "", "", 200)
	won := c.do("POST", "/api/v1/registrations/"+id+"/won", rung.ScopeIngest, "", `{"amount": 52000}`, 200)
	if won["status"] != "won" || won["amount"] != 52000.0 {
		t.Fatalf("won = %v", won)
	}
	c.do("POST", "/api/v1/registrations/"+id+"/lost", rung.ScopeIngest, "", `{}`, 409)
	// The win is in the log, scored by the program's deal.won rule.
	ev := c.do("GET", "/api/v1/events/registration:"+id+":won", rung.ScopeRead, "", "", 200)
	if fmt.Sprint(ev) == "" {
		t.Fatal("no event")
	}

	list := c.do("GET", "/api/v1/registrations?partner=p1&status=won", rung.ScopeRead, "", "", 200)
	if rs := list["registrations"].([]any); len(rs) != 1 {
		t.Fatalf("list = %v", list)
	}
	c.do("GET", "/api/v1/registrations?status=pending", rung.ScopeRead, "", "", 400)
	m := c.do("GET", "/api/v1/registrations/metrics?segment=size", rung.ScopeRead, "", "", 200)
	overall := m["overall"].(map[string]any)
	if overall["registrations"] != 2.0 || overall["won"] != 1.0 || overall["conflicts_settled_by_policy"] != 1.0 || m["by_size"] == nil {
		t.Fatalf("metrics = %v", m)
	}
	q := c.do("GET", "/api/v1/registrations/metrics?period=2026-Q4&partner=p1", rung.ScopeRead, "", "", 200)
	if q["overall"].(map[string]any)["registrations"] != 1.0 {
		t.Fatalf("metrics of 2026-Q4 for p1 = %v", q)
	}
	q = c.do("GET", "/api/v1/registrations/metrics?period=2025-Q4", rung.ScopeRead, "", "", 200)
	if q["overall"].(map[string]any)["registrations"] != 0.0 {
		t.Fatalf("metrics of 2025-Q4 = %v", q)
	}
	c.do("GET", "/api/v1/registrations/metrics?period=soon", rung.ScopeRead, "", "", 400)
	// as_of reads the state as it stood then (the rewinding itself is
	// tested in internal/registration): before the submission there was
	// nothing, at the clock's now everything.
	then := c.do("GET", "/api/v1/registrations/"+id+"?as_of=2026-11-20T12:00:00Z", rung.ScopeRead, "", "", 200)
	if then["status"] != "won" {
		t.Fatalf("as of now: %v", then)
	}
	if l := c.do("GET", "/api/v1/registrations?as_of=2026-01-01T00:00:00Z", rung.ScopeRead, "", "", 200); len(l["registrations"].([]any)) != 0 {
		t.Fatalf("list before any submission = %v", l)
	}
	if l := c.do("GET", "/api/v1/registrations?status=won&as_of=2026-11-20T12:00:00Z", rung.ScopeRead, "", "", 200); len(l["registrations"].([]any)) != 1 {
		t.Fatalf("list of won as of now = %v", l)
	}
	c.do("GET", "/api/v1/registrations/"+id+"?as_of=2020-01-01T00:00:00Z", rung.ScopeRead, "", "", 404)
	c.do("GET", "/api/v1/registrations/"+id+"?as_of=yesterday", rung.ScopeRead, "", "", 400)
	csv := c.raw("GET", "/api/v1/registrations/attribution.csv", rung.ScopeRead, "", "", 200)
	if !strings.Contains(csv, id+",") || !strings.Contains(csv, ",p1,") || !strings.Contains(csv, ",p2,52000") {
		t.Fatalf("attribution = %s", csv)
	}
}

func TestRegistrationBadInputNamesTheField(t *testing.T) {
	c := regServer(t)
	tests := []struct{ body, key string }{
		{`{"partner": "p1", "contact": {"email": "a@globex.com"}}`, "company.name"},
		{`{"partner": "p1", "company": {"name": "Globex"}}`, "contact.email"},
		{`{"partner": "p1", "company": {"name": "Globex"}, "contact": {"email": "nope"}}`, "contact.email"},
		{`{"partner": "p1", "company": {"name": "Globex", "domain": "co.uk"}, "contact": {"email": "a@globex.com"}}`, "company.domain"},
		{`{"partner": "p1", "company": {"name": "Globex"}, "contact": {"email": "a@globex.com"}, "consent": false}`, "consent"},
		{`{"partner": "nobody", "company": {"name": "Globex"}, "contact": {"email": "a@globex.com"}}`, "partner"},
	}
	for _, tt := range tests {
		out := c.do("POST", "/api/v1/registrations", rung.ScopeIngest, "", tt.body, 400)
		d := out["error"].(map[string]any)["details"].([]any)
		if len(d) == 0 || d[0].(map[string]any)["key"] != tt.key {
			t.Errorf("%s: %v, want a detail about %s", tt.body, out, tt.key)
		}
	}
	out := c.do("POST", "/api/v1/registrations", rung.ScopeIngest, "", `{"partner": "p1", "colour": "red"}`, 400)
	if !strings.Contains(errMessage(out), "allowed: kind, partner") {
		t.Errorf("unknown field: %v", out)
	}
	list := c.do("GET", "/api/v1/registrations", rung.ScopeRead, "", "", 200)
	if rs := list["registrations"].([]any); len(rs) != 0 {
		t.Fatalf("stored after bad input: %v", rs)
	}
}

func TestCRMAccountsFlagExistingCustomers(t *testing.T) {
	c := regServer(t)
	c.do("PUT", "/api/v1/accounts/www.globex.com", rung.ScopeIngest, "", `{"name": "Globex", "customer": true, "owner": "ae@vendor.com"}`, 201)
	c.do("PUT", "/api/v1/accounts/globex.com", rung.ScopeIngest, "", `{"name": "Globex", "customer": true, "owner": "ae2@vendor.com"}`, 200)
	c.do("PUT", "/api/v1/accounts/co.uk", rung.ScopeIngest, "", `{"name": "x"}`, 400)
	c.do("PUT", "/api/v1/accounts/globex.com", rung.ScopeIngest, "", `{"domain": "initech.com"}`, 400)
	out := c.do("POST", "/api/v1/registrations", rung.ScopeIngest, "", regBody, 201)
	if out["existing_customer"] != true || out["account_owner"] != "ae2@vendor.com" {
		t.Fatalf("registration = %v", out)
	}
	// An account recorded after the registration flags it too.
	other := c.do("POST", "/api/v1/registrations", rung.ScopeIngest, "", strings.Replace(regBody, "globex.com", "initrode.com", -1), 201)
	if other["existing_customer"] != false {
		t.Fatalf("before the account: %v", other)
	}
	c.do("PUT", "/api/v1/accounts/initrode.com", rung.ScopeIngest, "", `{"name": "Initrode", "open_deal": true, "customer": true, "owner": "bob@vendor.com"}`, 201)
	if got := c.do("GET", "/api/v1/registrations/"+other["id"].(string), rung.ScopeRead, "", "", 200); got["existing_customer"] != true || got["account_owner"] != "bob@vendor.com" {
		t.Fatalf("after the account: %v", got)
	}
	all := c.do("GET", "/api/v1/accounts", rung.ScopeRead, "", "", 200)
	if as := all["accounts"].([]any); len(as) != 2 {
		t.Fatalf("accounts = %v", all)
	}
}

func TestConflictDecisionByAnAdmin(t *testing.T) {
	c := regServer(t)
	c.do("PUT", "/api/v1/program", rung.ScopeAdmin, "application/yaml", testProgram+"registration:\n  conflict: manual\n", 200)
	a := c.do("POST", "/api/v1/registrations", rung.ScopeIngest, "", regBody, 201)["id"].(string)
	b := c.do("POST", "/api/v1/registrations", rung.ScopeIngest, "", strings.Replace(regBody, `"p1"`, `"p2"`, 1), 201)["id"].(string)
	c.do("POST", "/api/v1/registrations/"+a+"/decision", rung.ScopeAdmin, "", `{"decision": "approve"}`, 409)
	c.do("POST", "/api/v1/registrations/"+a+"/conflicts/decision", rung.ScopeAdmin, "", `{"winner": "`+b+`"}`, 400)
	won := c.do("POST", "/api/v1/registrations/"+a+"/conflicts/decision", rung.ScopeAdmin, "", `{"winner": "`+b+`", "reason": "Hooli met the CIO"}`, 200)
	details := won["conflict_details"].([]any)[0].(map[string]any)
	if won["id"] != b || details["winner"] != b || details["reason"] != "Hooli met the CIO" {
		t.Fatalf("decision = %v", won)
	}
	if got := c.do("GET", "/api/v1/registrations/"+a, rung.ScopeRead, "", "", 200); got["status"] != "declined" {
		t.Fatalf("loser = %v", got)
	}
}

// slackRequest signs a slash command like Slack does.
func (c *client) slack(secret string, ts int64, text, user, team string) (int, map[string]any) {
	c.t.Helper()
	body := url.Values{"text": {text}, "user_id": {user}, "team_id": {team}, "command": {"/register"}}.Encode()
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:%s", ts, body)
	req, _ := http.NewRequest("POST", c.url+"/api/v1/intake/slack", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return c.send(req)
}

func (c *client) send(req *http.Request) (int, map[string]any) {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := jsonUnmarshal(raw, &out); err != nil {
		c.t.Fatalf("not JSON: %s", raw)
	}
	return resp.StatusCode, out
}

func (c *client) raw(method, path string, scope rung.Scope, ctype, body string, want int) string {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if scope != "" {
		req.Header.Set("Authorization", "Bearer "+c.keys[scope])
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	return string(raw)
}

func TestSlackSlashCommand(t *testing.T) {
	c := regServer(t)
	ts := now.Unix()
	code, out := c.slack("s3cret", ts, "deal Globex, globex.com, jane@globex.com, 40 seats", "U1", "T1")
	if code != 200 || out["response_type"] != "ephemeral" || !strings.Contains(out["text"].(string), "Registered Globex as case R-") {
		t.Fatalf("slash command = %d %v", code, out)
	}
	caseID := strings.TrimSuffix(strings.Fields(out["text"].(string))[4], ".")
	if _, out := c.slack("s3cret", ts, "status "+caseID, "U1", "T1"); !strings.Contains(out["text"].(string), caseID) {
		t.Fatalf("status = %v", out)
	}
	c.do("PUT", "/api/v1/partners/p1", rung.ScopeIngest, "", `{"name": "Initech", "size": "smb", "domains": ["initech.com"], "attrs": {"slack_team_id": "T2"}}`, 200)
	if _, out := c.slack("s3cret", ts, "status "+caseID, "U7", "T2"); !strings.Contains(out["text"].(string), "No case") {
		t.Fatalf("another partner's status = %v", out)
	}
	// Another partner registers it first elsewhere: this partner hears only
	// that the company is under review, never who.
	c.do("PUT", "/api/v1/program", rung.ScopeAdmin, "application/yaml", testProgram+"registration:\n  conflict: manual\n", 200)
	c.do("POST", "/api/v1/registrations", rung.ScopeIngest, "", strings.Replace(regBody, "globex.com", "initrode.com", -1), 201)
	_, out = c.slack("s3cret", ts, "Initrode, initrode.com, bob@initrode.com", "U1", "T1")
	if text := out["text"].(string); !strings.Contains(text, "under review") || strings.Contains(text, "p1") || strings.Contains(text, "Initech") {
		t.Fatalf("conflict reply = %q", text)
	}
	_, out = c.slack("s3cret", ts, "Globex", "U1", "T1")
	if !strings.Contains(out["text"].(string), "/register") {
		t.Fatalf("usage reply = %v", out)
	}
	_, out = c.slack("s3cret", ts, "Umbrella, umbrella.com, x@umbrella.com", "U9", "T9")
	if !strings.Contains(out["text"].(string), "not linked to a partner") {
		t.Fatalf("unknown user reply = %v", out)
	}
	_, out = c.slack("s3cret", ts, "Umbrella, co.uk, x@umbrella.com", "U1", "T1")
	if !strings.Contains(out["text"].(string), "Not registered") {
		t.Fatalf("bad domain reply = %v", out)
	}
	if code, _ := c.slack("wrong", ts, "Globex, globex.com, jane@globex.com", "U1", "T1"); code != 401 {
		t.Fatalf("a bad signature: %d", code)
	}
	if code, _ := c.slack("s3cret", ts-301, "Globex, globex.com, jane@globex.com", "U1", "T1"); code != 401 {
		t.Fatalf("an old timestamp: %d", code)
	}
}

func (c *client) email(ctype, body string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.url+"/api/v1/intake/email", strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.SetBasicAuth("inbound", c.keys[rung.ScopeIngest])
	return c.send(req)
}

func TestInboundEmail(t *testing.T) {
	c := regServer(t)
	raw := "From: Gavin <gavin@hooli.xyz>\r\nSubject: New deal\r\n\r\nCompany: Pied Piper Inc.\r\nDomain: piedpiper.com\r\nContact: Richard <richard@piedpiper.com>\r\n"
	code, out := c.email("message/rfc822", raw)
	if code != 200 || out["accepted"] != true || out["to"] != "gavin@hooli.xyz" || !strings.HasPrefix(out["case"].(string), "R-") ||
		!strings.Contains(out["subject"].(string), out["case"].(string)) {
		t.Fatalf("reply = %d %v", code, out)
	}
	_, out = c.email("message/rfc822", "From: gavin@hooli.xyz\r\nSubject: x\r\n\r\nDomain: piedpiper.com\r\n")
	if out["accepted"] != false || !strings.Contains(out["text"].(string), `"Company:"`) || !strings.Contains(out["text"].(string), `"Contact:"`) {
		t.Fatalf("missing fields reply = %v", out)
	}
	_, out = c.email("message/rfc822", "From: eve@evil-corp.com\r\n\r\nCompany: X\r\nContact: a@x.com\r\n")
	if out["accepted"] != false || !strings.Contains(out["text"].(string), "not an address of any partner") {
		t.Fatalf("stranger reply = %v", out)
	}
	_, out = c.email("message/rfc822", "From: gavin@hooli.xyz\r\n\r\nPartner: p1\r\nCompany: X\r\nContact: a@x.com\r\n")
	if out["accepted"] != false || !strings.Contains(out["text"].(string), "not an address of Initech") {
		t.Fatalf("wrong partner reply = %v", out)
	}
	// The multipart form of an inbound-parse service.
	var b strings.Builder
	mw := multipart.NewWriter(&b)
	mw.WriteField("from", "Gavin <gavin@hooli.xyz>")
	mw.WriteField("subject", "Another")
	mw.WriteField("text", "Company: Endframe\nContact: e@endframe.io\nKind: lead\n")
	mw.Close()
	code, out = c.email(mw.FormDataContentType(), b.String())
	if code != 200 || out["accepted"] != true {
		t.Fatalf("form reply = %d %v", code, out)
	}
	req, _ := http.NewRequest("POST", c.url+"/api/v1/intake/email", strings.NewReader(raw))
	if code, _ := c.send(req); code != 401 {
		t.Fatalf("without a key: %d", code)
	}
}

func (c *client) form(ctype, body, ip string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.url+"/api/v1/intake/form", strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	return c.send(req)
}

func TestPublicForm(t *testing.T) {
	c := regServer(t)
	ok := `{"email": "gavin@hooli.xyz", "company": "Bachmanity", "domain": "bachmanity.com", "contact_email": "erlich@bachmanity.com", "consent": true}`
	code, out := c.form("application/json", ok, "")
	if code != 201 || !strings.HasPrefix(out["case"].(string), "R-") {
		t.Fatalf("form = %d %v", code, out)
	}
	code, out = c.form("application/x-www-form-urlencoded", url.Values{"email": {"gavin@hooli.xyz"}, "company": {"Aviato"},
		"contact_email": {"erlich@aviato.com"}}.Encode(), "")
	if code != 400 || !strings.Contains(fmt.Sprint(out), "consent") {
		t.Fatalf("without consent = %d %v", code, out)
	}
	code, _ = c.form("application/json", strings.Replace(ok, "gavin@hooli.xyz", "gavin@gmail.com", 1), "")
	if code != 403 {
		t.Fatalf("an address outside the partner's domains: %d", code)
	}
	code, out = c.form("application/json", strings.Replace(ok, `"consent": true`, `"consent": true, "website": "http://spam"`, 1), "")
	if code != 202 || out["case"] != nil {
		t.Fatalf("honeypot = %d %v", code, out)
	}
	// Five per address an hour.
	for i := 0; ; i++ {
		code, _ = c.form("application/json", strings.Replace(ok, "Bachmanity", fmt.Sprintf("Company %d", i), 1), "")
		if code == 429 {
			if i != 3 { // 5 allowed: 2 above from this address (the honeypot counts none), 3 here
				t.Fatalf("rate limited after %d more", i)
			}
			break
		}
		if i > 10 {
			t.Fatal("never rate limited")
		}
	}
}

func TestCSVImport(t *testing.T) {
	c := regServer(t)
	file := "company,domain,contact_email,partner\n" +
		"Globex,globex.com,jane@globex.com,p1\n" +
		"Globex Corp,www.globex.com,joe@globex.com,p1\n" +
		"Initrode,,,p1\n" +
		"Vandelay,vandelay.com,art@vandelay.com,nobody\n" +
		"Vandelay,vandelay.com,art@vandelay.com,p2\n"
	out := c.do("POST", "/api/v1/registrations/import", rung.ScopeIngest, "text/csv", file, 200)
	rs := out["results"].([]any)
	want := []string{"created", "duplicate", "rejected", "rejected", "created"}
	for i, w := range want {
		r := rs[i].(map[string]any)
		if r["status"] != w || r["line"] != float64(i+2) {
			t.Errorf("row %d = %v, want %s", i+2, r, w)
		}
	}
	again := c.raw("POST", "/api/v1/registrations/import?format=csv", rung.ScopeIngest, "text/csv", file, 200)
	if !strings.HasPrefix(again, "line,status,id,conflict,error\n2,existing,R-") {
		t.Fatalf("CSV results = %s", again)
	}
	c.do("POST", "/api/v1/registrations/import", rung.ScopeIngest, "text/csv", "colour\nred\n", 400)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func TestAReplyByEmailAnswersNeedsInfo(t *testing.T) {
	c := regServer(t)
	raw := "From: gavin@hooli.xyz\r\nSubject: New deal\r\n\r\nCompany: Pied Piper\r\nContact: richard@piedpiper.com\r\n"
	_, out := c.email("message/rfc822", raw)
	id := out["case"].(string)
	c.do("POST", "/api/v1/registrations/"+id+"/decision", rung.ScopeAdmin, "", `{"decision": "needs_info", "reason": "Which team?"}`, 200)
	reply := "From: gavin@hooli.xyz\r\nSubject: Re: [" + id + "] New deal\r\n\r\nThe compression team, 12 people.\r\n\r\nOn Mon, Richard wrote:\r\n> Which team?\r\n"
	_, out = c.email("message/rfc822", reply)
	if out["accepted"] != true || !strings.Contains(out["text"].(string), "back in review") {
		t.Fatalf("reply = %v", out)
	}
	got := c.do("GET", "/api/v1/registrations/"+id, rung.ScopeRead, "", "", 200)
	if got["status"] != "submitted" || !strings.HasSuffix(got["notes"].(string), "The compression team, 12 people.") {
		t.Fatalf("after the answer = %v", got)
	}
	// Another partner cannot answer it.
	_, out = c.email("message/rfc822", strings.Replace(reply, "gavin@hooli.xyz", "peter@initech.com", 1))
	if out["case"] == id {
		t.Fatalf("another partner's reply reached the case: %v", out)
	}
}

// TestRegistrationListPagesAfterFiltering lists overdue reviews a page at a
// time: the filter comes before the page, and total and counts are of the
// whole selection.
func TestRegistrationListPagesAfterFiltering(t *testing.T) {
	c := regServer(t)
	for i := range 5 {
		c.do("POST", "/api/v1/registrations", rung.ScopeIngest, "", fmt.Sprintf(`{"kind": "lead", "partner": "p1", "company": {"name": "Company %d", "domain": "company%d.io"}, "contact": {"name": "Jo", "email": "jo@company%d.io"}}`, i, i, i), 201)
	}
	// One decided: not waiting, so never overdue.
	first := c.do("GET", "/api/v1/registrations?limit=1", rung.ScopeRead, "", "", 200)["registrations"].([]any)[0].(map[string]any)
	c.do("POST", "/api/v1/registrations/"+first["id"].(string)+"/decision", rung.ScopeAdmin, "", `{"decision": "approve"}`, 200)
	later := "&as_of=2026-12-31T00:00:00Z" // past every review's due date
	var seen []any
	for off := 0; off < 6; off += 2 {
		out := c.do("GET", fmt.Sprintf("/api/v1/registrations?overdue=true&limit=2&offset=%d%s", off, later), rung.ScopeRead, "", "", 200)
		rs := out["registrations"].([]any)
		if off < 4 && len(rs) != 2 {
			t.Errorf("offset %d: %d overdue registrations, want a full page of 2", off, len(rs))
		}
		if out["total"] != 4.0 || out["counts"].(map[string]any)["overdue_reviews"] != 4.0 {
			t.Errorf("offset %d: total %v, counts %v; want 4 overdue of the whole selection", off, out["total"], out["counts"])
		}
		for _, r := range rs {
			if r.(map[string]any)["review_overdue"] != true {
				t.Errorf("a listed registration is not overdue: %v", r)
			}
			seen = append(seen, r.(map[string]any)["id"])
		}
	}
	if len(seen) != 4 {
		t.Errorf("paging listed %d overdue registrations, want the 4", len(seen))
	}
}
