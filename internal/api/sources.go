package api

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/source"
	"github.com/rung-dev/rung/internal/store"
)

// maxDelivery is the largest webhook body a source takes; CSV imports take
// MaxBody.
const maxDelivery = 8 << 20

// sourceRoutes adds the source endpoints (docs/sources.md): CRM and LMS
// deliveries signed by their sender (no API key), CSV imports, and the
// deliveries kept for replay.
func (h *Handler) sourceRoutes() {
	x := source.New(h.svc, h.log, source.SecretsFromEnv())
	base := source.SecretsFromEnv().URL
	m := h.mux
	m.HandleFunc("POST /api/v1/sources/hubspot", h.sourceDelivery(x, source.KindHubSpot, base))
	m.HandleFunc("POST /api/v1/sources/salesforce/outbound/{token}", h.sourceDelivery(x, source.KindSalesforce, base))
	m.HandleFunc("POST /api/v1/sources/salesforce/cdc", h.sourceDelivery(x, source.KindSalesforceCDC, base))
	m.HandleFunc("POST /api/v1/sources/webhook", h.sourceDelivery(x, source.KindWebhook, base))
	m.Handle("POST /api/v1/sources/csv", h.auth(rung.ScopeIngest, h.sourceCSV(x)))
	m.Handle("GET /api/v1/sources/deliveries", h.auth(rung.ScopeAdmin, h.listDeliveries))
	m.Handle("GET /api/v1/sources/deliveries/{id}", h.auth(rung.ScopeAdmin, h.getDelivery))
	m.Handle("POST /api/v1/sources/deliveries/{id}/replay", h.auth(rung.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		res, err := x.Replay(r.Context(), r.PathValue("id"), actor(r))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}))
}

// signedHeaders are the headers kept with a delivery to verify it again.
var signedHeaders = []string{source.HeaderHubSpotSignature, source.HeaderHubSpotTimestamp, source.HeaderSignature, source.HeaderTimestamp}

// sourceDelivery receives a signed delivery of one kind.
func (h *Handler) sourceDelivery(x *source.Intake, kind, base string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := x.Configured(kind); err != nil {
			writeError(w, err)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDelivery))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeError(w, rung.Errorf(rung.ETOOLARGE, "the delivery is larger than %d MiB", maxDelivery>>20))
				return
			}
			writeError(w, rung.Errorf(rung.EINVALID, "reading the delivery: %v", err))
			return
		}
		req := source.Request{Kind: kind, Method: r.Method, URI: requestURI(r, base), Body: body, Token: r.PathValue("token"), Headers: map[string]string{}}
		for _, k := range signedHeaders {
			if v := r.Header.Get(k); v != "" {
				req.Headers[k] = v
			}
		}
		if kind == source.KindSalesforce {
			// The token is a secret: the kept URI leaves it out.
			req.URI = strings.Replace(req.URI, "/outbound/"+url.PathEscape(req.Token), "/outbound/…", 1)
		}
		res, err := x.Receive(r.Context(), req)
		if err != nil {
			var re *rung.Error
			if errors.As(err, &re) && re.Code == rung.EUNAUTHORIZED {
				h.log.Warn("source delivery unauthorized", "source", kind, "remote", r.RemoteAddr, "err", re.Message)
			}
			writeError(w, err)
			return
		}
		if kind == source.KindSalesforce {
			// Salesforce resends until it gets the Ack; a rejected message
			// is kept for replay, so it is acknowledged too.
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			io.WriteString(w, source.OutboundAck)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// requestURI is the full URI a request was sent to, as its sender signed
// it: the server's public address (RUNG_URL) when set, else the scheme and
// host the request shows.
func requestURI(r *http.Request, base string) string {
	if base != "" {
		if u, err := url.Parse(base); err == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host + r.URL.RequestURI()
		}
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// sourceCSV imports a HubSpot or Salesforce export, or a plain CSV:
// ?source=hubspot|salesforce|csv&object=NAME.
func (h *Handler) sourceCSV(x *source.Intake) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		kinds := map[string]string{"hubspot": source.KindHubSpotCSV, "salesforce": source.KindSalesforceCSV, "csv": source.KindCSV}
		src := r.URL.Query().Get("source")
		kind, ok := kinds[src]
		if !ok {
			writeError(w, rung.Errorf(rung.EINVALID, "source=%q: expected source=hubspot, salesforce or csv", src))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			writeError(w, rung.Errorf(rung.ETOOLARGE, "the file is larger than %d MiB: split it", MaxBody>>20))
			return
		}
		res, err := x.Receive(r.Context(), source.Request{Kind: kind, Method: r.Method, URI: r.URL.RequestURI(), Body: body,
			Object: r.URL.Query().Get("object"), By: actor(r)})
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// deliveryJSON is a kept delivery as the API shows it.
type deliveryJSON struct {
	ID         string            `json:"id"`
	Source     string            `json:"source"`
	ReceivedAt string            `json:"received_at"`
	Status     string            `json:"status"`
	Reason     string            `json:"reason,omitempty"`
	Events     int               `json:"events"`
	Attempts   int               `json:"attempts"`
	UpdatedAt  string            `json:"updated_at"`
	Method     string            `json:"method,omitempty"`
	URI        string            `json:"uri,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Body       *string           `json:"body,omitempty"`
}

func deliveryOut(d store.SourceDelivery, withBody bool) deliveryJSON {
	out := deliveryJSON{ID: d.ID, Source: d.Source, ReceivedAt: d.ReceivedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Status: d.Status, Reason: d.Reason, Events: d.Events, Attempts: d.Attempts,
		UpdatedAt: d.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	if withBody {
		b := string(d.Body)
		out.Method, out.URI, out.Headers, out.Body = d.Method, d.URI, d.Headers, &b
	}
	return out
}

func (h *Handler) listDeliveries(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	if status != "" && status != store.DeliveryApplied && status != store.DeliveryRejected {
		writeError(w, rung.Errorf(rung.EINVALID, "status=%q: expected applied or rejected", status))
		return
	}
	limit, err := intParam(r, "limit", 100)
	if err != nil {
		writeError(w, err)
		return
	}
	ds, err := h.svc.Store().ListSourceDeliveries(r.Context(), store.SourceDeliveryFilter{Status: status, Source: r.URL.Query().Get("source"), Limit: min(max(limit, 1), 1000)})
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = deliveryOut(d, false)
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
}

func (h *Handler) getDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Store().SourceDelivery(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, deliveryOut(d, true))
}
