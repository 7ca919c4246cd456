package web

import (
	"net/http"

	"github.com/rung-dev/rung/internal/source"
	"github.com/rung-dev/rung/internal/store"
)

// sourcesData is the Sources page: deliveries kept for replay.
type sourcesData struct {
	All        bool // every delivery, not only the rejected ones
	Deliveries []store.SourceDelivery
}

// sourceDeliveries lists the source deliveries the program could not map,
// with their reasons and a replay button (admins; docs/sources.md).
func (h *Handler) sourceDeliveries(w http.ResponseWriter, r *http.Request) {
	d := &sourcesData{All: r.URL.Query().Get("status") == "all"}
	f := store.SourceDeliveryFilter{Status: store.DeliveryRejected, Limit: 200}
	if d.All {
		f.Status = ""
	}
	ds, err := h.st.ListSourceDeliveries(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Deliveries = ds
	p := h.newPage(w, r, "Sources", "sources", d)
	switch r.URL.Query().Get("replayed") {
	case store.DeliveryApplied:
		p.Notice = p.L.T("The delivery was replayed and applied.")
	case store.DeliveryRejected:
		p.Notice = p.L.T("The delivery was replayed and is still rejected: the reason is below.")
	}
	h.render(w, http.StatusOK, "sources", p)
}

// replaySourceDelivery applies a kept delivery again with the current program.
func (h *Handler) replaySourceDelivery(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	x := source.New(h.svc, h.log, source.SecretsFromEnv())
	res, err := x.Replay(r.Context(), r.PathValue("id"), "user:"+v.Account.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/sources?replayed="+urlq(res.Status))
}
