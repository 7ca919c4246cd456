package api

import (
	"net/http"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
)

// tierRoutes adds partner tiers (SPEC §5 and docs/tiers.md): reviews,
// overrides, appeals, history, mobility and nudges.
func (h *Handler) tierRoutes() {
	m := h.mux
	m.Handle("POST /api/v1/tiers/review", h.auth(rung.ScopeAdmin, h.postTierReview))
	m.Handle("GET /api/v1/tiers/decisions", h.auth(rung.ScopeRead, h.getTierDecisions))
	m.Handle("GET /api/v1/tiers/mobility", h.auth(rung.ScopeRead, h.getTierMobility))
	m.Handle("GET /api/v1/tiers/overrides", h.auth(rung.ScopeRead, h.getTierOverrides))
	m.Handle("POST /api/v1/tiers/overrides", h.auth(rung.ScopeAdmin, h.postTierOverride))
	m.Handle("DELETE /api/v1/tiers/overrides/{id}", h.auth(rung.ScopeAdmin, h.endTierOverride))
	m.Handle("GET /api/v1/tiers/appeals", h.auth(rung.ScopeRead, h.getTierAppeals))
	m.Handle("POST /api/v1/tiers/appeals", h.auth(rung.ScopeAdmin, h.postTierAppeal))
	m.Handle("POST /api/v1/tiers/appeals/{id}/decision", h.auth(rung.ScopeAdmin, h.decideTierAppeal))
	m.Handle("GET /api/v1/partners/{id}/tiers", h.auth(rung.ScopeRead, h.getPartnerTiers))
	m.Handle("GET /api/v1/nudges", h.auth(rung.ScopeRead, h.getNudges))
}

func (h *Handler) postTierReview(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Quarter string `json:"quarter"`
		DryRun  bool   `json:"dry_run"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		writeError(w, err)
		return
	}
	if body.Quarter == "" {
		writeError(w, rung.Errorf(rung.EINVALID, "missing quarter: send {\"quarter\": \"2026-Q4\", \"dry_run\": true}"))
		return
	}
	out, err := h.svc.ReviewTiers(r.Context(), body.Quarter, body.DryRun, actor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getTierDecisions(w http.ResponseWriter, r *http.Request) {
	q, partner := r.URL.Query().Get("quarter"), r.URL.Query().Get("partner")
	out := []engine.TierDecision{}
	h.svc.Read(func(e *engine.Engine) error {
		for _, d := range e.TierDecisions(partner) {
			if q == "" || d.Quarter == q {
				out = append(out, d)
			}
		}
		return nil
	})
	writeJSON(w, http.StatusOK, map[string]any{"decisions": out})
}

func (h *Handler) getTierMobility(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("quarter")
	if q == "" {
		writeError(w, rung.Errorf(rung.EINVALID, "missing quarter: add ?quarter=2026-Q4"))
		return
	}
	var mb engine.Mobility
	err := h.svc.Read(func(e *engine.Engine) error {
		var err error
		mb, err = e.TierMobility(q)
		return err
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, mb)
}

func (h *Handler) getTierOverrides(w http.ResponseWriter, r *http.Request) {
	var out []engine.TierOverride
	h.svc.Read(func(e *engine.Engine) error {
		out = e.TierOverrides(r.URL.Query().Get("partner"))
		return nil
	})
	writeJSON(w, http.StatusOK, map[string]any{"overrides": out})
}

func (h *Handler) postTierOverride(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Partner string    `json:"partner"`
		Tier    string    `json:"tier"`
		Reason  string    `json:"reason"`
		From    time.Time `json:"from"`
		Until   time.Time `json:"until"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		writeError(w, err)
		return
	}
	o, err := h.svc.SetTierOverride(r.Context(), engine.TierOverride{Partner: body.Partner, Tier: body.Tier, Reason: body.Reason,
		From: body.From, Until: body.Until}, actor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"override": o})
}

func (h *Handler) endTierOverride(w http.ResponseWriter, r *http.Request) {
	o, err := h.svc.EndTierOverride(r.Context(), r.PathValue("id"), actor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"override": o})
}

func (h *Handler) getTierAppeals(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	out := []any{}
	for _, a := range h.svc.TierAppeals(r.URL.Query().Get("partner")) {
		if status == "" || a.Status == status || (status == "overdue" && a.Overdue) {
			out = append(out, a)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"appeals": out})
}

func (h *Handler) postTierAppeal(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Partner  string   `json:"partner"`
		Quarter  string   `json:"quarter"`
		Text     string   `json:"text"`
		Evidence []string `json:"evidence"`
		By       string   `json:"by"` // the partner admin who appeals
	}
	if err := decodeBody(w, r, &body); err != nil {
		writeError(w, err)
		return
	}
	by := body.By
	if by == "" {
		by = actor(r)
	}
	a, err := h.svc.FileAppeal(r.Context(), body.Partner, body.Quarter, body.Text, body.Evidence, by)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"appeal": a})
}

func (h *Handler) decideTierAppeal(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Decision string `json:"decision"` // uphold | overturn
		Tier     string `json:"tier"`
		Reply    string `json:"reply"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		writeError(w, err)
		return
	}
	a, err := h.svc.DecideAppeal(r.Context(), r.PathValue("id"), body.Decision, body.Tier, body.Reply, actor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"appeal": a})
}

func (h *Handler) getPartnerTiers(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	t, err := asOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var out map[string]any
	err = h.svc.Read(func(e *engine.Engine) error {
		hist, err := e.TierHistory(id)
		if err != nil {
			return err
		}
		sc, err := e.PartnerScorecard(id, t)
		if err != nil {
			return err
		}
		out = map[string]any{"partner": id, "tier": sc.Tier, "history": hist, "decisions": e.TierDecisions(id),
			"overrides": e.TierOverrides(id)}
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	out["appeals"] = h.svc.TierAppeals(id)
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getNudges(w http.ResponseWriter, r *http.Request) {
	ns, err := h.svc.Nudges(r.Context(), r.URL.Query().Get("partner"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"nudges": ns})
}
