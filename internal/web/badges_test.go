package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// A member who earns a badge sees it on the portal with its evidence and
// bonus points, in English and German, and the community feed says so.
func TestPortalShowsBadgesWithEvidenceAndTheFeedAnnouncesThem(t *testing.T) {
	e := newEnv(t, envOptions{})
	m := e.newcomer(0, "nova-1") // no badge yet: the demo's members may hold this one
	cert := rung.Event{ID: "lms:cert-badge-1", Type: "certification.earned", Partner: m.Partner, Member: m.ID,
		OccurredAt: e.clock.Now().Add(-time.Hour), Attrs: map[string]any{"cert": "architect", "cert_id": "ARCH-2026-0042"}}
	if _, err := e.svc.Ingest(context.Background(), []*service.Incoming{{Event: cert}}); err != nil {
		t.Fatal(err)
	}
	if err := e.web.stats.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	member := e.signIn(m, store.RoleMember)
	for _, tt := range []struct{ lang, heading, evidence, feed string }{
		{"en", "Badges", "Evidence: ARCH-2026-0042", "earned Certified Architect"},
		{"de", "Abzeichen", "Nachweis: ARCH-2026-0042", "hat Certified Architect erhalten"},
	} {
		member.lang = tt.lang
		res, body := member.get("/portal")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s /portal: %d", tt.lang, res.StatusCode)
		}
		badges := section(body, `id="badges-h"`)
		for _, want := range []string{tt.heading, "Certified Architect", tt.evidence} {
			if !strings.Contains(badges, want) {
				t.Errorf("%s: the badges section lacks %q:\n%s", tt.lang, want, badges)
			}
		}
		if feed := section(body, `id="feed"`); !strings.Contains(feed, tt.feed) || !strings.Contains(feed, m.Name) {
			t.Errorf("%s: the feed does not announce %s's badge (%q):\n%s", tt.lang, m.Name, tt.feed, feed)
		}
	}
}

// section returns the page from marker to the end of its section.
func section(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if j := strings.Index(rest, "</section>"); j >= 0 {
		return rest[:j]
	}
	return rest
}

// The console's member page lists the member's badges with their evidence
// and the partners the member has belonged to.
func TestConsoleMemberPageShowsBadgesAndMemberships(t *testing.T) {
	e := newEnv(t, envOptions{})
	m := e.newcomer(0, "nova-2")
	cert := rung.Event{ID: "lms:cert-badge-2", Type: "certification.earned", Partner: m.Partner, Member: m.ID,
		OccurredAt: e.clock.Now().Add(-time.Hour), Attrs: map[string]any{"cert": "architect", "cert_id": "ARCH-2026-0077"}}
	if _, err := e.svc.Ingest(context.Background(), []*service.Incoming{{Event: cert}}); err != nil {
		t.Fatal(err)
	}
	admin := e.staff(adminEmail, adminPassword)
	res, body := admin.get("/admin/members/" + m.ID)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("member page: %d", res.StatusCode)
	}
	badges := section(body, `id="member-badges-h"`)
	for _, want := range []string{"Certified Architect", "ARCH-2026-0077"} {
		if !strings.Contains(badges, want) {
			t.Errorf("the member's badges lack %q:\n%s", want, badges)
		}
	}
	if ms := section(body, `id="memberships-h"`); !strings.Contains(ms, `/admin/partners/`+m.Partner) {
		t.Errorf("the memberships do not name partner %s:\n%s", m.Partner, ms)
	}
}
