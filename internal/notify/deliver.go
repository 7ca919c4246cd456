package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// MaxAttempts is how often a notification is tried before it is given up
// (recorded as sent on channel "failed", with its last error).
const MaxAttempts = 8

// slackKinds are the kinds a partner's Slack channel hears about.
var slackKinds = []string{KindBadge, KindLevel, KindTierChange, KindNudge, KindChallengeStart, KindChallengeStandings,
	KindChallengeResult, KindRegistrationDecision, KindSLAWarning, KindDigest}

// Run delivers due notifications, and turns what the event log brings
// into triggers (watch.go), every tick while leading() is true, until ctx
// ends. Every instance may run it: only the job runner's leader (pass
// (*jobs.Runner).Leading) delivers, so several instances do not send a
// notification twice.
func (s *Service) Run(ctx context.Context, leading func() bool, tick time.Duration) {
	if tick <= 0 {
		tick = time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if leading == nil || leading() {
			if _, err := s.Watch(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("notify: cannot read the event log for notifications", "err", err)
			}
			if _, err := s.Deliver(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("notify: delivery failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// group is the notifications one message carries: one recipient's, due
// in the same window (a digest always goes alone).
type group struct {
	member, partner string
	ns              []store.Notification
}

// Deliver sends every notification due now, one message per recipient and
// channel, and returns how many notifications it handled.
//
// What went out is recorded as sent once, at the end of the step, in one
// write per set of channels rather than one per recipient: a crash before
// that write sends the step's messages again (at least once, as after a
// crash between a send and its record), and nothing is recorded that was
// not sent.
func (s *Service) Deliver(ctx context.Context) (handled int, err error) {
	now := s.svc.Now().UTC()
	due, err := s.st.DueNotifications(ctx, now, 500)
	if err != nil {
		return 0, err
	}
	sent := sentMarks{}
	defer func() {
		// Recorded even when ctx ended meanwhile: they went out.
		if ferr := sent.record(context.WithoutCancel(ctx), s.st, now); ferr != nil {
			handled, err = 0, ferr
		}
	}()
	for _, g := range groupDue(due) {
		if ctx.Err() != nil {
			return sent.handled, ctx.Err()
		}
		channels, err := s.deliverGroup(ctx, g, now)
		if err != nil {
			s.log.Warn("notify: delivery failed; trying again later", "member", g.member, "partner", g.partner, "notifications", len(g.ns), "err", err)
			for _, n := range g.ns {
				if n.Attempts+1 >= MaxAttempts {
					sent.add("failed", n.ID)
					s.log.Error("notify: notification given up", "id", n.ID, "attempts", n.Attempts+1, "err", err)
					continue
				}
				backoff := time.Duration(1<<min(n.Attempts, 6)) * time.Minute
				if err := s.st.DeferNotification(ctx, n.ID, now.Add(backoff), clip(err.Error(), 500)); err != nil {
					return sent.handled, err
				}
			}
			continue
		}
		for _, n := range g.ns {
			sent.add(channels, n.ID)
		}
		sent.handled += len(g.ns)
	}
	return sent.handled, nil
}

// groupDue groups due notifications by recipient, in the order they came.
func groupDue(due []store.Notification) []*group {
	var groups []*group
	byKey := map[string]*group{}
	for _, n := range due {
		key := n.Member + "\x00" + n.Partner
		if n.Kind == KindDigest {
			key += "\x00" + n.ID
		}
		g := byKey[key]
		if g == nil {
			g = &group{member: n.Member, partner: n.Partner}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.ns = append(g.ns, n)
	}
	return groups
}

// sentMarks are the notifications a step sent (or gave up), by the
// channels to record, and how many it delivered.
type sentMarks struct {
	ids     map[string][]string
	handled int
}

func (m *sentMarks) add(channels, id string) {
	if m.ids == nil {
		m.ids = map[string][]string{}
	}
	m.ids[channels] = append(m.ids[channels], id)
}

// record stores the marks: one write per set of channels.
func (m *sentMarks) record(ctx context.Context, st store.Notifications, now time.Time) error {
	for _, ch := range slices.Sorted(maps.Keys(m.ids)) {
		if err := st.MarkNotificationsSent(ctx, m.ids[ch], now, ch); err != nil {
			return err
		}
	}
	m.ids = nil
	return nil
}

// recipient is where one group's messages go.
type recipient struct {
	name, email, lang, slack string
	prefs                    store.NotificationPrefs
	member                   string
}

// recipientOf finds a group's addresses and language.
func (s *Service) recipientOf(ctx context.Context, g *group) recipient {
	var r recipient
	switch {
	case g.member != "":
		r.member = g.member
		r.prefs = s.prefs(ctx, g.member)
		if m, ok := s.member(g.member); ok {
			r.name, r.email = m.Name, m.Email
			r.lang = r.prefs.Language
			if r.lang == "" {
				r.lang = attr(m.Attrs, "language")
			}
			if g.partner == "" {
				g.partner = m.Partner
			}
		}
		if p, ok := s.partner(g.partner); ok {
			r.slack = attr(p.Attrs, "slack_webhook_url")
		}
	case g.partner != "":
		if p, ok := s.partner(g.partner); ok {
			r.name, r.email, r.lang, r.slack = p.Name, attr(p.Attrs, "notify_email"), attr(p.Attrs, "language"), attr(p.Attrs, "slack_webhook_url")
		}
	default:
		r.name, r.email, r.slack = "Channel team", s.o.TeamEmail, s.o.TeamSlack
	}
	r.lang = lang(r.lang)
	return r
}

// attr reads a string attribute.
func attr(attrs map[string]any, k string) string {
	if v, ok := attrs[k].(string); ok {
		return strings.TrimSpace(v)
	}
	return ""
}

// deliverGroup sends one group's e-mail and Slack message and returns the
// channels it went on. A failed e-mail fails the group (tried again
// later); a failed Slack post after a sent e-mail is logged, so the
// e-mail is not sent twice.
func (s *Service) deliverGroup(ctx context.Context, g *group, now time.Time) (string, error) {
	r := s.recipientOf(ctx, g)
	var mailItems, slackItems []Item
	var mailKinds []string
	for _, n := range g.ns {
		it, err := s.item(ctx, n, r)
		if err != nil {
			return "", err
		}
		if Allowed(r.prefs, ChannelEmail, n.Kind) {
			mailItems = append(mailItems, it)
			if !slices.Contains(mailKinds, n.Kind) {
				mailKinds = append(mailKinds, n.Kind)
			}
		}
		if slices.Contains(slackKinds, n.Kind) && Allowed(r.prefs, ChannelSlack, n.Kind) {
			if it.Digest != nil {
				it.Line = word(r.lang, "points") + ": " + it.Digest.describe()
			}
			slackItems = append(slackItems, it)
		}
	}
	var channels []string
	if len(mailItems) > 0 && r.email != "" && s.o.Mail != nil {
		scope := ChannelEmail + ":*"
		if len(mailKinds) == 1 {
			scope = ChannelEmail + ":" + mailKinds[0]
		}
		if err := s.sendMail(ctx, r, mailItems, scope, g.ns[0].ID, now); err != nil {
			return "", err
		}
		channels = append(channels, ChannelEmail)
	}
	if len(slackItems) > 0 && r.slack != "" {
		if err := s.postSlack(ctx, r.slack, slackMessage(slackItems)); err != nil {
			if len(channels) == 0 {
				return "", err
			}
			s.log.Warn("notify: slack post failed after the e-mail went out; not retried", "member", g.member, "partner", g.partner, "err", err)
		} else {
			channels = append(channels, ChannelSlack)
		}
	}
	return strings.Join(channels, " "), nil
}

// item renders one notification for a recipient.
func (s *Service) item(ctx context.Context, n store.Notification, r recipient) (Item, error) {
	var data map[string]any
	if err := json.Unmarshal(n.Data, &data); err != nil {
		return Item{}, fmt.Errorf("notification %s: data: %w", n.ID, err)
	}
	it := Item{Kind: n.Kind}
	it.Title, it.Line = phraseOf(r.lang, n.Kind, data)
	if r.member != "" || n.Kind == KindDigest {
		it.Link, it.LinkText = s.o.BaseURL+"/portal", word(r.lang, "open")
	}
	if n.Kind == KindDigest {
		d, err := s.digestView(ctx, n, data, r.lang)
		if err != nil {
			return Item{}, err
		}
		it.Digest = &d
		it.Title, it.Line = d.Title, word(r.lang, "digest_intro")
	}
	return it, nil
}

// sendMail composes and sends one message of items.
func (s *Service) sendMail(ctx context.Context, r recipient, items []Item, scope, first string, now time.Time) error {
	subject := items[0].Title
	if len(items) > 1 {
		subject = fmt.Sprintf(word(r.lang, "updates"), len(items))
	}
	var unsub, unsubText string
	if r.member != "" {
		key, err := s.key(ctx)
		if err != nil {
			return err
		}
		unsub = s.o.BaseURL + "/notify/unsubscribe?t=" + UnsubscribeToken(key, r.member, scope)
		unsubText = word(r.lang, "unsubscribe")
		if scope == ChannelEmail+":*" {
			unsubText = word(r.lang, "unsubscribe_all")
		}
	}
	text, html, err := render(r.lang, subject, items, unsub, unsubText)
	if err != nil {
		return err
	}
	to := (&mail.Address{Name: r.name, Address: r.email}).String()
	m := Mail{From: s.o.From, To: to, Subject: subject, Lang: r.lang, Text: text, HTML: html, Unsubscribe: unsub, Date: now}
	if _, host, ok := strings.Cut(fromAddress(s.o.From), "@"); ok {
		m.MessageID = messageID(first, now) + "@" + host
	}
	raw, err := m.Bytes()
	if err != nil {
		return rung.Errorf(rung.EINVALID, "notify: %v", err)
	}
	return s.o.Mail.Send(ctx, fromAddress(s.o.From), []string{r.email}, raw)
}

// fromAddress is the bare address of a From value.
func fromAddress(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		return a.Address
	}
	return from
}

// messageID makes a Message-ID local part from a notification id: the
// same message sent again after a failure keeps its id, so receivers can
// tell it is one message.
func messageID(id string, now time.Time) string {
	var b strings.Builder
	for _, r := range id {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			b.WriteRune(r)
		} else {
			b.WriteByte('.')
		}
	}
	return "rung." + clip(b.String(), 120) + "." + fmt.Sprint(now.Unix()/60)
}

// clip shortens s to at most n bytes.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// sendLink sends a magic sign-in link at once.
func (s *Service) sendLink(ctx context.Context, t Trigger) error {
	m, ok := s.member(t.Member)
	if !ok {
		return rung.Errorf(rung.ENOTFOUND, "member %q not found", t.Member)
	}
	if m.Email == "" {
		return rung.Errorf(rung.EINVALID, "member %q has no e-mail address for the sign-in link", t.Member)
	}
	if s.o.Mail == nil {
		s.log.Info("notify: no mail server (--smtp); the sign-in link is only logged", "member", m.ID)
		return nil
	}
	p := s.prefs(ctx, m.ID)
	l := p.Language
	if l == "" {
		l = attr(m.Attrs, "language")
	}
	l = lang(l)
	if t.Data["minutes"] == nil {
		t.Data["minutes"] = 15
	}
	title, line := phraseOf(l, KindMagicLink, t.Data)
	items := []Item{{Kind: KindMagicLink, Title: title, Line: line, Link: fmt.Sprint(t.Data["url"]), LinkText: word(l, "signin")}}
	return s.sendMail(ctx, recipient{name: m.Name, email: m.Email, lang: l}, items, "", t.ID, s.svc.Now())
}

// Reply answers an inbound e-mail at once (the registration intake's
// answer: the case number, or what is missing), in a thread with the
// message answered. It is not queued: the sender waits for it.
func (s *Service) Reply(ctx context.Context, to, subject, text, inReplyTo string) error {
	if s.o.Mail == nil {
		return rung.Errorf(rung.EUNAVAILABLE, "no mail server is set (--smtp)")
	}
	addr, err := mail.ParseAddress(to)
	if err != nil {
		return rung.Errorf(rung.EINVALID, "reply to %q: not an e-mail address", to)
	}
	html := "<!DOCTYPE html><html><body><pre style=\"font-family:Helvetica,Arial,sans-serif;white-space:pre-wrap\">" +
		htmlEscape(text) + "</pre></body></html>"
	m := Mail{From: s.o.From, To: addr.String(), Subject: subject, Text: text, HTML: html, Date: s.svc.Now(), InReplyTo: inReplyTo}
	raw, err := m.Bytes()
	if err != nil {
		return rung.Errorf(rung.EINVALID, "reply: %v", err)
	}
	return s.o.Mail.Send(ctx, fromAddress(s.o.From), []string{addr.Address}, raw)
}

// Mailbox returns the service's sender when it is a Mailbox (the demo),
// else nil.
func (s *Service) Mailbox() *Mailbox {
	b, _ := s.o.Mail.(*Mailbox)
	return b
}

// htmlEscape escapes text for HTML.
func htmlEscape(s string) string { return html.EscapeString(s) }
