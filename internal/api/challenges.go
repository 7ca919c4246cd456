package api

import (
	"net/http"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
)

// challengeRoutes adds the challenge endpoints: the list with each one's
// status, and one challenge's standings (provisional or final) or a quest's
// checklist progress.
func (h *Handler) challengeRoutes() {
	h.mux.Handle("GET /api/v1/challenges", h.auth(rung.ScopeRead, h.listChallenges))
	h.mux.Handle("GET /api/v1/challenges/{id}", h.auth(rung.ScopeRead, h.getChallenge))
}

func (h *Handler) listChallenges(w http.ResponseWriter, r *http.Request) {
	t, err := asOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var out []engine.ChallengeInfo
	h.svc.Read(func(e *engine.Engine) error {
		out = e.Challenges(h.at(t))
		return nil
	})
	writeJSON(w, http.StatusOK, map[string]any{"as_of": h.at(t), "challenges": out})
}

func (h *Handler) getChallenge(w http.ResponseWriter, r *http.Request) {
	t, limit, offset, err := pageQuery(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q := engine.ChallengeQuery{Cohort: r.URL.Query().Get("cohort"), Limit: limit, Offset: offset, AsOf: h.at(t)}
	var cs engine.ChallengeStandings
	err = h.svc.Read(func(e *engine.Engine) error {
		cs, err = e.Challenge(r.PathValue("id"), q)
		return err
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, cs)
}
