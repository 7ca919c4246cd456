package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

// WebhookInput is a webhook endpoint to add, as an admin gives it.
type WebhookInput struct {
	ID      string   `json:"id,omitempty"`     // generated when empty
	URL     string   `json:"url"`              // http or https
	Secret  string   `json:"secret,omitempty"` // generated when empty
	Types   []string `json:"types,omitempty"`  // empty: every type
	Enabled *bool    `json:"enabled,omitempty"`
}

func random(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// AddWebhook checks in, stores it as a subscription and audits it; the
// returned subscription carries the secret, which is shown this once.
func AddWebhook(ctx context.Context, st store.Store, in WebhookInput, by string, now time.Time) (store.Subscription, error) {
	u, err := url.Parse(strings.TrimSpace(in.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return store.Subscription{}, rung.Errorf(rung.EINVALID, "webhook url %q: give an absolute http or https URL, such as https://example.com/rung", in.URL)
	}
	for _, t := range in.Types {
		if !Public(t) {
			return store.Subscription{}, rung.Errorf(rung.EINVALID, "webhook type %q is not one of %s", t, strings.Join(Types, ", "))
		}
	}
	if in.ID == "" {
		in.ID = random("wh_", 8)
	}
	if len(in.ID) > 100 || strings.ContainsAny(in.ID, "/ ") || strings.HasPrefix(in.ID, "crm:") {
		return store.Subscription{}, rung.Errorf(rung.EINVALID, "webhook id %q: give up to 100 characters without / or spaces, not starting with crm:", in.ID)
	}
	if in.Secret == "" {
		in.Secret = random("whsec_", 24)
	}
	if len(in.Secret) < 16 {
		return store.Subscription{}, rung.Errorf(rung.EINVALID, "webhook secret: give at least 16 characters, or none and Rung makes one")
	}
	subs, err := st.Subscriptions(ctx)
	if err != nil {
		return store.Subscription{}, err
	}
	if slices.ContainsFunc(subs, func(s store.Subscription) bool { return s.ID == in.ID }) {
		return store.Subscription{}, rung.Errorf(rung.ECONFLICT, "webhook %q exists; delete it first or choose another id", in.ID)
	}
	types := slices.Clone(in.Types)
	slices.Sort(types)
	sub := store.Subscription{ID: in.ID, URL: u.String(), Secret: in.Secret, Types: slices.Compact(store.SubscriptionTypes(types)),
		Enabled: in.Enabled == nil || *in.Enabled, CreatedAt: now.UTC()}
	if err := st.PutSubscription(ctx, sub); err != nil {
		return store.Subscription{}, err
	}
	audit(ctx, st, by, "webhook.add", sub.ID, sub.URL, now)
	return sub, nil
}

// DeleteWebhook removes a subscription and its open deliveries, and
// audits it.
func DeleteWebhook(ctx context.Context, st store.Store, id, by string, now time.Time) error {
	if err := st.DeleteSubscription(ctx, id); err != nil {
		return err
	}
	audit(ctx, st, by, "webhook.delete", id, "", now)
	return nil
}

// Webhooks lists the subscriptions without their secrets.
func Webhooks(ctx context.Context, st store.Store) ([]store.Subscription, error) {
	subs, err := st.Subscriptions(ctx)
	for i := range subs {
		subs[i].Secret = ""
	}
	return subs, err
}

// Replay makes a message's dead deliveries (to endpoint, or to all when
// "") due again, and audits it.
func Replay(ctx context.Context, st store.Store, id, endpoint, by string, now time.Time) (int, error) {
	n, err := st.ReplayDeliveries(ctx, id, endpoint, now)
	if err != nil {
		return 0, err
	}
	audit(ctx, st, by, "outbox.replay", id, endpoint, now)
	return n, nil
}

func audit(ctx context.Context, st store.Store, actor, action, target, detail string, now time.Time) {
	st.Commit(ctx, &store.Batch{Audit: []rung.AuditEntry{{At: now.UTC(), Actor: actor, Action: action, Target: target, Detail: detail}}})
}
