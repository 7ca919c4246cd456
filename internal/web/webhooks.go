package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store"
)

type webhooksData struct {
	Hooks    []webhookRow
	Dead     []store.Delivery
	Types    []string
	URL      string
	Secret   string // of the endpoint just added, shown once
	Error    string
	Replayed string // the message id just replayed
	More     bool   // older dead letters exist beyond the newest listLimit
	Shown    int
}

type webhookRow struct {
	store.Subscription
	TypeList string
}

// webhooks lists the webhook endpoints and the dead letters (admins).
func (h *Handler) webhooks(w http.ResponseWriter, r *http.Request) {
	h.webhooksPage(w, r, &webhooksData{Replayed: r.URL.Query().Get("replayed")}, http.StatusOK)
}

func (h *Handler) webhooksPage(w http.ResponseWriter, r *http.Request, d *webhooksData, status int) {
	subs, err := outbox.Webhooks(r.Context(), h.st)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, s := range subs {
		d.Hooks = append(d.Hooks, webhookRow{Subscription: s, TypeList: strings.Join(s.Types, ", ")})
	}
	if d.Dead, err = h.st.Deliveries(r.Context(), store.DeliveryFilter{Dead: true, Limit: listLimit + 1}); err != nil {
		h.fail(w, r, err)
		return
	}
	if d.More = len(d.Dead) > listLimit; d.More {
		d.Dead = d.Dead[:listLimit]
	}
	d.Shown = len(d.Dead)
	d.Types = outbox.Types
	h.render(w, status, "webhooks", h.newPage(w, r, "Webhooks", "webhooks", d))
}

func (h *Handler) addWebhook(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	in := outbox.WebhookInput{URL: strings.TrimSpace(r.PostForm.Get("url")), Types: r.PostForm["type"]}
	sub, err := outbox.AddWebhook(r.Context(), h.st, in, "user:"+v.Account.ID, h.svc.Now())
	if rung.ErrorCode(err) == rung.EINVALID {
		d := &webhooksData{URL: in.URL}
		d.Error = "Give the endpoint's address, starting with https:// or http://."
		h.webhooksPage(w, r, d, http.StatusBadRequest)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.webhooksPage(w, r, &webhooksData{Secret: sub.Secret}, http.StatusOK)
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	if err := outbox.DeleteWebhook(r.Context(), h.st, r.PathValue("id"), "user:"+v.Account.ID, h.svc.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/webhooks")
}

// replayDelivery delivers a dead letter again.
func (h *Handler) replayDelivery(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	id := r.PostForm.Get("message")
	if _, err := outbox.Replay(r.Context(), h.st, id, r.PostForm.Get("endpoint"), "user:"+v.Account.ID, h.svc.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/webhooks?replayed="+url.QueryEscape(id))
}
