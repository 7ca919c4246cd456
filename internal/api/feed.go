package api

import (
	"net/http"

	"github.com/rung-dev/rung/internal/engine"
)

// getFeed answers GET /api/v1/feed?limit=&partner=&as_of=: the recognition
// feed, newest first — badges earned and levels reached, with who and when,
// and no revenue figures.
func (h *Handler) getFeed(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 50)
	if err != nil {
		writeError(w, err)
		return
	}
	at, err := asOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	f := engine.FeedFilter{Partner: r.URL.Query().Get("partner"), Limit: limit, AsOf: h.at(at)}
	var entries []engine.FeedEntry
	err = h.svc.Read(func(e *engine.Engine) error {
		entries, err = e.Feed(f)
		return err
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
}
