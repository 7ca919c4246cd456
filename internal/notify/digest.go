package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/jobs"
	"github.com/rung-dev/rung/internal/store"
)

// DigestView is the weekly standings of one member or partner, as a
// message shows them.
type DigestView struct {
	Title       string
	Name        string
	Points      int64
	NextLevel   string
	ToLevelText string // "120 points to Pro"
	NextTier    string
	ToTierText  string
	Places      []Place
	// Challenges are the active challenges, one line each ("Q4 Sprint: 12
	// (place 3)"); empty when the program has none running.
	Challenges []string
}

// Place is a place on one leaderboard and how it moved in a week.
type Place struct {
	Board     string
	Rank, Of  int
	Moved     int    // places gained since last week; negative: lost
	Arrow     string // ↑, ↓ or →
	MovedText string
}

// Digest computes the weekly standings of a member (subjectKind "member")
// or partner ("partner") as of t, in a language: place on every board and
// the movement since t minus a week, points to the next level, the next
// tier, the active challenges.
func (s *Service) Digest(subjectKind, id string, t time.Time, l string) (DigestView, error) {
	l = lang(l)
	var d DigestView
	err := s.svc.Read(func(e *engine.Engine) error {
		var now, last engine.Scorecard
		var err error
		switch subjectKind {
		case "member":
			if now, err = e.MemberScorecard(id, t); err == nil {
				last, err = e.MemberScorecard(id, t.AddDate(0, 0, -7))
			}
		case "partner":
			if now, err = e.PartnerScorecard(id, t); err == nil {
				last, err = e.PartnerScorecard(id, t.AddDate(0, 0, -7))
			}
		default:
			return rung.Errorf(rung.EINVALID, "a digest is for a member or a partner, not %q", subjectKind)
		}
		if err != nil {
			return err
		}
		d.Name, d.Points = now.Name, now.Points.Balance
		d.Title = catalog[l][KindDigest].title
		if now.Name != "" {
			d.Title += " · " + now.Name
		}
		if lc := now.Level; lc != nil && lc.Next != "" {
			d.NextLevel = lc.Next
			d.ToLevelText = fmt.Sprintf(word(l, "to_level"), max(lc.NextAt-now.Points.Lifetime, 0), lc.Next)
		}
		if tc := now.Tier; tc != nil && tc.Next != "" {
			d.NextTier = tc.Next
			d.ToTierText = fmt.Sprintf(word(l, "to_tier"), tc.Next)
		}
		names := map[string]string{}
		if p := e.Program(); p != nil {
			for _, b := range p.Leaderboards {
				names[b.ID] = b.Name
			}
		}
		before := map[string]int{}
		for _, st := range last.Ranks {
			before[st.Leaderboard] = st.Rank
		}
		for _, st := range now.Ranks {
			if st.Rank == 0 {
				continue
			}
			p := Place{Board: names[st.Leaderboard], Rank: st.Rank, Of: st.Of, Arrow: "→", MovedText: word(l, "same")}
			if p.Board == "" {
				p.Board = st.Leaderboard
			}
			if b := before[st.Leaderboard]; b > 0 {
				p.Moved = b - st.Rank
			}
			switch {
			case p.Moved > 0:
				p.Arrow, p.MovedText = "↑", fmt.Sprintf(word(l, "moved_up"), p.Moved)
			case p.Moved < 0:
				p.Arrow, p.MovedText = "↓", fmt.Sprintf(word(l, "moved_down"), -p.Moved)
			}
			d.Places = append(d.Places, p)
		}
		for _, c := range now.Challenges {
			if c.Final {
				continue
			}
			line := fmt.Sprintf("%s: %g", c.Name, c.Value)
			if c.Goal != nil {
				line += fmt.Sprintf(" / %g", *c.Goal)
			}
			if c.Rank > 0 {
				line += fmt.Sprintf(" (%s %d)", word(l, "place"), c.Rank)
			}
			d.Challenges = append(d.Challenges, line)
		}
		return nil
	})
	return d, err
}

// digestView renders a digest notification's standings.
func (s *Service) digestView(_ context.Context, n store.Notification, data map[string]any, l string) (DigestView, error) {
	t := n.CreatedAt
	if v, ok := data["as_of"].(string); ok {
		if at, err := time.Parse(time.RFC3339Nano, v); err == nil {
			t = at
		}
	}
	kind, id := "member", n.Member
	if n.Member == "" {
		kind, id = "partner", n.Partner
	}
	return s.Digest(kind, id, t, l)
}

// PreviewDigest renders the weekly digest e-mail of a member or partner as
// of t, as it would be sent: the subject, the text and the HTML.
func (s *Service) PreviewDigest(ctx context.Context, subjectKind, id string, t time.Time, l string) (Mail, error) {
	if l == "" {
		p := s.prefs(ctx, id)
		l = p.Language
		if l == "" {
			if m, ok := s.member(id); ok && subjectKind == "member" {
				l = attr(m.Attrs, "language")
			} else if p, ok := s.partner(id); ok {
				l = attr(p.Attrs, "language")
			}
		}
	}
	l = lang(l)
	d, err := s.Digest(subjectKind, id, t, l)
	if err != nil {
		return Mail{}, err
	}
	items := []Item{{Kind: KindDigest, Title: d.Title, Line: word(l, "digest_intro"), Link: s.o.BaseURL + "/portal", LinkText: word(l, "open"), Digest: &d}}
	text, html, err := render(l, d.Title, items, "", "")
	if err != nil {
		return Mail{}, err
	}
	return Mail{Subject: d.Title, Lang: l, Text: text, HTML: html, Date: t}, nil
}

// DigestPeriod is the start of the digest's week for t: Monday 08:00 UTC.
func DigestPeriod(t time.Time) time.Time {
	t = t.UTC().Add(-8 * time.Hour)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	wd := (int(day.Weekday()) + 6) % 7 // Monday 0
	return day.AddDate(0, 0, -wd).Add(8 * time.Hour)
}

// EnqueueDigests enqueues the weekly digest of the week starting at
// period for every member with an e-mail address and every partner with a
// notify_email or a Slack webhook. Running it again for the same week
// enqueues nothing new. It returns how many it enqueued.
func (s *Service) EnqueueDigests(ctx context.Context, period time.Time) (int, error) {
	y, w := period.ISOWeek()
	week := fmt.Sprintf("%04d-W%02d", y, w)
	asOf := period.UTC().Format(time.RFC3339Nano)
	var ts []Trigger
	s.svc.Read(func(e *engine.Engine) error {
		for _, id := range e.MemberIDs("") {
			if m, ok := e.Member(id); ok && m.Email != "" && m.PartnerAt(period) != "" {
				ts = append(ts, Trigger{ID: "digest:member:" + id + ":" + week, Kind: KindDigest, Member: id, Partner: m.PartnerAt(period),
					Data: map[string]any{"week": week, "as_of": asOf}})
			}
		}
		for _, id := range e.PartnerIDs() {
			if p, ok := e.Partner(id); ok && (attr(p.Attrs, "notify_email") != "" || attr(p.Attrs, "slack_webhook_url") != "") {
				ts = append(ts, Trigger{ID: "digest:partner:" + id + ":" + week, Kind: KindDigest, Partner: id,
					Data: map[string]any{"week": week, "as_of": asOf}})
			}
		}
		return nil
	})
	const chunk = 500
	for i := 0; i < len(ts); i += chunk {
		if err := s.Enqueue(ctx, ts[i:min(i+chunk, len(ts))]...); err != nil {
			return i, err
		}
	}
	return len(ts), nil
}

// DigestLate is how late a week's digest may still go out: a server
// started on a Thursday does not send Monday's digest then.
const DigestLate = 24 * time.Hour

// DigestJob is the weekly digest for the job runner: on Monday at 08:00
// UTC it enqueues the week's digests, which the delivery loop sends in
// each recipient's language (after their quiet hours). A week whose
// digest would be more than DigestLate late is skipped.
func (s *Service) DigestJob() jobs.Job {
	return jobs.Job{
		Name:    "notify-digest",
		Period:  DigestPeriod,
		Timeout: 30 * time.Minute,
		Run: func(ctx context.Context, period time.Time) error {
			if late := s.svc.Now().Sub(period); late > DigestLate {
				s.log.Info("notify: this week's digest is skipped: it would be late", "week", period.Format("2006-01-02"), "late", late.Round(time.Minute))
				return nil
			}
			n, err := s.EnqueueDigests(ctx, period)
			s.log.Info("notify: weekly digests enqueued", "week", period.Format("2006-01-02"), "digests", n)
			return err
		},
	}
}

// describe is a digest's one-line summary for Slack and logs.
func (d DigestView) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", d.Points)
	for _, p := range d.Places {
		fmt.Fprintf(&b, " · %s %d/%d %s", p.Board, p.Rank, p.Of, p.Arrow)
	}
	return b.String()
}
