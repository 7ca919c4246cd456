package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rung-dev/rung"
)

// Notification is one message Rung owes a person: a badge earned, a
// registration decided, a sign-in link. It is stored when its trigger is
// enqueued (its ID is the trigger's, so a trigger enqueued twice is stored
// once) and delivered by the job runner's leader once DueAt has come.
// Member notifications also show in the portal's bell until read.
type Notification struct {
	ID      string // the trigger's deterministic id
	Kind    string // badge, level, tier_change, nudge, ... (internal/notify)
	Partner string // the partner it is about or addressed to
	// Member is the member it is addressed to; "" for a partner's or the
	// vendor team's notification.
	Member    string
	Data      []byte // the trigger's data, JSON
	CreatedAt time.Time
	DueAt     time.Time // not sent before (quiet hours, batching, retries)
	SentAt    time.Time // zero while it is to be sent
	ReadAt    time.Time // zero while unread in the portal
	Channels  string    // where it went when sent: "email slack", "" for in-app only
	Attempts  int       // failed deliveries so far
	LastError string    // of the last failed delivery
}

// NotificationFilter selects notifications; zero fields match everything.
type NotificationFilter struct {
	Member  string
	Partner string
	Unread  bool // only those with a zero ReadAt
	Limit   int  // 0: no limit
}

// NotificationPrefs are a member's choices about notifications. The zero
// value means every channel on and no quiet hours.
type NotificationPrefs struct {
	Member string `json:"member"`
	// Off lists "channel:kind" pairs switched off, "email:badge", and
	// "email:*" for a whole channel. Channels: email, slack, app.
	Off      []string `json:"off,omitempty"`
	Language string   `json:"language,omitempty"`  // en | de; "": from the member record
	TimeZone string   `json:"time_zone,omitempty"` // IANA name; "": the program's
	// QuietFrom and QuietTo are minutes after local midnight; equal means
	// no quiet hours. From 22:00 to 07:00 is 1320 and 420.
	QuietFrom int       `json:"quiet_from,omitempty"`
	QuietTo   int       `json:"quiet_to,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Notifications stores notifications and members' preferences about them.
type Notifications interface {
	// AddNotifications stores new notifications with all their fields; one
	// whose ID is stored already is left as it is (its trigger was
	// enqueued before). It returns how many were new.
	AddNotifications(ctx context.Context, ns []Notification) (int, error)
	// DueNotifications returns up to limit unsent notifications whose DueAt
	// is at or before t, by DueAt then ID.
	DueNotifications(ctx context.Context, t time.Time, limit int) ([]Notification, error)
	// MarkNotificationsSent records that the notifications went out at t on
	// channels; ones sent already keep their first record.
	MarkNotificationsSent(ctx context.Context, ids []string, t time.Time, channels string) error
	// DeferNotification records a failed delivery: Attempts goes up by
	// one, LastError is set, and it is due again at due (ENOTFOUND when
	// unknown).
	DeferNotification(ctx context.Context, id string, due time.Time, lastError string) error
	// ListNotifications returns the notifications f selects, newest first
	// (by CreatedAt, then ID descending).
	ListNotifications(ctx context.Context, f NotificationFilter) ([]Notification, error)
	// CountUnread returns how many of a member's notifications are unread.
	CountUnread(ctx context.Context, member string) (int, error)
	// MarkNotificationsRead marks a member's notifications read at t: those
	// with the given ids, or all unread ones when ids is nil. Others'
	// notifications are never touched. It returns how many changed.
	MarkNotificationsRead(ctx context.Context, member string, ids []string, t time.Time) (int, error)

	// NotificationPrefs returns a member's preferences (ENOTFOUND when the
	// member never set any).
	NotificationPrefs(ctx context.Context, member string) (NotificationPrefs, error)
	// PutNotificationPrefs stores a member's preferences, replacing any.
	PutNotificationPrefs(ctx context.Context, p NotificationPrefs) error
	// AllNotificationPrefs returns every member's preferences, by member,
	// for tools that copy a whole database.
	AllNotificationPrefs(ctx context.Context) ([]NotificationPrefs, error)
}

// EncodeNotificationPrefs checks preferences and returns the JSON the
// stores keep and the update time in unix nanoseconds.
func EncodeNotificationPrefs(p NotificationPrefs) ([]byte, int64, error) {
	if p.Member == "" {
		return nil, 0, rung.Errorf(rung.EINVALID, "notification preferences need a member")
	}
	u, err := UnixNanos(p.UpdatedAt)
	if err != nil || u == nil {
		return nil, 0, rung.Errorf(rung.EINVALID, "notification preferences of %q: updated_at %v is out of range", p.Member, p.UpdatedAt)
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	b, err := json.Marshal(p)
	return b, u.(int64), err
}

// DecodeNotificationPrefs reads what EncodeNotificationPrefs wrote.
func DecodeNotificationPrefs(b []byte) (NotificationPrefs, error) {
	var p NotificationPrefs
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("notification preferences: %w", err)
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	return p, nil
}

// NotificationArgs checks a notification and returns its column values in
// the order of the notifications table, for the stores.
func NotificationArgs(n Notification) ([]any, error) {
	if n.ID == "" || n.Kind == "" {
		return nil, rung.Errorf(rung.EINVALID, "a notification needs an id and a kind")
	}
	if n.Data == nil {
		n.Data = []byte("{}")
	}
	if !json.Valid(n.Data) {
		return nil, rung.Errorf(rung.EINVALID, "notification %q: data is not JSON", n.ID)
	}
	var times [4]any
	for i, t := range []time.Time{n.CreatedAt, n.DueAt, n.SentAt, n.ReadAt} {
		v, err := UnixNanos(t)
		if err != nil {
			return nil, rung.Errorf(rung.EINVALID, "notification %q: %v", n.ID, err)
		}
		times[i] = v
	}
	if times[0] == nil || times[1] == nil {
		return nil, rung.Errorf(rung.EINVALID, "notification %q needs created_at and due_at", n.ID)
	}
	return []any{n.ID, n.Kind, n.Partner, n.Member, string(n.Data), times[0], times[1], times[2], times[3], n.Channels, n.Attempts, n.LastError}, nil
}
