package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserMemberRedeemsAndAdminApproves: a member redeems a reward
// from the portal's catalog, sees it pending, signs out; an admin approves
// it from the console's queue and reads the liability report.
func TestBrowserMemberRedeemsAndAdminApproves(t *testing.T) {
	ctx := browser(t)
	e := browserEnv(t)
	m, _ := e.member(0)
	e.grant(m, 3000)
	var notice, mine string
	run(t, ctx, "redeem",
		chromedp.Navigate(e.srv.URL+e.link(m)),
		chromedp.WaitVisible("#use-link", chromedp.ByID),
		chromedp.Click("#use-link", chromedp.ByID),
		chromedp.WaitVisible("#points", chromedp.ByID),
		chromedp.Navigate(e.srv.URL+"/portal/rewards"),
		chromedp.WaitVisible("#catalog", chromedp.ByID),
		shot("portal-rewards"),
		chromedp.Click("#redeem-exam-voucher", chromedp.ByID),
		chromedp.WaitVisible("#notice", chromedp.ByID),
		chromedp.Text("#notice", &notice, chromedp.ByID),
		chromedp.Text("#my-redemptions", &mine, chromedp.ByID),
	)
	if !strings.Contains(notice, "rd_") || !strings.Contains(mine, "Certification exam voucher") || !strings.Contains(mine, "Pending") {
		t.Fatalf("after redeeming: notice %q, redemptions %q", notice, mine)
	}
	id := notice[strings.Index(notice, "rd_"):]
	id = id[:strings.IndexByte(id, ' ')]

	var done, total string
	run(t, ctx, "approve",
		chromedp.Click(`form[action="/logout"] button`, chromedp.ByQuery),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.SendKeys("#email", adminEmail, chromedp.ByID),
		chromedp.SendKeys("#password", adminPassword, chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible("#overview", chromedp.ByID),
		chromedp.Navigate(e.srv.URL+"/admin/redemptions"),
		chromedp.WaitVisible("#approve-"+id, chromedp.ByID),
		shot("admin-redemptions"),
		chromedp.SendKeys("#reason-"+id, "Voucher code sent by e-mail", chromedp.ByID),
		chromedp.Click("#approve-"+id, chromedp.ByID),
		chromedp.WaitVisible("#notice", chromedp.ByID),
		chromedp.Text("#notice", &done, chromedp.ByID),
		chromedp.Navigate(e.srv.URL+"/admin/liability"),
		chromedp.WaitVisible("#liability", chromedp.ByID),
		chromedp.Text("#total", &total, chromedp.ByID),
		shot("admin-liability"),
	)
	if !strings.Contains(done, id) || !strings.Contains(done, "Fulfilled") {
		t.Errorf("after approving: %q", done)
	}
	if !strings.Contains(total, "Total") || !strings.Contains(total, "€") {
		t.Errorf("liability total row: %q", total)
	}
}
