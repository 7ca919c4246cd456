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
	More       bool // older deliveries exist beyond the newest listLimit
	Shown      int
}

// listLimit is how many of the newest source deliveries and dead letters
// the console lists; the page says when there are more.
const listLimit = 200

// sourceDeliveries lists the source deliveries the program could not map,
// with their reasons and a replay button (admins; docs/sources.md).
func (h *Handler) sourceDeliveries(w http.ResponseWriter, r *http.Request) {
	d := &sourcesData{All: r.URL.Query().Get("status") == "all"}
	f := store.SourceDeliveryFilter{Status: store.DeliveryRejected, Limit: listLimit + 1}
	if d.All {
		f.Status = ""
	}
	ds, err := h.st.ListSourceDeliveries(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if d.More = len(ds) > listLimit; d.More {
		ds = ds[:listLimit]
	}
	d.Deliveries, d.Shown = ds, len(ds)
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
	// Back to the list it was replayed from, rejected or all.
	back := "/admin/sources?replayed=" + urlq(res.Status)
	if r.PostForm.Get("status") == "all" {
		back += "&status=all"
	}
	redirect(w, r, back)
}
