package web

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/store"
)

// TestListPagersLinkToTheNextPage follows the partners', members' and
// registrations' "Next" links: each leads to the next page of the same
// search (the filters were once escaped into one meaningless parameter).
func TestListPagersLinkToTheNextPage(t *testing.T) {
	e := newEnv(t, envOptions{partners: 60, members: 120, months: 2})
	admin := e.staff(adminEmail, adminPassword)
	next := regexp.MustCompile(`<a href="([^"]*offset=50)">Next`)
	for _, list := range []string{"/admin/partners", "/admin/members"} {
		_, body := admin.get(list)
		m := next.FindStringSubmatch(body)
		if m == nil {
			t.Errorf("%s: no Next link on page 1", list)
			continue
		}
		link := html.UnescapeString(m[1])
		if !strings.HasPrefix(link, list+"?q=&") {
			t.Errorf("%s: Next links to %q, want the same search's next page", list, link)
		}
		res, page2 := admin.get(link)
		if res.StatusCode != 200 || page2 == body || !strings.Contains(page2, "Previous") {
			t.Errorf("%s: following %q: %d, a page 2 with a Previous link wanted", list, link, res.StatusCode)
		}
	}
	m0, _ := e.member(0)
	for i := range regQueuePage + 1 {
		e.register(m0, fmt.Sprintf("Company %03d", i), fmt.Sprintf("company%03d.io", i))
	}
	_, body := admin.get("/admin/registrations?all=1")
	m := regexp.MustCompile(`<a href="([^"]*page=2)" rel="next">`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("registrations: no Next link on page 1 of everything")
	}
	if link := html.UnescapeString(m[1]); link != "/admin/registrations?all=1&page=2" {
		t.Errorf("registrations: Next links to %q, want page 2 of everything", link)
	}
}

// TestRegistrationDecisionKeepsThePage decides from page 2 of the queue
// with the closed registrations shown: the reviewer comes back to that
// page and view, with the notice (they were sent to page 1 of the
// active ones).
func TestRegistrationDecisionKeepsThePage(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.staff(adminEmail, adminPassword)
	m0, _ := e.member(0)
	for i := range regQueuePage + 2 {
		e.register(m0, fmt.Sprintf("Company %03d", i), fmt.Sprintf("company%03d.io", i))
	}
	_, body := admin.get("/admin/registrations?all=1&page=2")
	form := regexp.MustCompile(`(?s)<form method="post" action="(/admin/registrations/[^"]+/decision)" class="decide">(.*?)</form>`).FindStringSubmatch(body)
	if form == nil {
		t.Fatalf("no decision form on page 2")
	}
	values := url.Values{"decision": {"approve"}}
	for _, f := range regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`).FindAllStringSubmatch(form[2], -1) {
		values.Set(f[1], html.UnescapeString(f[2]))
	}
	res, _ := admin.post(html.UnescapeString(form[1]), values)
	if res.StatusCode != 303 {
		t.Fatalf("decision: %d", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if loc.Path != "/admin/registrations" || q.Get("all") != "1" || q.Get("page") != "2" || q.Get("done") == "" || q.Get("status") != "approved" {
		t.Errorf("after deciding on page 2 of everything: sent to %q", loc)
	}
	if _, body := admin.get(loc.String()); !strings.Contains(body, `id="notice"`) || !strings.Contains(body, "Page 2 of 2") {
		t.Errorf("the page came back to lacks the notice or is not page 2")
	}
}

// TestPortalBoardShowsTheViewersPlace signs in a member ranked below the
// board's top 50: the page shows the top, a gap and the rows around them.
func TestPortalBoardShowsTheViewersPlace(t *testing.T) {
	e := newEnv(t, envOptions{partners: 30, members: 150, months: 3})
	var board string
	var low engine.BoardEntry
	e.svc.Read(func(en *engine.Engine) error {
		for _, b := range en.Program().Leaderboards {
			if b.For != program.SubjectMember || b.Cohort != "" {
				continue
			}
			pg, err := en.Leaderboard(b.ID, engine.BoardQuery{Limit: 1000})
			if err != nil || len(pg.Entries) < 60 {
				continue
			}
			board, low = b.ID, pg.Entries[57]
			return nil
		}
		return nil
	})
	if board == "" {
		t.Fatal("no member board ranks 60 members: the test checks nothing")
	}
	var m rung.Member
	for _, x := range e.data.Members {
		if x.ID == low.Subject {
			m = x
		}
	}
	_, body := e.signIn(m, store.RoleMember).get("/portal/leaderboards/" + board)
	if strings.Count(body, "<tr") < 50+1+3 || !strings.Contains(body, `id="board-gap"`) || !strings.Contains(body, `id="board-me"`) {
		t.Fatalf("a member ranked %d does not see the top, a gap and their own row", low.Rank)
	}
	if me := body[strings.Index(body, `id="board-me"`):]; !strings.Contains(me[:min(len(me), 200)], fmt.Sprintf(">%d<", low.Rank)) {
		t.Errorf("the member's row does not show their rank %d", low.Rank)
	}
	if strings.Index(body, `id="board-gap"`) > strings.Index(body, `id="board-me"`) {
		t.Errorf("the gap comes after the member's row")
	}
}
