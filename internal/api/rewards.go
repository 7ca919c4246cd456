package api

import (
	"net/http"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// rewardRoutes adds the rewards catalog, redemptions and the liability
// report (SPEC §4 Rewards, docs/rewards.md).
func (h *Handler) rewardRoutes() {
	m := h.mux
	m.Handle("GET /api/v1/rewards", h.auth(rung.ScopeRead, h.getRewards))
	m.Handle("POST /api/v1/rewards/{id}/redeem", h.auth(rung.ScopeIngest, h.redeem))
	m.Handle("GET /api/v1/redemptions", h.auth(rung.ScopeRead, h.listRedemptions))
	m.Handle("GET /api/v1/redemptions/{id}", h.auth(rung.ScopeRead, h.getRedemption))
	m.Handle("POST /api/v1/redemptions/{id}/decision", h.auth(rung.ScopeAdmin, h.decideRedemption))
	m.Handle("GET /api/v1/reports/liability", h.auth(rung.ScopeRead, h.liability))
}

func (h *Handler) getRewards(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, err := h.svc.Catalog(r.Context(), q.Get("member"), q.Get("partner"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *Handler) redeem(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Member  string `json:"member"`
		Partner string `json:"partner"`
	}
	if err := decodeJSON(w, r, &body, "member, partner"); err != nil {
		writeError(w, err)
		return
	}
	red, err := h.svc.Redeem(r.Context(), service.RedeemRequest{Reward: r.PathValue("id"), Member: body.Member, Partner: body.Partner, By: actor(r)})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, red)
}

func (h *Handler) listRedemptions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(r, "limit", 0)
	if err != nil {
		writeError(w, err)
		return
	}
	offset, err := intParam(r, "offset", 0)
	if err != nil {
		writeError(w, err)
		return
	}
	rs, err := h.svc.Redemptions(r.Context(), store.RedemptionFilter{Partner: q.Get("partner"), Member: q.Get("member"),
		Reward: q.Get("reward"), Status: q.Get("status"), Limit: limit, Offset: offset})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"redemptions": rs})
}

func (h *Handler) getRedemption(w http.ResponseWriter, r *http.Request) {
	rs, err := h.svc.Store().RedemptionsByID(r.Context(), []string{r.PathValue("id")})
	if err != nil {
		writeError(w, err)
		return
	}
	if len(rs) == 0 {
		writeError(w, rung.Errorf(rung.ENOTFOUND, "redemption %q not found", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, rs[0])
}

func (h *Handler) decideRedemption(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
	}
	if err := decodeJSON(w, r, &body, "decision, reason"); err != nil {
		writeError(w, err)
		return
	}
	red, err := h.svc.DecideRedemption(r.Context(), r.PathValue("id"), body.Decision, body.Reason, actor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, red)
}

// liability answers the liability report as JSON, or as CSV with
// ?format=csv (one line per partner, then the total).
func (h *Handler) liability(w http.ResponseWriter, r *http.Request) {
	at, err := asOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	rep := h.svc.Liability(at)
	switch r.URL.Query().Get("format") {
	case "", "json":
		writeJSON(w, http.StatusOK, rep)
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="liability-`+rep.AsOf.Format("2006-01-02")+`.csv"`)
		service.WriteLiabilityCSV(w, rep)
	default:
		writeError(w, rung.Errorf(rung.EINVALID, "format=%q: use json or csv", r.URL.Query().Get("format")))
	}
}
