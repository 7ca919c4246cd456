package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

// decodeBody reads a JSON body into v, refusing unknown fields.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return rung.Errorf(rung.ETOOLARGE, "the body is larger than 1 MiB")
		}
		if errors.Is(err, io.EOF) {
			return rung.Errorf(rung.EINVALID, "the body is empty: send a JSON object")
		}
		return rung.Errorf(rung.EINVALID, "the body is not valid: %s", jsonProblem(err))
	}
	if dec.More() {
		return rung.Errorf(rung.EINVALID, "the body has more after its JSON object: send one object")
	}
	return nil
}

// jsonProblem turns an encoding/json decoding error into a sentence for
// the sender.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be %s, not a JSON %s", te.Field, wantType(te.Type.String()), te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d: %v", se.Offset, se)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ") + " (allowed: id, type, partner, member, occurred_at, attrs, source)"
	}
	return err.Error()
}

func wantType(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "map[string]interface {}":
		return "an object"
	}
	return goType
}

// decodeRecord reads the JSON body of a PUT into v, whose id field is
// *id: the URL names the record, and a body id, if any, must agree.
func decodeRecord(w http.ResponseWriter, r *http.Request, v any, id *string) error {
	if err := decodeBody(w, r, v); err != nil {
		return err
	}
	url := r.PathValue("id")
	if *id != "" && *id != url {
		return rung.Errorf(rung.EINVALID, "the body's id %q differs from the URL's %q; leave it out or make them match", *id, url)
	}
	*id = url
	return nil
}

func (h *Handler) putPartner(w http.ResponseWriter, r *http.Request) {
	var p rung.Partner
	if err := decodeRecord(w, r, &p, &p.ID); err != nil {
		writeError(w, err)
		return
	}
	id := p.ID
	existed := false
	h.svc.Read(func(e *engine.Engine) error { _, existed = e.Partner(id); return nil })
	pv, err := h.svc.PutPartner(r.Context(), p)
	if err != nil {
		writeError(w, err)
		return
	}
	code := http.StatusOK
	if pv.Version == 1 && !existed {
		code = http.StatusCreated
	}
	writeJSON(w, code, map[string]any{"partner": pv.Partner, "version": pv.Version})
}

func (h *Handler) getPartner(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	at, err := asOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var out map[string]any
	err = h.svc.Read(func(e *engine.Engine) error {
		p, ok := e.Partner(id)
		if !ok {
			return rung.Errorf(rung.ENOTFOUND, "partner %q not found", id)
		}
		if !at.IsZero() {
			// The version in effect then (the first, for earlier times).
			vs := e.PartnerVersions(id)
			p = vs[0].Partner
			for _, v := range vs {
				if !v.ValidFrom.After(at) {
					p = v.Partner
				}
			}
		}
		out = map[string]any{"partner": p, "versions": len(e.PartnerVersions(id)), "members": e.MemberIDs(id)}
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) listPartners(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 100)
	if err != nil {
		writeError(w, err)
		return
	}
	offset, err := intParam(r, "offset", 0)
	if err != nil {
		writeError(w, err)
		return
	}
	q := strings.ToLower(r.URL.Query().Get("q"))
	var list []rung.Partner
	var total int
	h.svc.Read(func(e *engine.Engine) error {
		for _, id := range e.PartnerIDs() {
			p, _ := e.Partner(id)
			if q != "" && !strings.Contains(strings.ToLower(p.ID+" "+p.Name), q) {
				continue
			}
			total++
			if total > offset && len(list) < limit {
				list = append(list, p)
			}
		}
		return nil
	})
	if list == nil {
		list = []rung.Partner{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "partners": list})
}

func (h *Handler) putMember(w http.ResponseWriter, r *http.Request) {
	var m rung.Member
	if err := decodeRecord(w, r, &m, &m.ID); err != nil {
		writeError(w, err)
		return
	}
	if len(m.Memberships) > 0 {
		writeError(w, rung.Errorf(rung.EINVALID, "memberships are kept by Rung: change partner (and joined_at) to move a member"))
		return
	}
	out, err := h.svc.PutMember(r.Context(), m)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"member": out})
}

func (h *Handler) getMember(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := asOf(r); err != nil {
		writeError(w, err) // the record carries its membership history
		return
	}
	var out rung.Member
	err := h.svc.Read(func(e *engine.Engine) error {
		m, ok := e.Member(id)
		if !ok {
			return rung.Errorf(rung.ENOTFOUND, "member %q not found", id)
		}
		out = m
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"member": out})
}

func (h *Handler) memberScorecard(w http.ResponseWriter, r *http.Request) {
	h.scorecard(w, r, (*engine.Engine).MemberScorecard)
}

func (h *Handler) partnerScorecard(w http.ResponseWriter, r *http.Request) {
	h.scorecard(w, r, (*engine.Engine).PartnerScorecard)
}

// scorecard answers a scorecard read as of the as_of parameter.
func (h *Handler) scorecard(w http.ResponseWriter, r *http.Request, get func(*engine.Engine, string, time.Time) (engine.Scorecard, error)) {
	t, err := asOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var sc engine.Scorecard
	err = h.svc.Read(func(e *engine.Engine) error {
		sc, err = get(e, r.PathValue("id"), h.at(t))
		return err
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sc)
}

// at returns the time a read is for: as_of, or now.
func (h *Handler) at(t time.Time) time.Time {
	if t.IsZero() {
		return h.svc.Now()
	}
	return t
}

func (h *Handler) getProgram(w http.ResponseWriter, r *http.Request) {
	progs, err := h.svc.Store().Programs(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	if len(progs) == 0 {
		writeError(w, rung.Errorf(rung.ENOTFOUND, "no program is applied yet: PUT /api/v1/program with the YAML, or run `rung program apply FILE`"))
		return
	}
	cur := progs[len(progs)-1]
	if strings.Contains(r.Header.Get("Accept"), "yaml") {
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("X-Rung-Program-Version", fmt.Sprint(cur.Version))
		io.WriteString(w, cur.Source)
		return
	}
	writeJSON(w, http.StatusOK, cur)
}

func (h *Handler) programVersions(w http.ResponseWriter, r *http.Request) {
	progs, err := h.svc.Store().Programs(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	type v struct {
		Version       int       `json:"version"`
		EffectiveFrom time.Time `json:"effective_from"`
		AppliedAt     time.Time `json:"applied_at"`
		AppliedBy     string    `json:"applied_by"`
	}
	out := make([]v, 0, len(progs))
	for _, p := range progs {
		out = append(out, v{p.Version, p.EffectiveFrom, p.AppliedAt, p.AppliedBy})
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": out})
}

func readYAML(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	src, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, rung.Errorf(rung.ETOOLARGE, "the program file is larger than 4 MiB")
		}
		return nil, rung.Errorf(rung.EINVALID, "could not read the body: %v", err)
	}
	if len(strings.TrimSpace(string(src))) == 0 {
		return nil, rung.Errorf(rung.EINVALID, "the body is empty: send the program YAML with Content-Type: application/yaml")
	}
	return src, nil
}

func (h *Handler) putProgram(w http.ResponseWriter, r *http.Request) {
	src, err := readYAML(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	from, err := timeParam(r, "effective_from")
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := h.svc.ApplyProgram(r.Context(), src, from, actor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": v, "status": "applied"})
}

func (h *Handler) validateProgram(w http.ResponseWriter, r *http.Request) {
	src, err := readYAML(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	p, err := svcValidate(src)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "name": p.Name, "rules": len(p.Points.Rules), "metrics": len(p.Metrics), "leaderboards": len(p.Leaderboards)})
}

func (h *Handler) listLeaderboards(w http.ResponseWriter, r *http.Request) {
	type lb struct {
		ID     string `json:"id"`
		Name   string `json:"name,omitempty"`
		Metric string `json:"metric"`
		For    string `json:"for"`
		Cohort string `json:"cohort,omitempty"`
	}
	out := []lb{}
	h.svc.Read(func(e *engine.Engine) error {
		if p := e.Program(); p != nil {
			for _, b := range p.Leaderboards {
				out = append(out, lb{b.ID, b.Name, b.Metric, string(b.For), b.Cohort})
			}
		}
		return nil
	})
	writeJSON(w, http.StatusOK, map[string]any{"leaderboards": out})
}

func (h *Handler) getLeaderboard(w http.ResponseWriter, r *http.Request) {
	t, limit, offset, err := pageQuery(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q := engine.BoardQuery{Cohort: queryValue(r, "cohort"), Limit: limit, Offset: offset, Around: queryValue(r, "around"), AsOf: t}
	id := r.PathValue("id")
	key := pageKey{board: id, cohort: q.Cohort, limit: limit, offset: offset}
	kept := t.IsZero() && q.Around == "" // boardcache.go
	if kept {
		if body, length, ok := h.pages.get(key, h.svc.Generation()); ok {
			writeJSONBodyLength(w, r, body, length)
			return
		}
	}
	bb := boardPool.Get().(*boardBuf)
	defer boardPool.Put(bb)
	var page engine.BoardPage
	var gen uint64
	err = h.svc.ReadGeneration(func(e *engine.Engine, g uint64) error {
		gen = g
		page, err = e.LeaderboardInto(id, q, bb.rows)
		return err
	})
	if err != nil {
		writeError(w, err)
		return
	}
	if cap(page.Entries) <= 1000 { // keep what a page may need, no more
		bb.rows = page.Entries[:0]
	}
	bb.json = writeBoardJSON(w, r, &page, bb.json[:0])
	if kept {
		h.pages.put(key, gen, bb.json)
	}
}

func (h *Handler) getLedger(w http.ResponseWriter, r *http.Request) {
	from, err := timeParam(r, "from")
	if err != nil {
		writeError(w, err)
		return
	}
	to, err := timeParam(r, "to")
	if err != nil {
		writeError(w, err)
		return
	}
	limit, err := intParam(r, "limit", 0)
	if err != nil {
		writeError(w, err)
		return
	}
	// as_of: only what had occurred by then.
	at, err := asOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if !at.IsZero() && (to.IsZero() || at.Before(to)) {
		to = at.Add(time.Nanosecond)
	}
	// offset skips the newest entries, as limit keeps them: limit=100 then
	// limit=100&offset=100 reads a ledger back in time a page at a time.
	offset, err := intParam(r, "offset", 0)
	if err != nil {
		writeError(w, err)
		return
	}
	f := engine.LedgerFilter{Partner: r.URL.Query().Get("partner"), Member: r.URL.Query().Get("member"), From: from, To: to}
	if limit > 0 {
		f.Limit = limit + offset
	}
	var entries []engine.LedgerEntry
	err = h.svc.Read(func(e *engine.Engine) error {
		entries, err = e.Ledger(f)
		return err
	})
	if err != nil {
		writeError(w, err)
		return
	}
	entries = entries[:max(0, len(entries)-offset)]
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

func (h *Handler) postAdjustment(w http.ResponseWriter, r *http.Request) {
	var a rung.Adjustment
	if err := decodeBody(w, r, &a); err != nil {
		writeError(w, err)
		return
	}
	out, err := h.svc.Adjust(r.Context(), a, actor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"adjustment": out})
}

func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := h.svc.Store().APIKeys(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	if keys == nil {
		keys = []rung.APIKey{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

func (h *Handler) createKey(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name  string `json:"name"`
		Scope string `json:"scope"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		writeError(w, err)
		return
	}
	sc, err := rung.ParseScope(body.Scope)
	if err != nil {
		writeError(w, err)
		return
	}
	k, secret, err := h.svc.CreateAPIKey(r.Context(), body.Name, sc, actor(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"key": k, "secret": secret})
}

func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.RevokeAPIKey(r.Context(), r.PathValue("id"), actor(r)); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "status": "revoked"})
}

func (h *Handler) getAudit(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 100)
	if err != nil {
		writeError(w, err)
		return
	}
	// before (an entry id, the last page's next) reads the entries older
	// than it: the log a page at a time, newest first.
	before, err := intParam(r, "before", 0)
	if err != nil {
		writeError(w, err)
		return
	}
	entries, err := h.svc.Store().Audit(r.Context(), store.AuditFilter{Target: r.URL.Query().Get("target"), Limit: limit, Before: int64(before)})
	if err != nil {
		writeError(w, err)
		return
	}
	if entries == nil {
		entries = []rung.AuditEntry{}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].ID > entries[j].ID })
	out := map[string]any{"entries": entries}
	page := limit
	if page == 0 {
		page = 100 // the store's default
	}
	if n := len(entries); n > 0 && n >= page {
		out["next"] = entries[n-1].ID // there may be more
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) rebuild(w http.ResponseWriter, r *http.Request) {
	n, took, err := h.svc.Rebuild(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": n, "took_ms": took.Milliseconds()})
}

var svcValidate = service.ValidateProgram
