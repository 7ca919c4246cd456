package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/store"
)

// prefs returns a member's preferences, the zero value when they set none.
func (s *Service) prefs(ctx context.Context, member string) store.NotificationPrefs {
	p, err := s.st.NotificationPrefs(ctx, member)
	if err != nil && rung.ErrorCode(err) != rung.ENOTFOUND {
		s.log.Warn("notify: cannot read preferences; using the defaults", "member", member, "err", err)
	}
	p.Member = member
	return p
}

// Prefs returns a member's preferences (the defaults when they set none).
func (s *Service) Prefs(ctx context.Context, member string) store.NotificationPrefs {
	return s.prefs(ctx, member)
}

// SetPrefs checks and stores a member's preferences.
func (s *Service) SetPrefs(ctx context.Context, p store.NotificationPrefs) error {
	if err := CheckPrefs(p); err != nil {
		return err
	}
	p.UpdatedAt = s.svc.Now().UTC()
	return s.st.PutNotificationPrefs(ctx, p)
}

// CheckPrefs says what is wrong with preferences, if anything.
func CheckPrefs(p store.NotificationPrefs) error {
	if p.Member == "" {
		return rung.Errorf(rung.EINVALID, "preferences need a member")
	}
	if p.Language != "" && p.Language != "en" && p.Language != "de" {
		return rung.Errorf(rung.EINVALID, "language %q is not en or de", p.Language)
	}
	if p.TimeZone != "" {
		if _, err := time.LoadLocation(p.TimeZone); err != nil {
			return rung.Errorf(rung.EINVALID, "time zone %q is not an IANA name such as Europe/Berlin", p.TimeZone)
		}
	}
	if p.QuietFrom < 0 || p.QuietFrom >= 24*60 || p.QuietTo < 0 || p.QuietTo >= 24*60 {
		return rung.Errorf(rung.EINVALID, "quiet hours are minutes after midnight, 0 to 1439")
	}
	for _, o := range p.Off {
		ch, kind, ok := strings.Cut(o, ":")
		if !ok || (ch != ChannelEmail && ch != ChannelSlack) || (kind != "*" && !slices.Contains(Kinds, kind)) {
			return rung.Errorf(rung.EINVALID, "%q is not channel:kind (channel email or slack, kind one of %s, or *)", o, strings.Join(Kinds, ", "))
		}
	}
	return nil
}

// Allowed reports whether preferences let a kind go out on a channel.
// Magic sign-in links always go by e-mail: the member asked for them.
func Allowed(p store.NotificationPrefs, channel, kind string) bool {
	if kind == KindMagicLink {
		return true
	}
	return !slices.Contains(p.Off, channel+":*") && !slices.Contains(p.Off, channel+":"+kind)
}

// location is the time zone of a member's quiet hours: theirs, else the
// program calendar's.
func (s *Service) location(p store.NotificationPrefs) *time.Location {
	if p.TimeZone != "" {
		if loc, err := time.LoadLocation(p.TimeZone); err == nil {
			return loc
		}
	}
	loc := time.UTC
	s.svc.Read(func(e *engine.Engine) error {
		if c := e.Calendar(); c != nil && c.Loc != nil {
			loc = c.Loc
		}
		return nil
	})
	return loc
}

// QuietUntil returns t, or the end of the quiet hours t falls in. Quiet
// hours may span midnight (22:00 to 07:00).
func QuietUntil(p store.NotificationPrefs, loc *time.Location, t time.Time) time.Time {
	if p.QuietFrom == p.QuietTo {
		return t
	}
	lt := t.In(loc)
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	at := func(day, minute int) time.Time {
		d := midnight.AddDate(0, 0, day)
		x := time.Date(d.Year(), d.Month(), d.Day(), minute/60, minute%60, 0, 0, loc)
		// A time that does not exist (the hour skipped when daylight
		// saving starts) comes back an hour early: take the end of the
		// gap, the first minute that exists after it.
		if x.Day() == d.Day() && x.Hour()*60+x.Minute() < minute {
			x = x.Add(time.Hour)
			x = x.Add(-time.Duration(x.Minute()) * time.Minute)
		}
		return x
	}
	// The quiet spans that may hold t: the one starting yesterday and the
	// one starting today.
	for _, day := range []int{-1, 0} {
		from := at(day, p.QuietFrom)
		to := at(day, p.QuietTo)
		if p.QuietTo < p.QuietFrom {
			to = at(day+1, p.QuietTo)
		}
		if !t.Before(from) && t.Before(to) {
			return to.UTC()
		}
	}
	return t
}

// Unsubscribe tokens: base64url(member "\n" scope) "." base64url(HMAC).
// scope is "email:badge" or "email:*".

// UnsubscribeToken signs a member's unsubscribe from scope.
func UnsubscribeToken(key []byte, member, scope string) string {
	body := base64.RawURLEncoding.EncodeToString([]byte(member + "\n" + scope))
	return body + "." + base64.RawURLEncoding.EncodeToString(sign(key, body))
}

func sign(key []byte, body string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("rung-unsubscribe-v1\n" + body))
	return m.Sum(nil)
}

// ParseUnsubscribeToken checks a token's signature and returns its member
// and scope.
func ParseUnsubscribeToken(key []byte, tok string) (member, scope string, err error) {
	bad := rung.Errorf(rung.EINVALID, "this unsubscribe link is not valid: copy the whole link from the e-mail, or change your settings in the portal")
	body, mac, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 2048 {
		return "", "", bad
	}
	// Strict: a MAC spelled another way (unused bits set in its last
	// character) is not the one Rung wrote.
	got, err := base64.RawURLEncoding.Strict().DecodeString(mac)
	if err != nil || !hmac.Equal(got, sign(key, body)) {
		return "", "", bad
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return "", "", bad
	}
	member, scope, ok = strings.Cut(string(raw), "\n")
	ch, kind, ok2 := strings.Cut(scope, ":")
	if !ok || !ok2 || member == "" || ch != ChannelEmail || (kind != "*" && !slices.Contains(Kinds, kind)) {
		return "", "", bad
	}
	return member, scope, nil
}

// Unsubscribe applies a signed unsubscribe token: the member's e-mail of
// the token's kind (or all e-mail) is switched off. It returns the member
// and the scope. Applying it twice changes nothing more.
func (s *Service) Unsubscribe(ctx context.Context, tok string) (member, scope string, err error) {
	key, err := s.key(ctx)
	if err != nil {
		return "", "", err
	}
	member, scope, err = ParseUnsubscribeToken(key, tok)
	if err != nil {
		return "", "", err
	}
	p := s.prefs(ctx, member)
	if !slices.Contains(p.Off, scope) {
		p.Off = append(p.Off, scope)
		if err := s.SetPrefs(ctx, p); err != nil {
			return "", "", fmt.Errorf("unsubscribe %s from %s: %w", member, scope, err)
		}
		s.log.Info("notify: unsubscribed", "member", member, "scope", scope)
	}
	return member, scope, nil
}
