package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// grant gives a member points by an admin's adjustment.
func (e *testEnv) grant(m rung.Member, points int64) {
	e.t.Helper()
	if _, err := e.svc.Adjust(context.Background(), rung.Adjustment{Partner: m.Partner, Member: m.ID, Points: points, Reason: "test grant"}, "test"); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) balance(member string) int64 {
	var b int64
	e.svc.Read(func(en *engine.Engine) error {
		sc, _ := en.MemberScorecard(member, e.clock.Now())
		b = sc.Points.Balance
		return nil
	})
	return b
}

func TestPortalRedeemAndConsoleDecide(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	e.grant(m, 5000)
	before := e.balance(m.ID)
	c := e.signIn(m, store.RoleMember)
	res, body := c.get("/portal/rewards")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Redeem Certification exam voucher") || !strings.Contains(body, "Your partner admin redeems this") {
		t.Fatalf("catalog: %d\n%s", res.StatusCode, body)
	}
	res, _ = c.post("/portal/rewards/exam-voucher/redeem", nil)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/portal/rewards?redeemed=rd_") {
		t.Fatalf("redeem: %d to %q", res.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/portal/rewards?redeemed=")
	if got := e.balance(m.ID); got != before-1500 {
		t.Errorf("balance after redeeming = %d, want %d held", got, before-1500)
	}
	_, body = c.get(loc)
	if !strings.Contains(body, "your request "+id+" is in") || !strings.Contains(body, "Pending") {
		t.Errorf("portal after redeeming lacks the notice or the pending row")
	}
	// A member cannot spend the team's points.
	if res, _ := c.post("/portal/rewards/mdf-boost/redeem", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("member redeeming a team reward: %d, want 403", res.StatusCode)
	}

	admin := e.staff(adminEmail, adminPassword)
	_, body = admin.get("/admin/redemptions")
	if !strings.Contains(body, `id="rd-`+id+`"`) || !strings.Contains(body, "Certification exam voucher") {
		t.Fatalf("queue lacks %s:\n%s", id, body)
	}
	manager := e.manager(m.Partner)
	if _, body := manager.get("/admin/redemptions"); !strings.Contains(body, id) || strings.Contains(body, `name="decision"`) {
		t.Errorf("a manager sees the partner's queue without decision buttons")
	}
	res, _ = admin.post("/admin/redemptions/"+url.PathEscape(id)+"/decision", url.Values{"decision": {"reject"}, "reason": {"Out of vouchers this quarter"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", res.StatusCode)
	}
	if got := e.balance(m.ID); got != before {
		t.Errorf("balance after reject = %d, want %d: points back", got, before)
	}
	res, body = admin.post("/admin/redemptions/"+url.PathEscape(id)+"/decision", url.Values{"decision": {"approve"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "was decided already") {
		t.Errorf("deciding twice: %d", res.StatusCode)
	}
	_, body = c.get("/portal/rewards")
	if !strings.Contains(body, "Rejected") || !strings.Contains(body, "Out of vouchers this quarter") {
		t.Errorf("the member does not see the rejection and its reason")
	}
	if _, body := c.get("/portal/points"); !strings.Contains(body, "Redemption "+id) || !strings.Contains(body, "Points back from redemption "+id) {
		t.Errorf("the member's points page does not list the redemption and the points back")
	}
	audit, _ := e.st.Audit(context.Background(), store.AuditFilter{Target: id})
	if len(audit) != 2 {
		t.Errorf("audit entries for %s = %+v, want the request and the rejection", id, audit)
	}
}

func TestPortalRedeemSaysWhichRuleFailed(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	e.grant(m, 5000)
	c := e.signIn(m, store.RoleMember)
	c.get("/portal/rewards")
	for i := range 2 {
		if res, _ := c.post("/portal/rewards/acme-hoodie/redeem", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("hoodie %d: %d", i+1, res.StatusCode)
		}
	}
	for _, tc := range []struct{ lang, refusal, catalog string }{
		{"en", "as often as allowed", "Redeemed 2 times already"},
		{"de", "so oft eingelöst wie erlaubt", "Bereits 2-mal eingelöst"},
	} {
		c.post("/locale", url.Values{"lang": {tc.lang}, "back": {"/portal/rewards"}})
		c.get("/portal/rewards")
		res, body := c.post("/portal/rewards/acme-hoodie/redeem", nil)
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, tc.refusal) || !strings.Contains(body, tc.catalog) {
			t.Errorf("%s: third hoodie: %d, want 409 saying %q and the catalog saying %q", tc.lang, res.StatusCode, tc.refusal, tc.catalog)
		}
	}
	if res, body := c.post("/portal/rewards/summit-pass/redeem", nil); res.StatusCode != http.StatusConflict || !strings.Contains(body, "Nicht eingelöst") {
		t.Errorf("summit pass (Elite only, or too dear): %d", res.StatusCode)
	}
}

func TestLiabilityReportPageAndCSV(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	e.grant(m, 5000) // enough for three redemptions, one in each state
	if _, err := e.svc.SeedDemoRedemptions(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep := e.svc.Liability(e.clock.Now())
	admin := e.staff(adminEmail, adminPassword)
	res, body := admin.get("/admin/liability")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `id="total"`) || !strings.Contains(body, "One point is worth €0.01") {
		t.Fatalf("liability page: %d\n%s", res.StatusCode, body)
	}
	if rep.Total.Points == 0 || rep.Total.Held == 0 {
		t.Fatalf("the demo should leave points outstanding and held: %+v", rep.Total)
	}
	res, body = admin.get("/admin/liability.csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if res.StatusCode != http.StatusOK || err != nil || len(rows) != len(rep.Partners)+2 || rows[0][0] != "partner" || rows[len(rows)-1][1] != "Total" {
		t.Errorf("CSV: %d, %v, %d rows", res.StatusCode, err, len(rows))
	}
	if res, _ := e.manager(e.data.Partners[0].ID).get("/admin/liability"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a manager reads the liability report: %d, want 403", res.StatusCode)
	}
	_, body = admin.get("/admin/redemptions?status=all")
	for _, s := range []string{"Pending", "Fulfilled", "Rejected"} {
		if !strings.Contains(body, "<td>"+s) {
			t.Errorf("the demo's redemptions lack one %s", s)
		}
	}
}

// TestRewardPagesAnswerEachRole walks the rewards pages as each role, as
// TestEveryPageAnswersEachRoleAsItShould does for the others; a manager
// sees only the redemptions of their partners.
func TestRewardPagesAnswerEachRole(t *testing.T) {
	e := newEnv(t, envOptions{})
	memA, _ := e.member(0)
	var memB rung.Member
	for _, m := range e.data.Members {
		if m.Partner != memA.Partner {
			memB = m
			break
		}
	}
	e.grant(memB, 5000)
	rdB, err := e.svc.Redeem(context.Background(), service.RedeemRequest{Reward: "exam-voucher", Member: memB.ID, By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var padminRec rung.Member
	for _, m := range e.data.Members {
		if m.Partner == memA.Partner && m.ID != memA.ID {
			padminRec = m
			break
		}
	}
	roles := map[string]*client{
		"anon":    e.client(),
		"member":  e.signIn(memA, store.RoleMember),
		"padmin":  e.signIn(padminRec, store.RolePartnerAdmin),
		"manager": e.manager(memA.Partner),
		"admin":   e.staff(adminEmail, adminPassword),
	}
	const (
		ok     = http.StatusOK
		login  = http.StatusSeeOther
		forbid = http.StatusForbidden
		nf     = http.StatusNotFound
	)
	rows := []struct {
		method, path string
		want         [5]int // anon, member, padmin, manager, admin
	}{
		{"GET", "/portal/rewards", [5]int{login, ok, ok, forbid, forbid}},
		{"POST", "/portal/rewards/nope/redeem", [5]int{login, nf, nf, forbid, forbid}},
		{"GET", "/admin/redemptions", [5]int{login, forbid, forbid, ok, ok}},
		{"GET", "/admin/redemptions?status=lost", [5]int{login, forbid, forbid, http.StatusBadRequest, http.StatusBadRequest}},
		{"POST", "/admin/redemptions/" + rdB.ID + "/decision", [5]int{login, forbid, forbid, forbid, http.StatusBadRequest}},
		{"GET", "/admin/liability", [5]int{login, forbid, forbid, forbid, ok}},
		{"GET", "/admin/liability.csv", [5]int{login, forbid, forbid, forbid, ok}},
	}
	for _, r := range rows {
		for i, role := range []string{"anon", "member", "padmin", "manager", "admin"} {
			c := roles[role]
			var res *http.Response
			if r.method == "GET" {
				res, _ = c.get(r.path)
			} else {
				if c.csrf == "" {
					c.get("/login")
				}
				res, _ = c.post(r.path, url.Values{})
			}
			if res.StatusCode != r.want[i] {
				t.Errorf("%s %s as %s: %d, want %d", r.method, r.path, role, res.StatusCode, r.want[i])
			}
		}
	}
	if _, body := roles["manager"].get("/admin/redemptions"); strings.Contains(body, rdB.ID) {
		t.Errorf("a manager of partner A sees partner B's redemption")
	}
	if _, body := roles["admin"].get("/admin/redemptions"); !strings.Contains(body, rdB.ID) {
		t.Errorf("the admin does not see partner B's redemption")
	}
	if _, body := roles["padmin"].get("/portal/rewards"); strings.Contains(body, "Certification exam voucher</td>") {
		t.Errorf("partner A's admin sees partner B's redemption")
	}
}

// TestRedemptionQueuePagesOldestFirst fills the queue past one page: the
// first page holds the longest waiting, the count is of the whole queue,
// and a manager's pages hold their partners' requests only.
func TestRedemptionQueuePagesOldestFirst(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	mA, _ := e.member(0)
	var mB rung.Member
	for _, m := range e.data.Members {
		if m.Partner != mA.Partner {
			mB = m
			break
		}
	}
	base := envNow.Add(-100 * time.Hour)
	put := func(id string, m rung.Member, at time.Time) {
		t.Helper()
		r := rung.Redemption{ID: id, Reward: "exam-voucher", Partner: m.Partner, Member: m.ID, Points: 1500,
			Status: rung.RedemptionPending, RequestedAt: at, RequestedBy: "test"}
		if err := e.st.PutRedemption(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// 60 of partner B's, requested hour after hour, then partner A's
	// newest of all.
	for i := range 60 {
		put(fmt.Sprintf("rd_b%02d", i), mB, base.Add(time.Duration(i)*time.Hour))
	}
	put("rd_a00", mA, base.Add(99*time.Hour))

	admin := e.staff(adminEmail, adminPassword)
	_, body := admin.get("/admin/redemptions")
	if !strings.Contains(body, "61 waiting for a decision") {
		t.Errorf("page 1 does not count the whole queue (61)")
	}
	if !strings.Contains(body, `id="rd-rd_b00"`) || !strings.Contains(body, `id="rd-rd_b49"`) || strings.Contains(body, `id="rd-rd_b50"`) || strings.Contains(body, `id="rd-rd_a00"`) {
		t.Errorf("page 1 does not hold exactly the 50 longest waiting")
	}
	if strings.Index(body, `id="rd-rd_b00"`) > strings.Index(body, `id="rd-rd_b01"`) {
		t.Errorf("page 1 is not oldest first")
	}
	if !strings.Contains(body, `href="/admin/redemptions?status=&offset=50"`) {
		t.Errorf("page 1 has no link to the next page")
	}
	_, body = admin.get("/admin/redemptions?status=&offset=50")
	if !strings.Contains(body, `id="rd-rd_b50"`) || !strings.Contains(body, `id="rd-rd_a00"`) || strings.Contains(body, `id="rd-rd_b49"`) || strings.Contains(body, "offset=100") {
		t.Errorf("page 2 does not hold the other 11, or links further")
	}
	_, body = e.manager(mA.Partner).get("/admin/redemptions")
	if !strings.Contains(body, "1 waiting for a decision") || !strings.Contains(body, `id="rd-rd_a00"`) || strings.Contains(body, "rd_b") {
		t.Errorf("partner A's manager does not see exactly partner A's one request")
	}
}

// TestRedemptionDecisionKeepsTheView decides from the "all" filter: the
// reviewer comes back to it, with the notice, not to the pending queue; a
// "back" that leaves the queue is not followed.
func TestRedemptionDecisionKeepsTheView(t *testing.T) {
	e := newEnv(t, envOptions{})
	m, _ := e.member(0)
	e.grant(m, 5000)
	admin := e.staff(adminEmail, adminPassword)
	for i, tc := range []struct{ back, want string }{
		{"/admin/redemptions?status=all", "/admin/redemptions?done=%s&status=all&to=fulfilled"},
		{"https://evil.example/admin/redemptions", "/admin/redemptions?done=%s&to=fulfilled"},
		{"/admin/members", "/admin/redemptions?done=%s&to=fulfilled"},
	} {
		rd, err := e.svc.Redeem(context.Background(), service.RedeemRequest{Reward: "exam-voucher", Member: m.ID, By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, body := admin.get("/admin/redemptions?status=all"); !strings.Contains(body, `name="back" value="/admin/redemptions?status=all"`) {
				t.Fatalf("the decision form does not carry the view it is on")
			}
		}
		res, _ := admin.post("/admin/redemptions/"+url.PathEscape(rd.ID)+"/decision", url.Values{"decision": {"approve"}, "back": {tc.back}})
		want := fmt.Sprintf(tc.want, rd.ID)
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != want {
			t.Errorf("decision from %q: %d to %q, want 303 to %q", tc.back, res.StatusCode, loc, want)
		}
	}
}
