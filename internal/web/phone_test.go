package web

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rung-dev/rung/internal/store"
)

// The main pages fit a phone's width without sideways scrolling, every
// form control has a label a screen reader can read, all text meets WCAG
// AA contrast, and the first tab stop is a link or control (keyboard use).
func TestBrowserPagesFitAPhoneAndLabelEveryControl(t *testing.T) {
	ctx := browser(t)
	e := browserEnv(t)
	m, _ := e.member(0)
	if err := SetMemberRole(context.Background(), e.st, m, store.RolePartnerAdmin, "test", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// overflow: how far the page is wider than the window; unlabelled: the
	// form controls without a label, aria-label or aria-labelledby.
	const check = `(function(){
		var over = document.documentElement.scrollWidth - document.documentElement.clientWidth;
		var bad = [];
		document.querySelectorAll("input, select, textarea").forEach(function(el){
			if (el.type === "hidden" || el.type === "submit" || el.closest("[aria-hidden=true]") || el.offsetParent === null) return;
			var named = el.labels && el.labels.length > 0 || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
			if (!named) bad.push(el.name || el.id || el.outerHTML.slice(0, 60));
		});
		// WCAG contrast of every visible text against its background.
		function rgb(c){ var m = c.match(/[\d.]+/g); return m ? m.map(Number) : [0,0,0,0]; }
		function lum(c){ var a = c.slice(0,3).map(function(v){ v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); }); return 0.2126*a[0] + 0.7152*a[1] + 0.0722*a[2]; }
		function bg(el){ for (; el; el = el.parentElement) { var c = rgb(getComputedStyle(el).backgroundColor); if (c.length < 4 || c[3] > 0) return c; } return [255,255,255]; }
		var low = [];
		document.querySelectorAll("body *").forEach(function(el){
			var own = Array.prototype.some.call(el.childNodes, function(n){ return n.nodeType === 3 && n.textContent.trim() !== ""; });
			if (!own || el.offsetParent === null) return;
			var st = getComputedStyle(el), l1 = lum(rgb(st.color)), l2 = lum(bg(el));
			var ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
			var large = parseFloat(st.fontSize) >= 24 || (parseFloat(st.fontSize) >= 18.66 && parseInt(st.fontWeight) >= 700);
			if (ratio < (large ? 3 : 4.5)) low.push(el.tagName + " \"" + el.textContent.trim().slice(0, 30) + "\" " + ratio.toFixed(2));
		});
		return {over: over, unlabelled: bad.join(", "), lowContrast: low.slice(0, 5).join("; ")};
	})()`
	type result struct {
		Over       int    `json:"over"`
		Unlabelled string `json:"unlabelled"`
		Low        string `json:"lowContrast"`
	}
	look := func(what, url, ready string) {
		t.Helper()
		var r result
		run(t, ctx, what,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
			chromedp.Navigate(url),
			chromedp.WaitVisible(ready, chromedp.ByQuery),
			chromedp.Evaluate(check, &r),
		)
		if r.Over > 0 {
			t.Errorf("%s: the page is %d px wider than a 390 px phone screen", what, r.Over)
		}
		if r.Unlabelled != "" {
			t.Errorf("%s: form controls without a label: %s", what, r.Unlabelled)
		}
		if r.Low != "" {
			t.Errorf("%s: text below WCAG AA contrast: %s", what, r.Low)
		}
	}
	// The check itself finds a page too wide and a control without a label.
	var probe result
	run(t, ctx, "probe",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(`data:text/html,<meta name="viewport" content="width=device-width"><div style="width:1000px;color:%23ccc">wide</div><input name="nolabel">`),
		chromedp.WaitVisible("div", chromedp.ByQuery),
		chromedp.Evaluate(check, &probe),
	)
	if probe.Over <= 0 || probe.Unlabelled != "nolabel" || probe.Low == "" {
		t.Fatalf("the check misses a wide page, an unlabelled control or pale text: %+v", probe)
	}
	run(t, ctx, "member signs in",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(e.srv.URL+e.link(m)),
		chromedp.WaitVisible("#use-link", chromedp.ByID),
		chromedp.Click("#use-link", chromedp.ByID),
		chromedp.WaitVisible("#points", chromedp.ByID),
	)
	look("portal", e.srv.URL+"/portal", "#points")
	look("my points", e.srv.URL+"/portal/points", "main")
	look("team", e.srv.URL+"/portal/team", "#team")
	look("leaderboards", e.srv.URL+"/portal/leaderboards", "main")
	look("registrations", e.srv.URL+"/portal/registrations", "main")
	look("rewards", e.srv.URL+"/portal/rewards", "#catalog")
	var first string
	run(t, ctx, "keyboard",
		chromedp.Navigate(e.srv.URL+"/portal"),
		chromedp.WaitVisible("#points", chromedp.ByID),
		chromedp.KeyEvent("\t"),
		chromedp.Evaluate(`document.activeElement ? document.activeElement.tagName : ""`, &first),
	)
	if first != "A" && first != "BUTTON" && first != "SELECT" && first != "INPUT" {
		t.Errorf("the first tab stop is %q, want a link or a control", first)
	}

	// The console, signed in as an admin in a browser of its own.
	admin := browser(t)
	var r result
	run(t, admin, "admin signs in",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible("#email", chromedp.ByID),
		chromedp.Evaluate(check, &r),
		chromedp.SendKeys("#email", adminEmail, chromedp.ByID),
		chromedp.SendKeys("#password", adminPassword, chromedp.ByID),
		chromedp.Click("#sign-in", chromedp.ByID),
		chromedp.WaitVisible("#overview", chromedp.ByID),
	)
	if r.Over > 0 || r.Unlabelled != "" {
		t.Errorf("sign-in page: %d px too wide, unlabelled: %q", r.Over, r.Unlabelled)
	}
	ctx = admin
	look("overview", e.srv.URL+"/admin", "#overview")
	look("partners", e.srv.URL+"/admin/partners", "main")
	look("members", e.srv.URL+"/admin/members", "main")
	look("program", e.srv.URL+"/admin/program", "main")
	look("API keys", e.srv.URL+"/admin/apikeys", "main")
	look("audit", e.srv.URL+"/admin/audit", "main")
	look("registration queue", e.srv.URL+"/admin/registrations", "main")
	look("registration metrics", e.srv.URL+"/admin/registrations/metrics", "#overall")
	if _, err := e.svc.SeedDemoRedemptions(context.Background()); err != nil {
		t.Fatal(err)
	}
	look("redemption queue", e.srv.URL+"/admin/redemptions", "#queue")
	look("liability", e.srv.URL+"/admin/liability", "#liability")
}
