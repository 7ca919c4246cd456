package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/registration"
	"github.com/rung-dev/rung/internal/store"
)

// register stores a registration of a company for a partner's member
// through the desk, as the portal would.
func (e *testEnv) register(m rung.Member, company, domain string) store.Registration {
	e.t.Helper()
	yes := true
	r, _, err := e.web.desk.Submit(context.Background(), registration.Input{
		Partner: m.Partner, Member: m.ID, CompanyName: company, CompanyDomain: domain,
		ContactEmail: "jane@" + domain, Consent: &yes, Channel: "portal", By: "test",
	})
	if err != nil {
		e.t.Fatalf("register %s: %v", company, err)
	}
	return r
}

func TestPortalRegistrationFormKeepsInputAndShowsErrorsByField(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	for _, tc := range []struct{ lang, companyErr, consentErr string }{
		{"en", "Enter the customer company&#39;s name", "Confirm that the contact agreed"},
		{"de", "Geben Sie den Namen der Kundenfirma ein", "Bestätigen Sie, dass der Kontakt"},
	} {
		c := e.signIn(m, store.RoleMember)
		c.post("/locale", url.Values{"lang": {tc.lang}, "back": {"/portal/registrations"}})
		c.get("/portal/registrations")
		res, body := c.post("/portal/registrations", url.Values{"kind": {"lead"}, "contact_email": {"jane@initech.io"}, "notes": {"met at the fair"}})
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: an empty company: %d, want 400", tc.lang, res.StatusCode)
		}
		for _, want := range []string{tc.companyErr, tc.consentErr, `id="reg-company-error"`, `value="jane@initech.io"`, "met at the fair"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the form with errors lacks %q", tc.lang, want)
			}
		}
	}
}

func TestPortalRegisterAndCountdown(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	c := e.signIn(m, store.RoleMember)
	c.get("/portal/registrations")
	res, _ := c.post("/portal/registrations", url.Values{"kind": {"deal"}, "company": {"Initech GmbH"}, "domain": {"initech.io"},
		"contact_email": {"jane@initech.io"}, "amount": {"25000"}, "consent": {"yes"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/portal/registrations?created=R-") {
		t.Fatalf("register: %d to %q, want a redirect to the list", res.StatusCode, res.Header.Get("Location"))
	}
	_, body := c.get(res.Header.Get("Location"))
	if !strings.Contains(body, "Initech GmbH") || !strings.Contains(body, "Submitted") || !strings.Contains(body, "Thank you") {
		t.Errorf("my registrations does not show the new one as submitted")
	}
	rs, err := e.web.desk.List(context.Background(), store.RegistrationFilter{Partner: m.Partner})
	if err != nil || len(rs) != 1 || rs[0].Channel != "portal" || rs[0].Member != m.ID || rs[0].Kind != "deal" {
		t.Fatalf("stored: %+v, %v", rs, err)
	}
	if _, err := e.web.desk.Decide(context.Background(), rs[0].ID, registration.DecisionApprove, "", "test"); err != nil {
		t.Fatal(err)
	}
	// The default hold is 90 days; 67 days on, 23 are left.
	e.clock.Add(67 * 24 * time.Hour)
	c = e.signIn(m, store.RoleMember) // the week-long session ended meanwhile
	_, body = c.get("/portal/registrations")
	if !strings.Contains(body, "Protected for 23 more days") {
		t.Errorf("want the countdown in English")
	}
	c.post("/locale", url.Values{"lang": {"de"}, "back": {"/portal/registrations"}})
	_, body = c.get("/portal/registrations/" + url.PathEscape(rs[0].ID))
	if !strings.Contains(body, "Noch 23 Tage geschützt") || !strings.Contains(body, "Freigegeben") {
		t.Errorf("want the countdown and the status in German")
	}
	// Registering the same company again shows the one the partner has.
	c.get("/portal/registrations")
	res, _ = c.post("/portal/registrations", url.Values{"kind": {"lead"}, "company": {"Initech"}, "domain": {"www.initech.io"},
		"contact_email": {"bob@initech.io"}, "consent": {"yes"}})
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/portal/registrations/"+rs[0].ID) {
		t.Errorf("a second registration of the company: sent to %q, want the existing one", loc)
	}
}

func TestPortalShowsAnotherPartnersRegistrationOnlyAsUnderReview(t *testing.T) {
	e := newEnv(t, envOptions{})
	mA, _ := e.member(0)
	mB, _ := e.member(1)
	ra := e.register(mA, "Globex Corporation", "globex.io")
	rb := e.register(mB, "Globex Corp", "globex.io")
	cb := e.signIn(mB, store.RoleMember)
	_, body := cb.get("/portal/registrations/" + url.PathEscape(rb.ID))
	if strings.Contains(body, ra.ID) || strings.Contains(body, mA.Partner) || strings.Contains(body, "Globex Corporation") {
		t.Errorf("partner B's page names partner A's registration")
	}
	if !strings.Contains(body, "Under review") {
		t.Errorf("partner B is not told the company is under review")
	}
	_, body = cb.get("/portal/registrations")
	if strings.Contains(body, ra.ID) || !strings.Contains(body, "Under review") {
		t.Errorf("partner B's list: want its registration under review, not partner A's")
	}
	// The console flags the conflict on both sides and links them.
	admin := e.staff(adminEmail, adminPassword)
	_, body = admin.get("/admin/registrations/" + url.PathEscape(rb.ID))
	if !strings.Contains(body, "Conflict") || !strings.Contains(body, "/admin/registrations/"+ra.ID) {
		t.Errorf("the console's detail page: want the conflict flagged and linked")
	}
	// Approving before the conflict is settled says why it cannot be.
	res, body := admin.post("/admin/registrations/"+url.PathEscape(rb.ID)+"/decision", url.Values{"decision": {"approve"}})
	if res.StatusCode == http.StatusSeeOther {
		if got, _ := e.web.desk.Get(context.Background(), rb.ID); got.Status == store.RegApproved && e.web.desk.Settings().Conflict != registration.PolicyFirstMeeting {
			t.Errorf("a registration in an open conflict was approved")
		}
	} else if res.StatusCode != http.StatusConflict || !strings.Contains(body, "settle the conflict first") {
		t.Errorf("approve in a conflict: %d", res.StatusCode)
	}
	// A manager of A alone may not settle against B.
	res, _ = e.manager(mA.Partner).post("/admin/registrations/"+url.PathEscape(ra.ID)+"/settle", url.Values{"reason": {"x"}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a manager of one side settles: %d, want 403", res.StatusCode)
	}
	admin.get("/admin/registrations/" + url.PathEscape(ra.ID))
	res, body = admin.post("/admin/registrations/"+url.PathEscape(ra.ID)+"/settle", url.Values{"reason": {" "}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "needs a reason") {
		t.Errorf("settle without a reason: %d", res.StatusCode)
	}
	res, _ = admin.post("/admin/registrations/"+url.PathEscape(ra.ID)+"/settle", url.Values{"reason": {"A met the customer first"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("settle: %d", res.StatusCode)
	}
	if got, _ := e.web.desk.Get(context.Background(), rb.ID); got.Status != store.RegDeclined {
		t.Errorf("the losing registration is %s, want declined", got.Status)
	}
	cb.post("/locale", url.Values{"lang": {"de"}, "back": {"/portal/registrations"}})
	_, body = cb.get("/portal/registrations/" + url.PathEscape(rb.ID))
	if !strings.Contains(body, "Die Registrierung eines anderen Partners für diese Firma hatte Vorrang.") || strings.Contains(body, "A met the customer first") {
		t.Errorf("partner B: want only that another registration took precedence, in German")
	}
}

func TestConsoleQueueDecidesInOneClick(t *testing.T) {
	e := newEnv(t, envOptions{})
	mA, _ := e.member(0)
	mB, _ := e.member(1)
	old := e.register(mA, "Umbrella Ltd", "umbrella.io")
	e.clock.Add(3 * 24 * time.Hour) // past the default review SLA of 2 days
	newer := e.register(mA, "Hooli Inc", "hooli.io")
	ofB := e.register(mB, "Vandelay Industries", "vandelay.io")

	admin := e.staff(adminEmail, adminPassword)
	_, body := admin.get("/admin/registrations")
	io, in := strings.Index(body, old.ID), strings.Index(body, newer.ID)
	if io < 0 || in < 0 || io > in {
		t.Errorf("the queue is not oldest first")
	}
	if !strings.Contains(body, "Review overdue") || !strings.Contains(body, ofB.ID) {
		t.Errorf("the admin's queue: want the overdue flag and every partner's registrations")
	}
	// Decline without a reason is refused, with the reason why.
	res, body := admin.post("/admin/registrations/"+url.PathEscape(old.ID)+"/decision", url.Values{"decision": {"decline"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "A decline needs a reason") {
		t.Errorf("decline without a reason: %d", res.StatusCode)
	}
	admin.get("/admin/registrations")
	res, _ = admin.post("/admin/registrations/"+url.PathEscape(old.ID)+"/decision", url.Values{"decision": {"decline"}, "reason": {"an existing customer"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("decline: %d", res.StatusCode)
	}
	res, _ = admin.post("/admin/registrations/"+url.PathEscape(newer.ID)+"/decision", url.Values{"decision": {"approve"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	got, _ := e.web.desk.Get(context.Background(), newer.ID)
	if got.Status != store.RegApproved {
		t.Errorf("approved from the queue: status %s", got.Status)
	}
	_, body = admin.get("/admin/registrations/" + url.PathEscape(old.ID))
	if !strings.Contains(body, "an existing customer") || !strings.Contains(body, "Declined") {
		t.Errorf("the detail page's history lacks the decline and its reason")
	}
	_, body = admin.get("/admin/registrations")
	if strings.Contains(body, old.ID) || !strings.Contains(body, newer.ID) {
		t.Errorf("the queue: want active registrations only unless asked for all")
	}
	admin.post("/locale", url.Values{"lang": {"de"}, "back": {"/admin/registrations"}})
	_, body = admin.get("/admin/registrations?all=1")
	for _, want := range []string{"Registrierungen", "Abgelehnt", "Freigegeben", "Rückfrage"} {
		if !strings.Contains(body, want) {
			t.Errorf("the German queue lacks %q", want)
		}
	}
	// A manager of A sees A's registrations only.
	_, body = e.manager(mA.Partner).get("/admin/registrations?all=1")
	if !strings.Contains(body, old.ID) || strings.Contains(body, ofB.ID) {
		t.Errorf("a manager's queue: want their partner's registrations only")
	}
}

func TestPartnerAnswersTheReviewersQuestion(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	reg := e.register(m, "Soylent Corp", "soylent.io")
	admin := e.staff(adminEmail, adminPassword)
	admin.get("/admin/registrations/" + url.PathEscape(reg.ID))
	res, _ := admin.post("/admin/registrations/"+url.PathEscape(reg.ID)+"/decision", url.Values{"decision": {"needs_info"}, "reason": {"which product line?"},
		"back": {"/admin/registrations/" + reg.ID}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/registrations/"+reg.ID {
		t.Fatalf("needs_info from the detail page: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	c := e.signIn(m, store.RoleMember)
	c.post("/locale", url.Values{"lang": {"de"}, "back": {"/portal/registrations"}})
	_, body := c.get("/portal/registrations/" + url.PathEscape(reg.ID))
	if !strings.Contains(body, "Rückfrage: which product line?") || !strings.Contains(body, "Antwort senden") {
		t.Fatalf("the member does not see the question and the answer form in German")
	}
	res, body = c.post("/portal/registrations/"+url.PathEscape(reg.ID)+"/answer", url.Values{"answer": {"  "}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Schreiben Sie, wonach die Prüfung gefragt hat.") {
		t.Errorf("an empty answer: %d, want 400 with the German message", res.StatusCode)
	}
	res, _ = c.post("/portal/registrations/"+url.PathEscape(reg.ID)+"/answer", url.Values{"answer": {"the storage line"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("answer: %d", res.StatusCode)
	}
	got, _ := e.web.desk.Get(context.Background(), reg.ID)
	if got.Status != store.RegSubmitted || !strings.Contains(got.Notes, "the storage line") {
		t.Errorf("after the answer: %s, notes %q; want submitted with the answer", got.Status, got.Notes)
	}
	// Approving from needs_info is refused with the status named.
	admin.get("/admin/registrations")
	admin.post("/admin/registrations/"+url.PathEscape(reg.ID)+"/decision", url.Values{"decision": {"needs_info"}, "reason": {"and the amount?"}})
	res, body = admin.post("/admin/registrations/"+url.PathEscape(reg.ID)+"/decision", url.Values{"decision": {"approve"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "This registration is Needs information") {
		t.Errorf("approve while it needs information: %d", res.StatusCode)
	}
}

func TestPlainNumberReadsAmountsAsEachLanguageWritesThem(t *testing.T) {
	for _, tc := range []struct{ in, lang, want string }{
		{"25,000.50", "en", "25000.50"},
		{"25.000,50", "de", "25000.50"},
		{"25 000", "de", "25000"},
		{"1200", "en", "1200"},
	} {
		if got := plainNumber(tc.in, tc.lang); got != tc.want {
			t.Errorf("plainNumber(%q, %s) = %q, want %q", tc.in, tc.lang, got, tc.want)
		}
	}
}
