// Package notify tells people what happened in the program: a badge
// earned, a level reached, a registration decided, a sign-in link, the
// weekly standings. Everything goes through one entry point,
// (*Service).Enqueue, which stores each trigger as a notification (its
// deterministic id makes a trigger enqueued twice one notification). The
// job runner's leader delivers them: in the portal's bell, by e-mail over
// SMTP, and to Slack incoming webhooks of the partner's channel and of the
// vendor team, honouring each member's preferences, quiet hours and
// batching (one message per recipient per window).
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// Kinds of notification.
const (
	KindBadge                = "badge"
	KindLevel                = "level"
	KindTierChange           = "tier_change"
	KindNudge                = "nudge"
	KindChallengeStart       = "challenge_start"
	KindChallengeStandings   = "challenge_standings"
	KindChallengeResult      = "challenge_result"
	KindRegistrationDecision = "registration_decision"
	KindSLAWarning           = "sla_warning"
	KindMagicLink            = "magic_link"
	KindDigest               = "digest"
)

// Kinds lists every kind, in the order the preferences page shows them.
var Kinds = []string{KindBadge, KindLevel, KindTierChange, KindNudge, KindChallengeStart, KindChallengeStandings,
	KindChallengeResult, KindRegistrationDecision, KindSLAWarning, KindDigest, KindMagicLink}

// Channels a member can switch per kind.
const (
	ChannelEmail = "email"
	ChannelSlack = "slack"
)

// Trigger is something someone should be told.
type Trigger struct {
	// ID identifies the trigger, the same every time it is produced for
	// the same cause ("badge:m1:deal-maker:gold"), so producing it again
	// (a retry, a replay, a second instance) notifies nobody twice.
	ID   string
	Kind string
	// Partner and Member say whom it is for: a member (Member set), a
	// partner's people and Slack channel (Partner set, Member empty), or
	// the vendor's channel team (both empty).
	Partner string
	Member  string
	// Data fills the message: the badge's name, the registration's case
	// number and reason, the link. Keys per kind: docs/notifications.md.
	Data map[string]any
}

// Sender sends one e-mail message: the envelope sender, the recipients
// and the whole RFC 5322 message. SMTP (smtp.go) and the demo's Mailbox
// (mailbox.go) are senders.
type Sender interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// Options configure a Service.
type Options struct {
	// Mail sends e-mail; nil sends none (notifications stay in-app and
	// Slack).
	Mail Sender
	// From is the sender address of the mails ("Rung <rung@localhost>"
	// when empty).
	From string
	// BaseURL is how browsers reach the server, for links in messages.
	BaseURL string
	// TeamSlack is the vendor team's Slack incoming webhook URL; TeamEmail
	// its address. Either may be empty.
	TeamSlack string
	TeamEmail string
	// Window is the batching window: a recipient gets at most one message
	// per window, holding everything that came up in it (default 1 min).
	Window time.Duration
	// HTTP posts to Slack (a client with a 10 s timeout when nil).
	HTTP *http.Client
	// Secret signs unsubscribe links; when empty it is made once and kept
	// in the store's meta, shared by every instance.
	Secret []byte
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Service queues and delivers notifications.
type Service struct {
	svc    *service.Service
	st     store.Store
	o      Options
	log    *slog.Logger
	mu     sync.Mutex
	secret []byte
}

// New returns a Service over a running service.
func New(svc *service.Service, o Options) *Service {
	if o.Window <= 0 {
		o.Window = time.Minute
	}
	if o.From == "" {
		o.From = "Rung <rung@localhost>"
	}
	if o.BaseURL == "" {
		o.BaseURL = "http://127.0.0.1:8080"
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Service{svc: svc, st: svc.Store(), o: o, log: o.Logger, secret: o.Secret}
}

// Enqueue stores triggers as notifications, to be delivered by the
// leader's loop (Run) when due: at the end of the current batching window,
// or after the member's quiet hours. A trigger whose ID was enqueued before
// is ignored. Magic sign-in links are not queued: they are sent at once,
// and stored with the link removed, so the queue never holds a way in.
// All triggers are checked first; a bad one stores none of them.
func (s *Service) Enqueue(ctx context.Context, ts ...Trigger) error {
	now := s.svc.Now().UTC()
	ns := make([]store.Notification, 0, len(ts))
	var links []Trigger
	for i, t := range ts {
		if err := check(t); err != nil {
			return rung.Errorf(rung.EINVALID, "trigger %d (%q): %s", i, t.ID, rung.ErrorMessage(err))
		}
		data, err := json.Marshal(t.Data)
		if err != nil {
			return rung.Errorf(rung.EINVALID, "trigger %q: data is not JSON: %v", t.ID, err)
		}
		if t.Data == nil {
			data = []byte("{}")
		}
		n := store.Notification{ID: t.ID, Kind: t.Kind, Partner: t.Partner, Member: t.Member, Data: data, CreatedAt: now}
		if t.Kind == KindMagicLink {
			links = append(links, t)
			n.Data, n.DueAt, n.SentAt, n.ReadAt = []byte(`{}`), now, now, now
		} else {
			n.DueAt = s.dueAt(ctx, t, now)
		}
		ns = append(ns, n)
	}
	for _, t := range links {
		if err := s.sendLink(ctx, t); err != nil {
			return err
		}
	}
	_, err := s.st.AddNotifications(ctx, ns)
	return err
}

// check says what is wrong with a trigger.
func check(t Trigger) error {
	if t.ID == "" {
		return rung.Errorf(rung.EINVALID, "a trigger needs an id, the same each time it is produced for the same cause")
	}
	if len(t.ID) > 300 {
		return rung.Errorf(rung.EINVALID, "the id is longer than 300 characters")
	}
	known := false
	for _, k := range Kinds {
		known = known || k == t.Kind
	}
	if !known {
		return rung.Errorf(rung.EINVALID, "kind %q is not one of %s", t.Kind, strings.Join(Kinds, ", "))
	}
	if t.Kind == KindMagicLink && (t.Member == "" || fmt.Sprint(t.Data["url"]) == "" || t.Data["url"] == nil) {
		return rung.Errorf(rung.EINVALID, "a magic_link needs a member and data.url")
	}
	return nil
}

// dueAt is when a trigger's notification goes out: the end of the current
// batching window, or the end of the member's quiet hours when that is
// later.
func (s *Service) dueAt(ctx context.Context, t Trigger, now time.Time) time.Time {
	due := now.Truncate(s.o.Window).Add(s.o.Window)
	if t.Member == "" {
		return due
	}
	p := s.prefs(ctx, t.Member)
	return QuietUntil(p, s.location(p), due)
}

// member returns a member record from the engine.
func (s *Service) member(id string) (rung.Member, bool) {
	var m rung.Member
	var ok bool
	s.svc.Read(func(e *engine.Engine) error {
		m, ok = e.Member(id)
		return nil
	})
	return m, ok
}

// partner returns a partner record from the engine.
func (s *Service) partner(id string) (rung.Partner, bool) {
	var p rung.Partner
	var ok bool
	s.svc.Read(func(e *engine.Engine) error {
		p, ok = e.Partner(id)
		return nil
	})
	return p, ok
}

// key returns the secret that signs unsubscribe links.
func (s *Service) key(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secret != nil {
		return s.secret, nil
	}
	v, err := s.st.Meta(ctx, metaSecret)
	if err != nil {
		return nil, err
	}
	if v == "" {
		b := make([]byte, 32)
		rand.Read(b)
		if err := s.st.SetMeta(ctx, metaSecret, hex.EncodeToString(b)); err != nil {
			return nil, err
		}
		if v, err = s.st.Meta(ctx, metaSecret); err != nil {
			return nil, err
		}
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) < 16 {
		return nil, rung.Errorf(rung.EINTERNAL, "meta %s is not a hex key of 16 bytes or more", metaSecret)
	}
	s.secret = b
	return b, nil
}

// Meta keys the service keeps.
const (
	metaSecret = "notify.unsubscribe_key"
	metaCursor = "notify.log_seq"
)
