package web

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/registration"
	"github.com/rung-dev/rung/internal/store"
)

// upload posts a file as multipart/form-data with the last page's CSRF
// token, as the portal's upload form does.
func (c *client) upload(path, field, name, content string) (*http.Response, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", c.csrf)
	if name != "" {
		fw, _ := mw.CreateFormFile(field, name)
		fw.Write([]byte(content))
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

func TestPortalCSVUploadGivesARowByRowResult(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	other, _ := e.member(1)
	c := e.signIn(m, store.RoleMember)
	c.get("/portal/registrations")
	file := "company,domain,contact_email,kind,amount,consent,partner,member\n" +
		"Initech GmbH,initech.io,jane@initech.io,deal,25000,yes,,\n" + // line 2: registered
		"Initech,www.initech.io,bob@initech.io,lead,,yes,,\n" + // line 3: the same company again in the file
		"Hooli,hooli.io,not-an-address,lead,,yes,,\n" + // line 4: a bad e-mail
		"Vandelay,vandelay.io,art@vandelay.io,lead,,yes," + other.Partner + ",\n" + // line 5: another partner
		"Pendant,pendant.io,p@pendant.io,lead,,yes,," + other.ID + "\n" // line 6: someone else
	res, body := c.upload("/portal/registrations/import", "file", "regs.csv", file)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d\n%s", res.StatusCode, body)
	}
	for _, want := range []string{"1 registered, 0 already yours, 1 repeated in the file, 3 refused.", "the same company for the same partner as line 2",
		"names another partner", "names someone else", "contact.email", `download="registration-import-results.csv"`, "data:text/csv"} {
		if !strings.Contains(body, want) {
			t.Errorf("the results page lacks %q", want)
		}
	}
	rs, err := e.web.desk.List(context.Background(), store.RegistrationFilter{})
	if err != nil || len(rs) != 1 || rs[0].Partner != m.Partner || rs[0].Member != m.ID || rs[0].Channel != "csv" || rs[0].Amount != 25000 {
		t.Fatalf("stored: %+v, %v; want Initech alone, the uploader's", rs, err)
	}
	// Again: the row finds its registration, nothing new is stored.
	_, body = c.upload("/portal/registrations/import", "file", "regs.csv", file)
	if !strings.Contains(body, "0 registered, 1 already yours") {
		t.Errorf("a second upload of the same file does not say the registration is already there")
	}
	// No file, or a file that is not CSV with a header: one message, nothing stored.
	res, body = c.upload("/portal/registrations/import", "file", "", "")
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Choose a CSV file to upload.") {
		t.Errorf("upload without a file: %d", res.StatusCode)
	}
	res, body = c.upload("/portal/registrations/import", "file", "x.csv", "")
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "the file is empty") {
		t.Errorf("an empty file: %d", res.StatusCode)
	}
	c.post("/locale", url.Values{"lang": {"de"}, "back": {"/portal/registrations"}})
	c.get("/portal/registrations")
	_, body = c.upload("/portal/registrations/import", "file", "regs.csv", file)
	if !strings.Contains(body, "Bereits registriert") || !strings.Contains(body, "In der Datei wiederholt") {
		t.Errorf("the German results lack the translated outcomes")
	}
}

func TestConsoleQueuePages(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	for i := range regQueuePage + 5 {
		e.register(m, fmt.Sprintf("Company %03d", i), fmt.Sprintf("company%03d.io", i))
		e.clock.Add(time.Minute)
	}
	rs, err := e.web.desk.List(context.Background(), store.RegistrationFilter{Active: true})
	if err != nil {
		t.Fatal(err)
	}
	n := len(rs) // the demo's active registrations and ours
	pages := (n + regQueuePage - 1) / regQueuePage
	rows := func(body string) int { return strings.Count(body, `<tr id="reg-`) }
	admin := e.staff(adminEmail, adminPassword)
	_, body := admin.get("/admin/registrations")
	if rows(body) != regQueuePage || !strings.Contains(body, fmt.Sprintf("Page 1 of %d", pages)) || !strings.Contains(body, fmt.Sprintf("%d in all", n)) {
		t.Fatalf("page 1: %d rows, want %d, a pager of %d pages and the whole count %d", rows(body), regQueuePage, pages, n)
	}
	if !strings.Contains(body, `href="/admin/registrations?page=2"`) || strings.Contains(body, `rel="prev"`) {
		t.Errorf("page 1: want a link to page 2 and none back")
	}
	seen := map[string]bool{}
	for p := 1; p <= pages; p++ {
		_, body = admin.get(fmt.Sprintf("/admin/registrations?page=%d", p))
		for _, r := range rs {
			if strings.Contains(body, `<tr id="reg-`+r.ID+`"`) {
				if seen[r.ID] {
					t.Errorf("%s is on two pages", r.ID)
				}
				seen[r.ID] = true
			}
		}
		if p == pages && (strings.Contains(body, `rel="next"`) || !strings.Contains(body, `rel="prev"`)) {
			t.Errorf("the last page: want a link back and none on")
		}
	}
	if len(seen) != n {
		t.Errorf("the pages show %d registrations, want all %d", len(seen), n)
	}
	_, body = admin.get("/admin/registrations?page=99")
	if !strings.Contains(body, fmt.Sprintf("Page %d of %d", pages, pages)) {
		t.Errorf("a page past the end shows the last page")
	}
}

func TestConsoleRegistrationMetrics(t *testing.T) {
	e := newEnv(t, envOptions{})
	mA, _ := e.member(0)
	mB, _ := e.member(1)
	ctx := context.Background()
	a := e.register(mA, "Umbrella Ltd", "umbrella.io")
	e.register(mA, "Hooli Inc", "hooli.io")
	b := e.register(mB, "Vandelay Industries", "vandelay.io")
	e.clock.Add(2 * time.Hour)
	for _, id := range []string{a.ID, b.ID} {
		if _, err := e.web.desk.Decide(ctx, id, registration.DecisionApprove, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.web.desk.Meeting(ctx, a.ID, time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.web.desk.Close(ctx, a.ID, true, 42000, "", "test"); err != nil {
		t.Fatal(err)
	}
	admin := e.staff(adminEmail, adminPassword)
	_, body := admin.get("/admin/registrations/metrics")
	overall := body[strings.Index(body, `id="overall"`):]
	overall = overall[:strings.Index(overall, "</dl>")]
	for _, want := range []string{"<dd>3</dd>", "<dd>33.3%</dd>", "<dd>100%</dd>", "<dd>2 h</dd>", "42,000"} {
		if !strings.Contains(overall, want) {
			t.Errorf("overall lacks %q:\n%s", want, overall)
		}
	}
	if !strings.Contains(body, `href="/admin/partners/`+url.PathEscape(mA.Partner)+`"`) {
		t.Errorf("by partner: want a row per partner")
	}
	_, body = admin.get("/admin/registrations/metrics?segment=size")
	if !strings.Contains(body, `value="size" selected`) {
		t.Errorf("by size: the picker does not keep the choice")
	}
	res, _ := admin.get("/admin/registrations/metrics?segment=colour")
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown segment: %d, want 400", res.StatusCode)
	}
	res, _ = admin.get("/admin/registrations/metrics?period=soon")
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad period: %d, want 400", res.StatusCode)
	}
	_, body = admin.get("/admin/registrations/metrics?period=2020-Q1")
	if !strings.Contains(body, "No registrations in this period.") {
		t.Errorf("an empty period must say so")
	}
	res, csv := admin.get("/admin/registrations/attribution.csv")
	if res.StatusCode != http.StatusOK || !strings.Contains(csv, a.ID+",") || !strings.Contains(csv, ",42000") {
		t.Errorf("attribution: %d\n%s", res.StatusCode, csv)
	}
	// A manager of B counts B's registrations only.
	_, body = e.manager(mB.Partner).get("/admin/registrations/metrics")
	overall = body[strings.Index(body, `id="overall"`):]
	if !strings.Contains(overall[:strings.Index(overall, "</dl>")], "<dt>Registrations</dt><dd>1</dd>") {
		t.Errorf("a manager's metrics include other partners' registrations")
	}
}
