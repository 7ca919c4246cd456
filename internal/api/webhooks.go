package api

import (
	"net/http"
	"strconv"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store"
)

// webhookRoutes adds the webhook endpoints and the outbox's dead letters
// (docs/webhooks.md).
func (h *Handler) webhookRoutes() {
	m := h.mux
	m.Handle("GET /api/v1/webhooks", h.auth(rung.ScopeAdmin, h.listWebhooks))
	m.Handle("POST /api/v1/webhooks", h.auth(rung.ScopeAdmin, h.postWebhook))
	m.Handle("DELETE /api/v1/webhooks/{id}", h.auth(rung.ScopeAdmin, h.deleteWebhook))
	m.Handle("GET /api/v1/outbox", h.auth(rung.ScopeAdmin, h.listOutbox))
	m.Handle("POST /api/v1/outbox/{id}/replay", h.auth(rung.ScopeAdmin, h.replayOutbox))
}

func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) {
	subs, err := outbox.Webhooks(r.Context(), h.svc.Store())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": subs, "types": outbox.Types})
}

func (h *Handler) postWebhook(w http.ResponseWriter, r *http.Request) {
	var in outbox.WebhookInput
	if err := decodeJSON(w, r, &in, "id, url, secret, types, enabled"); err != nil {
		writeError(w, err)
		return
	}
	sub, err := outbox.AddWebhook(r.Context(), h.svc.Store(), in, actor(r), h.svc.Now())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, sub)
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := outbox.DeleteWebhook(r.Context(), h.svc.Store(), r.PathValue("id"), actor(r), h.svc.Now()); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listOutbox lists deliveries, newest first: ?dead=true for the dead
// letters, ?endpoint=, ?message=, ?limit= (at most 500).
func (h *Handler) listOutbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.DeliveryFilter{Endpoint: q.Get("endpoint"), Message: q.Get("message")}
	if v := q.Get("dead"); v != "" {
		dead, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, rung.Errorf(rung.EINVALID, "dead=%q: give true or false", v))
			return
		}
		f.Dead = dead
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeError(w, rung.Errorf(rung.EINVALID, "limit=%q: give a number from 1 to 500", v))
			return
		}
		f.Limit = n
	}
	ds, err := h.svc.Store().Deliveries(r.Context(), f)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
}

// replayOutbox revives a message's dead deliveries; ?endpoint= limits it
// to one endpoint.
func (h *Handler) replayOutbox(w http.ResponseWriter, r *http.Request) {
	n, err := outbox.Replay(r.Context(), h.svc.Store(), r.PathValue("id"), r.URL.Query().Get("endpoint"), actor(r), h.svc.Now())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"replayed": n})
}
