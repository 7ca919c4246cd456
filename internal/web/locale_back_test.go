package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestLanguageSwitchAfterAFormError: a page shown for a refused form (a
// decline without a reason) switches language to a page that exists (it
// went back to the form's POST address and answered "not found").
func TestLanguageSwitchAfterAFormError(t *testing.T) {
	e := newEnv(t, envOptions{})
	m0, _ := e.member(0)
	reg := e.register(m0, "Globex", "globex.io")
	admin := e.staff(adminEmail, adminPassword)
	detail := "/admin/registrations/" + url.PathEscape(reg.ID)
	admin.get(detail)
	res, body := admin.postFrom(detail, detail+"/decision", url.Values{"decision": {"decline"}})
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("decline without a reason: %d", res.StatusCode)
	}
	m := regexp.MustCompile(`<input type="hidden" name="back" value="([^"]*)">\s*<label for="lang"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no language form")
	}
	res, _ = admin.post("/locale", url.Values{"lang": {"de"}, "back": {html.UnescapeString(m[1])}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || loc == "" {
		t.Fatalf("language switch: %d", res.StatusCode)
	}
	if res, _ := admin.get(loc); res.StatusCode != http.StatusOK {
		t.Errorf("the language switch led to %s: %d", loc, res.StatusCode)
	}
}

// postFrom posts a form as a browser does from the page at from (its
// Referer).
func (c *client) postFrom(from, path string, form url.Values) (*http.Response, string) {
	if form.Get("csrf") == "" {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", c.e.srv.URL+from)
	return c.do(req)
}
