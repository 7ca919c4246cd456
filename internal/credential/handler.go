package credential

import (
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
)

//go:embed verify.html
var templateFiles embed.FS

var verifyPage = template.Must(template.ParseFS(templateFiles, "verify.html"))

// Handler serves the public face of the credentials, to anyone:
//
//	GET /credentials/{id}          the signed credential (JSON-LD); browsers
//	                               asking for HTML are sent to the page
//	GET /credentials/{id}/verify   a verification page for people
//	GET /credentials/status/{list} a signed BitstringStatusListCredential
//	GET /.well-known/did.json      the issuer's did:web document
//	GET /.well-known/jwks.json     the issuer's keys as a JWK set
type Handler struct {
	iss *Issuer
	log *slog.Logger
	mux *http.ServeMux
}

// NewHandler returns the handler for an issuer; log may be nil.
func NewHandler(iss *Issuer, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &Handler{iss: iss, log: log, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /.well-known/did.json", h.didDocument)
	h.mux.HandleFunc("GET /.well-known/jwks.json", h.jwks)
	h.mux.HandleFunc("GET /credentials/{id}", h.credential)
	// One pattern for both, since /credentials/status/verify would match
	// "status/{list}" and "{id}/verify" alike.
	h.mux.HandleFunc("GET /credentials/{id}/{part}", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.PathValue("id") == "status":
			h.statusList(w, r)
		case r.PathValue("part") == "verify":
			h.verify(w, r)
		default:
			http.NotFound(w, r)
		}
	})
	return h
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// fail answers an error: 404 for what does not exist, 500 (logged) for the
// rest.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if rung.ErrorCode(err) == rung.ENOTFOUND {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	h.log.ErrorContext(r.Context(), "credentials", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// public marks a response as readable by verifiers on any origin.
func public(w http.ResponseWriter, contentType, cache string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", cache)
}

func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, contentType string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	public(w, contentType, "public, max-age=300")
	w.Write(append(b, '\n'))
}

func (h *Handler) didDocument(w http.ResponseWriter, r *http.Request) {
	doc, err := h.iss.DIDDocument(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeJSON(w, r, "application/did+ld+json", doc)
}

func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	set, err := h.iss.JWKSet(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeJSON(w, r, "application/jwk-set+json", set)
}

func (h *Handler) credential(w http.ResponseWriter, r *http.Request) {
	c, err := h.iss.Credential(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// A person following the credential's id in a browser gets the page.
	if accept := r.Header.Get("Accept"); strings.HasPrefix(accept, "text/html") {
		http.Redirect(w, r, h.iss.VerifyURL(c.ID), http.StatusSeeOther)
		return
	}
	public(w, "application/ld+json", "no-cache")
	w.Write(c.Body)
}

func (h *Handler) statusList(w http.ResponseWriter, r *http.Request) {
	list, err := strconv.Atoi(r.PathValue("part"))
	if err != nil || list < 1 || strconv.Itoa(list) != r.PathValue("part") {
		http.NotFound(w, r)
		return
	}
	body, err := h.iss.StatusListCredential(r.Context(), list)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Short-lived: a revocation should reach verifiers within minutes.
	public(w, "application/ld+json", "public, max-age=60")
	w.Write(body)
}

// pageData is what verify.html shows.
type pageData struct {
	ID, JSONURL             string
	Name, Description       string
	Criteria, Image         string
	IssuerName, IssuerURL   string
	IssuerDID               string
	ValidFrom, ValidUntil   string
	Evidence                []Evidence
	Check                   CheckResult
	StatusText, StatusClass string
	ProofText, ProofClass   string
	CheckedAt               string
}

func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := h.iss.Credential(ctx, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := h.iss.page(ctx, c.ID, c.Body)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:")
	if err := verifyPage.Execute(w, d); err != nil {
		h.log.ErrorContext(ctx, "credentials: verify page", "id", c.ID, "err", err)
	}
}

// page reads what the verification page shows from the credential itself,
// not from the store: the page shows what a holder would present.
func (iss *Issuer) page(ctx context.Context, id string, body []byte) pageData {
	var doc struct {
		Name              string
		Issuer            struct{ ID, Name, URL string }
		ValidFrom         string
		ValidUntil        string
		CredentialSubject struct {
			Achievement struct {
				Name, Description string
				Criteria          struct{ Narrative string }
				Image             struct{ ID string }
			}
		} `json:"credentialSubject"`
		Evidence []Evidence
	}
	json.Unmarshal(body, &doc)
	a := doc.CredentialSubject.Achievement
	check := iss.Check(ctx, body)
	d := pageData{
		ID: id, JSONURL: iss.CredentialURL(id),
		Name: a.Name, Description: a.Description, Criteria: a.Criteria.Narrative, Image: a.Image.ID,
		IssuerName: doc.Issuer.Name, IssuerURL: doc.Issuer.URL, IssuerDID: doc.Issuer.ID,
		Evidence: doc.Evidence, Check: check,
		CheckedAt: iss.now().UTC().Format("2 January 2006, 15:04 UTC"),
	}
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 January 2006")
	}
	d.ValidFrom, d.ValidUntil = date(check.ValidFrom), date(check.ValidUntil)
	if check.ProofVerified {
		d.ProofText, d.ProofClass = "The signature is valid: "+d.IssuerName+" issued this credential and it has not been changed.", "ok"
	} else {
		d.ProofText, d.ProofClass = "The signature does not verify: "+check.ProofError, "bad"
	}
	switch check.Status {
	case StatusActive:
		d.StatusText, d.StatusClass = "Valid", "ok"
	case StatusRevoked:
		d.StatusText, d.StatusClass = "Revoked by the issuer", "bad"
	case StatusExpired:
		d.StatusText, d.StatusClass = "Expired on "+d.ValidUntil, "bad"
	case StatusNotYetValid:
		d.StatusText, d.StatusClass = "Not valid before "+d.ValidFrom, "bad"
	default:
		d.StatusText, d.StatusClass = "Unknown: "+check.StatusError, "bad"
	}
	return d
}
